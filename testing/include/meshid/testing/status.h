#pragma once

#include <string>

#include "absl/status/status.h"

namespace meshid::testing {

// MessageOf returns a status's message as a std::string, for gMock's string matchers.
inline std::string MessageOf(const absl::Status& status) { return std::string(status.message()); }

}  // namespace meshid::testing
