#pragma once

// Private to the agent module: the node agent's Prometheus metrics.

#include <map>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "meshid/telemetry/metrics.h"

namespace meshid::agent {

class AgentMetrics {
 public:
  explicit AgentMetrics(telemetry::Metrics& metrics);

  // SetSvidNotAfter replaces the per-SPIFFE-ID expiry gauges (the latest expiry per ID).
  void SetSvidNotAfter(const std::map<std::string, absl::Time>& not_after);
  void SetNodeSvidNotAfter(absl::Time not_after);
  // Renewals counts `n` SVID issuances with `result` ("ok", "error").
  void Renewals(const std::string& result, double n = 1);
  void SetCaReachable(bool reachable);
  void SetBundleSequence(uint64_t sequence);
  void SetEntries(size_t entries);
  void ClientConnected();
  void ClientDisconnected();
  // WorkloadPush records how long one change took to be handed to every open stream.
  void WorkloadPush(absl::Duration took);

 private:
  prometheus::Family<prometheus::Gauge>& svid_not_after_;
  prometheus::Gauge& node_not_after_;
  prometheus::Family<prometheus::Counter>& renewals_;
  prometheus::Gauge& ca_reachable_;
  prometheus::Gauge& bundle_sequence_;
  prometheus::Gauge& entries_;
  prometheus::Gauge& clients_;
  prometheus::Histogram& push_duration_;

  std::mutex mu_;  // guards the per-ID gauges
  std::map<std::string, prometheus::Gauge*> svid_gauges_;
};

}  // namespace meshid::agent
