#include "meshid/telemetry/metrics.h"

#include <sstream>

#include "prometheus/text_serializer.h"

namespace meshid::telemetry {

std::string Metrics::TextExposition() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace meshid::telemetry
