#include "agent_metrics.h"

namespace meshid::agent {
namespace {

prometheus::Gauge& SingleGauge(telemetry::Metrics& metrics, const std::string& name,
                               const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(metrics.registry()).Add({});
}

}  // namespace

AgentMetrics::AgentMetrics(telemetry::Metrics& metrics)
    : svid_not_after_(prometheus::BuildGauge()
                          .Name("meshid_agent_svid_not_after_seconds")
                          .Help("notAfter (Unix seconds) of the X509-SVID held for each SPIFFE ID.")
                          .Register(metrics.registry())),
      node_not_after_(SingleGauge(metrics, "meshid_agent_node_svid_not_after_seconds",
                                  "notAfter (Unix seconds) of the node's own SVID.")),
      renewals_(prometheus::BuildCounter()
                    .Name("meshid_agent_svid_renewals_total")
                    .Help("Workload X509-SVID issuances and renewals, by result.")
                    .Register(metrics.registry())),
      ca_reachable_(SingleGauge(metrics, "meshid_agent_ca_reachable",
                                "1 when the last call to the CA succeeded, else 0.")),
      bundle_sequence_(SingleGauge(metrics, "meshid_agent_bundle_sequence",
                                   "Sequence number of the trust bundle the agent holds.")),
      entries_(SingleGauge(metrics, "meshid_agent_entries", "Registration entries of this node.")),
      clients_(SingleGauge(metrics, "meshid_agent_workload_api_clients",
                           "Open Workload API connections.")),
      push_duration_(
          prometheus::BuildHistogram()
              .Name("meshid_agent_workload_push_duration_seconds")
              .Help("Time to hand one change (renewal, bundle, entries) to every open "
                    "FetchX509SVID stream: written, or queued behind a write in progress.")
              .Register(metrics.registry())
              .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025,
                                                               0.05, 0.1, 0.25, 0.5, 1, 2.5})) {
  for (const char* result : {"ok", "error"}) renewals_.Add({{"result", result}});
}

void AgentMetrics::SetSvidNotAfter(const std::map<std::string, absl::Time>& not_after) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = svid_gauges_.begin(); it != svid_gauges_.end();) {
    if (not_after.count(it->first) == 0) {
      svid_not_after_.Remove(it->second);
      it = svid_gauges_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [id, t] : not_after) {
    prometheus::Gauge*& gauge = svid_gauges_[id];
    if (gauge == nullptr) gauge = &svid_not_after_.Add({{"spiffe_id", id}});
    gauge->Set(static_cast<double>(absl::ToUnixSeconds(t)));
  }
}

void AgentMetrics::SetNodeSvidNotAfter(absl::Time not_after) {
  node_not_after_.Set(static_cast<double>(absl::ToUnixSeconds(not_after)));
}

void AgentMetrics::Renewals(const std::string& result, double n) {
  renewals_.Add({{"result", result}}).Increment(n);
}

void AgentMetrics::SetCaReachable(bool reachable) { ca_reachable_.Set(reachable ? 1 : 0); }

void AgentMetrics::SetBundleSequence(uint64_t sequence) {
  bundle_sequence_.Set(static_cast<double>(sequence));
}

void AgentMetrics::SetEntries(size_t entries) { entries_.Set(static_cast<double>(entries)); }

void AgentMetrics::ClientConnected() { clients_.Increment(); }

void AgentMetrics::ClientDisconnected() { clients_.Decrement(); }

void AgentMetrics::WorkloadPush(absl::Duration took) {
  push_duration_.Observe(absl::ToDoubleSeconds(took));
}

}  // namespace meshid::agent
