#pragma once

// Private to the ca module: the CA server's Prometheus metrics.

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "issuing_ca.h"
#include "meshid/telemetry/metrics.h"

namespace meshid::ca {

class CaMetrics {
 public:
  explicit CaMetrics(telemetry::Metrics& metrics);

  // SvidsIssued counts `n` SVID requests that ended with `result` ("ok", "invalid",
  // "denied", "error").
  void SvidsIssued(const std::string& result, double n = 1);
  void ObserveSign(absl::Duration d);

  // SetCertificates replaces the not_after gauges: level is "root", "intermediate" or
  // "issuing"; one gauge per (level, serial).
  struct CertificateInfo {
    std::string level;
    std::string serial;
    absl::Time not_after;
  };
  void SetCertificates(const std::vector<CertificateInfo>& certs);
  void SetSlots(const std::vector<SlotView>& slots);
  void SetBundleSequence(uint64_t sequence);
  void SetNodes(int active, int evicted);
  void SetEntries(int entries);
  // SetUpstreamState: 0 ok, 1 below the warning threshold, 2 below the critical one.
  void SetUpstreamState(int state);

 private:
  prometheus::Family<prometheus::Counter>& issued_;
  prometheus::Family<prometheus::Histogram>& sign_duration_family_;
  prometheus::Histogram& sign_duration_;
  prometheus::Family<prometheus::Gauge>& not_after_;
  prometheus::Family<prometheus::Gauge>& slot_state_;
  prometheus::Gauge& bundle_sequence_;
  prometheus::Family<prometheus::Gauge>& nodes_;
  prometheus::Gauge& entries_;
  prometheus::Gauge& upstream_state_;

  std::mutex mu_;  // guards the gauges of the dynamic families below
  std::vector<prometheus::Gauge*> not_after_gauges_;
  std::vector<prometheus::Gauge*> slot_gauges_;
};

}  // namespace meshid::ca
