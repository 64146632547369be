#pragma once

#include "absl/time/time.h"
#include "meshid/base/clock.h"

namespace meshid::testing {

// FakeClock is a Clock that moves only when told to.
class FakeClock final : public base::Clock {
 public:
  explicit FakeClock(absl::Time now) : now_(now) {}
  absl::Time Now() const override { return now_; }
  void Set(absl::Time now) { now_ = now; }
  void Advance(absl::Duration d) { now_ += d; }

 private:
  absl::Time now_;
};

// kTestEpoch is a fixed "now" for tests: certificates are minted relative to it, so no test
// depends on the day it runs.
inline const absl::Time kTestEpoch = absl::FromUnixSeconds(1'800'000'000);  // 2027-01-15

}  // namespace meshid::testing
