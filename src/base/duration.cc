#include "meshid/base/duration.h"

#include <cstdint>
#include <iterator>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace meshid::base {

absl::StatusOr<absl::Duration> ParseDuration(absl::string_view text) {
  std::string s(absl::StripAsciiWhitespace(text));
  if (s.empty()) {
    return absl::InvalidArgumentError("empty duration (examples: 1h, 90m, 30d, 87600h)");
  }
  if (s[0] == '-') {
    return absl::InvalidArgumentError(absl::StrCat("duration \"", s, "\" is negative"));
  }
  // Abseil's parser knows every unit but days; rewrite each "<number>d" into hours.
  std::string rewritten;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && (absl::ascii_isdigit(s[i]) || s[i] == '.')) ++i;
    if (i < s.size() && s[i] == 'd' && i > start) {
      double days = 0;
      if (!absl::SimpleAtod(s.substr(start, i - start), &days)) {
        return absl::InvalidArgumentError(absl::StrCat("invalid duration \"", s, "\""));
      }
      // Fixed notation: StrAppend would write 1e+06 for large counts.
      absl::StrAppend(&rewritten, absl::StrFormat("%.6f", days * 24), "h");
      ++i;
      continue;
    }
    while (i < s.size() && !absl::ascii_isdigit(s[i]) && s[i] != '.') ++i;
    rewritten.append(s, start, i - start);
  }
  absl::Duration d;
  if (!absl::ParseDuration(rewritten, &d) || rewritten == "inf") {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid duration \"", s, "\" (use a number and a unit: 1h, 90m, 30d, 87600h)"));
  }
  return d;
}

std::string HumanDuration(absl::Duration d) {
  if (d < absl::ZeroDuration()) {
    return absl::StrCat("-", HumanDuration(-d));
  }
  struct Unit {
    absl::Duration size;
    const char* suffix;
  };
  static constexpr int64_t kDaysPerYear = 365;
  const Unit units[] = {{absl::Hours(24 * kDaysPerYear), "y"},
                        {absl::Hours(24), "d"},
                        {absl::Hours(1), "h"},
                        {absl::Minutes(1), "m"},
                        {absl::Seconds(1), "s"}};
  for (size_t u = 0; u < std::size(units); ++u) {
    absl::Duration rest;
    int64_t n = absl::IDivDuration(d, units[u].size, &rest);
    if (n == 0) continue;
    std::string out = absl::StrCat(n, units[u].suffix);
    if (u + 1 < std::size(units)) {
      int64_t m = absl::IDivDuration(rest, units[u + 1].size, &rest);
      if (m > 0) absl::StrAppend(&out, " ", m, units[u + 1].suffix);
    }
    return out;
  }
  return "0s";
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace meshid::base
