#pragma once

#include "absl/time/time.h"

namespace meshid::base {

// Clock is the source of the current time. Code that compares against certificate
// validity takes a Clock so that tests can move time.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// SystemClock returns the process-wide wall clock. It is never destroyed.
const Clock& SystemClock();

}  // namespace meshid::base
