#pragma once

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "spdlog/spdlog.h"

// Debian's Abseil has its own string_view, which fmt does not know: format it as text.
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<fmt::string_view> {
  template <typename FormatContext>
  auto format(absl::string_view s, FormatContext& ctx) const {
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(s.data(), s.size()), ctx);
  }
};

namespace meshid::base {

// Logger returns the logger of one component ("cli", "pki", "ca", ...), creating it on
// first use. Every logger writes one line per event to stderr with a UTC timestamp, the
// level and the component. Never pass key material to a logger.
std::shared_ptr<spdlog::logger> Logger(const std::string& component);

}  // namespace meshid::base
