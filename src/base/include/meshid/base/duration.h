#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace meshid::base {

// ParseDuration reads a duration such as "1h", "90m", "87600h", "30d" or "1h30m". Besides
// the units Go and Abseil accept (ns, us, ms, s, m, h) it accepts "d" for 24 hours, which
// is how operators speak of certificate lifetimes. Negative durations are rejected.
absl::StatusOr<absl::Duration> ParseDuration(absl::string_view text);

// HumanDuration renders `d` for people, to the two largest units: "3y 120d", "89d 4h",
// "3h 12m", "45s". Years are 365 days. A negative duration renders with a leading '-'.
std::string HumanDuration(absl::Duration d);

// Rfc3339 renders `t` in UTC to the second: "2027-01-15T08:00:00Z".
std::string Rfc3339(absl::Time t);

}  // namespace meshid::base
