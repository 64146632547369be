#include "ca_metrics.h"

namespace meshid::ca {

CaMetrics::CaMetrics(telemetry::Metrics& metrics)
    : issued_(prometheus::BuildCounter()
                  .Name("meshid_ca_svids_issued_total")
                  .Help("X509-SVID requests (workload, node and server), by result.")
                  .Register(metrics.registry())),
      sign_duration_family_(prometheus::BuildHistogram()
                                .Name("meshid_ca_sign_duration_seconds")
                                .Help("Time to check a CSR and sign one SVID.")
                                .Register(metrics.registry())),
      sign_duration_(sign_duration_family_.Add(
          {}, prometheus::Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                      0.01, 0.025, 0.05, 0.1, 0.25})),
      not_after_(prometheus::BuildGauge()
                     .Name("meshid_ca_certificate_not_after_seconds")
                     .Help("notAfter (Unix seconds) of each CA certificate the server relies on.")
                     .Register(metrics.registry())),
      slot_state_(prometheus::BuildGauge()
                      .Name("meshid_ca_issuing_slot_state")
                      .Help("1 for the state each issuing CA slot is in (active, prepared, "
                            "retired, empty).")
                      .Register(metrics.registry())),
      bundle_sequence_(prometheus::BuildGauge()
                           .Name("meshid_ca_bundle_sequence")
                           .Help("Sequence number of the trust bundle.")
                           .Register(metrics.registry())
                           .Add({})),
      nodes_(prometheus::BuildGauge()
                 .Name("meshid_ca_nodes")
                 .Help("Attested nodes, by state.")
                 .Register(metrics.registry())),
      entries_(prometheus::BuildGauge()
                   .Name("meshid_ca_entries")
                   .Help("Registration entries.")
                   .Register(metrics.registry())
                   .Add({})),
      upstream_state_(prometheus::BuildGauge()
                          .Name("meshid_ca_upstream_lifetime_state")
                          .Help("The upstream CA's remaining life: 0 ok, 1 below the warning "
                                "threshold, 2 below the critical threshold.")
                          .Register(metrics.registry())
                          .Add({})) {
  for (const char* result : {"ok", "invalid", "denied", "error"}) issued_.Add({{"result", result}});
}

void CaMetrics::SvidsIssued(const std::string& result, double n) {
  issued_.Add({{"result", result}}).Increment(n);
}

void CaMetrics::ObserveSign(absl::Duration d) { sign_duration_.Observe(absl::ToDoubleSeconds(d)); }

void CaMetrics::SetCertificates(const std::vector<CertificateInfo>& certs) {
  std::lock_guard<std::mutex> lock(mu_);
  for (prometheus::Gauge* g : not_after_gauges_) not_after_.Remove(g);
  not_after_gauges_.clear();
  for (const CertificateInfo& c : certs) {
    prometheus::Gauge& g = not_after_.Add({{"level", c.level}, {"serial", c.serial}});
    g.Set(static_cast<double>(absl::ToUnixSeconds(c.not_after)));
    not_after_gauges_.push_back(&g);
  }
}

void CaMetrics::SetSlots(const std::vector<SlotView>& slots) {
  std::lock_guard<std::mutex> lock(mu_);
  for (prometheus::Gauge* g : slot_gauges_) slot_state_.Remove(g);
  slot_gauges_.clear();
  for (const char* name : {"A", "B"}) {
    // A slot holds at most one CA that is not retired; show that one, else the newest retired.
    const char* state = "empty";
    for (const SlotView& s : slots) {
      if (s.slot != name) continue;
      if (s.state == store::SlotState::kActive) state = "active";
      if (s.state == store::SlotState::kPrepared) state = "prepared";
      if (s.state == store::SlotState::kRetired && std::string(state) == "empty") state = "retired";
    }
    prometheus::Gauge& g = slot_state_.Add({{"slot", name}, {"state", state}});
    g.Set(1);
    slot_gauges_.push_back(&g);
  }
}

void CaMetrics::SetBundleSequence(uint64_t sequence) {
  bundle_sequence_.Set(static_cast<double>(sequence));
}

void CaMetrics::SetNodes(int active, int evicted) {
  nodes_.Add({{"state", "active"}}).Set(active);
  nodes_.Add({{"state", "evicted"}}).Set(evicted);
}

void CaMetrics::SetEntries(int entries) { entries_.Set(entries); }

void CaMetrics::SetUpstreamState(int state) { upstream_state_.Set(state); }

}  // namespace meshid::ca
