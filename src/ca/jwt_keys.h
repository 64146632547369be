#pragma once

// Private to the ca module: the CA's JWT-SVID signing keys. Like the issuing CA (SPIRE's
// model), a key lives `key_ttl`; its successor is made and published in the bundle at half
// of its life, and takes over signing at 5/6, so that every validator holds a key before
// any token it signed arrives. A key leaves the bundle when it expires. Private keys are
// files in `key_dir` (0600); the store publishes only public halves.

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "meshid/base/clock.h"
#include "meshid/pki/key.h"
#include "meshid/pki/spiffe_id.h"
#include "meshid/store/data_store.h"

namespace meshid::ca {

class BundleState;

struct JwtKeyOptions {
  absl::Duration key_ttl = absl::Hours(24);
  std::string key_dir;
};

class JwtKeyManager {
 public:
  JwtKeyManager(store::DataStore& store, BundleState& bundle, JwtKeyOptions options,
                const base::Clock& clock)
      : store_(store), bundle_(bundle), options_(std::move(options)), clock_(clock) {}

  // Tick loads the published keys, withdraws expired ones and publishes a successor when one
  // is due; it returns when it next has something to do.
  absl::StatusOr<absl::Time> Tick();

  // Sign returns a JWT-SVID for `subject` and `audience` that expires `ttl` from now, or
  // earlier if the signing key expires first, and that expiry.
  absl::StatusOr<std::pair<std::string, absl::Time>> Sign(const pki::SpiffeId& subject,
                                                          const std::vector<std::string>& audience,
                                                          absl::Duration ttl);

 private:
  struct Key {
    std::string id;
    pki::PrivateKey key;
    absl::Time not_after;
  };
  std::string KeyPath(const std::string& id) const;
  absl::Status Publish(absl::Time now);

  store::DataStore& store_;
  BundleState& bundle_;
  const JwtKeyOptions options_;
  const base::Clock& clock_;
  std::mutex mu_;
  std::vector<Key> keys_;  // loaded, oldest first
};

}  // namespace meshid::ca
