#pragma once

#include <memory>
#include <string>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace meshid::telemetry {

// Metrics is a process's metric registry. Components add their families to registry() with
// prometheus-cpp's builders (prometheus::BuildCounter() ... .Register(metrics.registry()));
// the registry and its metrics are thread-safe.
class Metrics {
 public:
  Metrics() : registry_(std::make_shared<prometheus::Registry>()) {}

  prometheus::Registry& registry() { return *registry_; }

  // TextExposition renders every metric in the Prometheus text format, version 0.0.4.
  std::string TextExposition() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
};

}  // namespace meshid::telemetry
