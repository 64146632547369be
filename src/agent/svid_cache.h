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

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "grpcpp/support/slice.h"
#include "meshid/base/secret.h"
#include "meshid/ca/v1/ca.pb.h"
#include "meshid/pki/bundle.h"
#include "meshid/pki/jwt.h"

namespace meshid::agent {

// CachedSvid is one workload X509-SVID with its key, which exists only in memory.
struct CachedSvid {
  std::string entry_id;
  std::string spiffe_id;
  // The Workload API's X509SVID fields spiffe_id, x509_svid and x509_svid_key (PKCS#8 DER)
  // in protobuf wire format, encoded once at issuance. Responses refer to this buffer
  // without copying it and append the bundle and hint (x509_streams.h); it is wiped when
  // the last of them is gone. The key exists nowhere else.
  grpc::Slice x509_fields;
  absl::Time not_before;
  absl::Time not_after;
  absl::Time renew_at;
  // The entry fields the SVID was issued for; a change means re-issuing.
  std::string issued_for;
};

// EntryFingerprint returns what of `entry` an SVID depends on (ID, DNS names, TTL).
std::string EntryFingerprint(const ca::v1::Entry& entry);

using EntryMap = absl::flat_hash_map<std::string, std::shared_ptr<const ca::v1::Entry>>;
using SvidMap = absl::flat_hash_map<std::string, std::shared_ptr<const CachedSvid>>;

// Snapshot is the agent's state at one generation. Never modified once published.
struct Snapshot {
  uint64_t generation = 0;
  // Grow only when the entries, or the SVIDs, change: streams re-match selectors, and the
  // manager re-plans renewals, only then (not on a bundle change).
  uint64_t entries_version = 0;
  uint64_t svids_version = 0;
  std::shared_ptr<const pki::TrustBundle> bundle;
  std::string bundle_der;  // the bundle's roots, DER concatenated
  // An X509SVID message with only `bundle` set, serialized: the tail of every SVID sent.
  grpc::Slice x509_bundle_field;
  // The bundle's JWT authorities, parsed once per bundle, and their JWK Set.
  std::vector<pki::JwtAuthority> jwt_authorities;
  std::string jwks_json;
  // By entry ID. Shared between snapshots: a change copies only the map it modifies (see
  // MutableMap), so that a bundle change copies neither.
  std::shared_ptr<const EntryMap> entries = std::make_shared<const EntryMap>();
  std::shared_ptr<const SvidMap> svids = std::make_shared<const SvidMap>();
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

// MutableMap replaces `map` in a snapshot being changed with a copy, and returns the copy.
template <typename Map>
Map& MutableMap(std::shared_ptr<const Map>& map) {
  auto copy = std::make_shared<Map>(*map);
  Map& mutable_map = *copy;
  map = std::move(copy);
  return mutable_map;
}

// EncodeX509Fields returns the X509SVID fields of CachedSvid::x509_fields.
grpc::Slice EncodeX509Fields(const std::string& spiffe_id, const std::string& chain_der,
                             const base::SecretString& key_der);

// SetBundle puts `bundle` into `snapshot`.
void SetBundle(Snapshot& snapshot, pki::TrustBundle bundle);

}  // namespace meshid::agent
