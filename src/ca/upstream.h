#pragma once

// Private to the ca module: loading and vetting the upstream CA directory.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "meshid/pki/ca_directory.h"
#include "meshid/pki/spiffe_id.h"

namespace meshid::ca {

struct UpstreamCheck {
  pki::CaDirectory upstream;
  std::vector<std::string> warnings;  // to log at every start
};

// LoadUpstream reads the upstream directory and refuses what the server must not run on: a
// CA of another trust domain, one that is not valid at `now`, one whose pathlen leaves no
// room for issuing CAs, and, unless `allow_root_key_online`, a root private key readable in
// the directory (the upstream itself being a root included).
absl::StatusOr<UpstreamCheck> LoadUpstream(const std::string& dir,
                                           const pki::TrustDomain& trust_domain, absl::Time now,
                                           bool allow_root_key_online);

// UpstreamLifetimeState is 0 when the upstream has more than 180 days left, 1 below that, 2
// below 30 days (`meshid check`'s intermediate thresholds).
int UpstreamLifetimeState(const pki::Certificate& upstream, absl::Time now);

}  // namespace meshid::ca
