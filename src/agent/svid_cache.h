#pragma once

// Private to the agent module: what the agent holds for its workloads (the bundle, the
// node's registration entries and one SVID per entry) as immutable snapshots that Workload
// API streams read without locks, and a generation counter that wakes them on any change.

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "meshid/base/secret.h"
#include "meshid/ca/v1/ca.pb.h"
#include "meshid/pki/bundle.h"
#include "meshid/pki/jwt.h"

namespace meshid::agent {

// CachedSvid is one workload X509-SVID with its key, which exists only in memory.
struct CachedSvid {
  std::string entry_id;
  std::string spiffe_id;
  std::string serial;
  std::string chain_der;  // DER certificates, leaf first, as the Workload API sends them
  std::shared_ptr<const base::SecretString> key_der;  // PKCS#8 DER
  absl::Time not_before;
  absl::Time not_after;
  absl::Time renew_at;
  // The entry fields the SVID was issued for; a change means re-issuing.
  std::string issued_for;
};

// EntryFingerprint returns what of `entry` an SVID depends on (ID, DNS names, TTL).
std::string EntryFingerprint(const ca::v1::Entry& entry);

// Snapshot is the agent's state at one generation. Never modified once published.
struct Snapshot {
  uint64_t generation = 0;
  // Grows only when the set of entries changes, so that streams re-match selectors only then.
  uint64_t entries_version = 0;
  std::shared_ptr<const pki::TrustBundle> bundle;
  std::string bundle_der;  // the bundle's roots, DER concatenated
  // The bundle's JWT authorities, parsed once per bundle, and their JWK Set.
  std::vector<pki::JwtAuthority> jwt_authorities;
  std::string jwks_json;
  std::map<std::string, std::shared_ptr<const ca::v1::Entry>> entries;  // by entry ID
  std::map<std::string, std::shared_ptr<const CachedSvid>> svids;       // by entry ID
};

class SvidCache {
 public:
  SvidCache();

  std::shared_ptr<const Snapshot> Get() const;
  // Update applies `change` to a copy of the current snapshot and publishes it with the next
  // generation, waking every waiter.
  void Update(const std::function<void(Snapshot&)>& change);
  // WaitForChange returns the snapshot once its generation differs from `seen`, at
  // `deadline`, or after Shutdown.
  std::shared_ptr<const Snapshot> WaitForChange(uint64_t seen, absl::Time deadline) const;
  bool shut_down() const;
  void Shutdown();

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::shared_ptr<const Snapshot> current_;
  bool shutdown_ = false;
};

// SetBundle puts `bundle` into `snapshot`.
void SetBundle(Snapshot& snapshot, pki::TrustBundle bundle);

}  // namespace meshid::agent
