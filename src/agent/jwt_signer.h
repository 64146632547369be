#pragma once

// Private to the agent module.

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace meshid::agent {

// JwtSigner mints JWT-SVIDs for the Workload API (the CA signs them).
class JwtSigner {
 public:
  virtual ~JwtSigner() = default;
  // Sign returns a JWT-SVID for the entry `entry_id` and `audience`.
  virtual absl::StatusOr<std::string> Sign(const std::string& entry_id,
                                           const std::vector<std::string>& audience) = 0;
};

}  // namespace meshid::agent
