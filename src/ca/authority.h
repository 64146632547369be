#pragma once

// Private to the ca module: what the CA does, independent of how it is called (gRPC, tests).

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ca_metrics.h"
#include "issuing_ca.h"
#include "jwt_keys.h"
#include "meshid/base/clock.h"
#include "meshid/ca/config.h"
#include "meshid/pki/bundle.h"
#include "meshid/pki/certificate.h"
#include "meshid/pki/csr.h"
#include "meshid/pki/spiffe_id.h"
#include "meshid/store/data_store.h"

namespace meshid::ca {

// IssuedSvid is an X509-SVID as handed out: the leaf as DER, and the issuing CA whose
// chain (the root excluded) goes with it.
struct IssuedSvid {
  pki::SpiffeId id;
  pki::IssuedLeaf leaf;
  std::shared_ptr<const SigningCa> ca;
  // Chain parses the leaf and returns it before the CA chain: for callers off the signing
  // path (the server's own TLS identity, tests).
  absl::StatusOr<std::vector<pki::Certificate>> Chain() const;
};

struct EntrySpec {
  std::string spiffe_id;
  std::string parent_id;
  std::vector<std::string> selectors;
  absl::Duration ttl = absl::ZeroDuration();  // zero: the server's default
  std::vector<std::string> dns_names;
  std::string hint;
};

struct SignItem {
  std::string entry_id;
  std::string csr;  // PEM or DER
};

// kMaxSignBatch bounds one SignSVIDs call.
inline constexpr size_t kMaxSignBatch = 1000;

// AgentSignals are what the CA tells connected agents besides the bundle: a new `entries`
// generation means "sync your entries now", a new `reissue` generation "re-issue every SVID
// now". Both count from 0 at each server start; agents react to any change.
struct AgentSignals {
  uint64_t entries = 0;
  uint64_t reissue = 0;
  friend bool operator==(const AgentSignals&, const AgentSignals&) = default;
};

// BundleState holds the current trust bundle and the agent signals, and wakes those waiting
// for a change of either.
class BundleState {
 public:
  explicit BundleState(pki::TrustDomain trust_domain) : bundle_(std::move(trust_domain)) {}

  absl::Status Set(const store::BundleRecord& record);
  pki::TrustBundle Get() const;
  // WaitForChange returns the bundle once its sequence differs from `seen`, or at
  // `deadline`, or after Shutdown, whichever comes first.
  pki::TrustBundle WaitForChange(uint64_t seen, absl::Time deadline);
  // WaitForEvent returns the bundle and signals once either differs from what was seen, or
  // at `deadline`, or after Shutdown.
  std::pair<pki::TrustBundle, AgentSignals> WaitForEvent(uint64_t seen_sequence,
                                                         const AgentSignals& seen_signals,
                                                         absl::Time deadline);
  void SignalEntriesChanged();
  void RequestReissue();
  // OnChange registers `callback`, run (outside the lock) after every change of the bundle
  // or the signals. Register before the state is shared.
  void OnChange(std::function<void()> callback) { on_change_ = std::move(callback); }
  bool shut_down() const;
  void Shutdown();

 private:
  // Publish wakes the waiters and, once `lock` (on mu_) is released, runs on_change_.
  void Publish(std::unique_lock<std::mutex> lock);

  mutable std::mutex mu_;
  std::condition_variable changed_;
  pki::TrustBundle bundle_;
  AgentSignals signals_;
  bool shutdown_ = false;
  std::function<void()> on_change_;
};

// Authority is the CA's logic: join tokens, node attestation and renewal, registration
// entries, SVID signing, the trust bundle. Every SVID is recorded in the store before it is
// returned. Thread-safe.
class Authority {
 public:
  Authority(const CaConfig& config, store::DataStore& store, IssuingCaManager& cas,
            const base::Clock& clock, CaMetrics& metrics);

  // Initialize loads the bundle, seeding it with the upstream's roots on a first start.
  absl::Status Initialize();

  struct NewToken {
    std::string token;
    store::JoinTokenRecord record;
  };
  absl::StatusOr<NewToken> CreateJoinToken(absl::Duration ttl, const std::string& node_name);

  // AttestNode trades a join token and a CSR for a node SVID. Every token problem is
  // PermissionDenied (unknown, used, expired, for another node).
  absl::StatusOr<IssuedSvid> AttestNode(const std::string& token, absl::string_view csr,
                                        const std::string& node_name);
  absl::StatusOr<IssuedSvid> RenewNode(const pki::SpiffeId& caller, absl::string_view csr);
  absl::StatusOr<std::vector<store::NodeRecord>> ListNodes();
  absl::StatusOr<store::NodeRecord> EvictNode(const std::string& name);

  absl::StatusOr<store::EntryRecord> CreateEntry(const EntrySpec& spec);
  absl::StatusOr<std::vector<store::EntryRecord>> ListEntries(const std::string& parent_id);
  absl::StatusOr<store::EntryRecord> GetEntry(const std::string& id);
  absl::Status DeleteEntry(const std::string& id);

  // CheckActiveNode returns PermissionDenied unless `caller` is an attested, not evicted node.
  absl::Status CheckActiveNode(const pki::SpiffeId& caller) { return ActiveNode(caller).status(); }
  // SyncEntries returns the caller node's entries changed since `revision`.
  absl::StatusOr<store::EntryChanges> SyncEntries(const pki::SpiffeId& caller, int64_t revision);
  // SignSvids issues one SVID per item, all or none: every entry must be the caller's
  // (PermissionDenied) and every CSR sound (InvalidArgument naming the item).
  absl::StatusOr<std::vector<IssuedSvid>> SignSvids(const pki::SpiffeId& caller,
                                                    const std::vector<SignItem>& items);

  // MintJwtSvid returns a JWT-SVID for the caller node's entry `entry_id` and its expiry.
  absl::StatusOr<std::pair<std::string, absl::Time>> MintJwtSvid(
      const pki::SpiffeId& caller, const std::string& entry_id,
      const std::vector<std::string>& audience);
  JwtKeyManager& jwt_keys() { return jwt_keys_; }

  // IssueServerSvid issues the server's own TLS identity, spiffe://<td>/meshid/server.
  absl::StatusOr<std::pair<IssuedSvid, pki::PrivateKey>> IssueServerSvid();

  BundleState& bundle_state() { return bundle_; }
  pki::TrustBundle bundle() const { return bundle_.Get(); }
  absl::StatusOr<pki::TrustBundle> AddRoot(absl::string_view certificate);
  absl::StatusOr<pki::TrustBundle> RemoveRoot(absl::string_view certificate);
  // RequestReissue asks every connected agent to re-issue all its SVIDs now.
  void RequestReissue();

  const pki::SpiffeId& server_id() const { return server_id_; }
  // NodeId returns spiffe://<td>/meshid/node/<name>.
  absl::StatusOr<pki::SpiffeId> NodeId(const std::string& name) const;

 private:
  // ActiveNode returns the node `caller` names, or PermissionDenied.
  absl::StatusOr<store::NodeRecord> ActiveNode(const pki::SpiffeId& caller);
  absl::StatusOr<IssuedSvid> Issue(const pki::SpiffeId& id, const pki::PublicKey& key,
                                   const std::vector<std::string>& dns, absl::Duration ttl,
                                   store::IssuanceRecord& record, const std::string& kind,
                                   const std::string& node);

  const CaConfig config_;
  store::DataStore& store_;
  IssuingCaManager& cas_;
  const base::Clock& clock_;
  CaMetrics& metrics_;
  BundleState bundle_;
  JwtKeyManager jwt_keys_;
  pki::SpiffeId server_id_;
};

// ValidateSelector returns InvalidArgument naming the rule `selector` breaks. Known:
// unix:uid:N, unix:gid:N, unix:user:NAME, unix:group:NAME, unix:path:/ABS, unix:sha256:HEX.
absl::Status ValidateSelector(const std::string& selector);

// ParseWorkloadCsr takes the public key from a node's CSR and refuses what a CA must not
// sign: a bad signature, more than 64 KiB, a CA request, a weak key.
absl::StatusOr<pki::PublicKey> ParseWorkloadCsr(absl::string_view data);

}  // namespace meshid::ca
