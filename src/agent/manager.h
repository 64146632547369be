#pragma once

// Private to the agent module: the agent's side of the CA relationship. It attests the node
// (or loads its saved identity), renews the node SVID at half life, follows the CA's change
// stream and polls entries, and keeps one SVID per entry, issued in batches and renewed at
// the configured fraction of its life. When the CA is unreachable it retries with
// exponential backoff and the cached SVIDs keep being served until they expire.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "agent_metrics.h"
#include "jwt_signer.h"
#include "meshid/agent/ca_client.h"
#include "meshid/agent/config.h"
#include "meshid/base/clock.h"
#include "node_store.h"
#include "svid_cache.h"

namespace meshid::agent {

// kMaxBatch is how many CSRs go to the CA in one SignSVIDs call (the CA takes up to 1000).
inline constexpr int kMaxBatch = 500;

class Manager final : public JwtSigner {
 public:
  // Start obtains the node identity (saved, or attested with the join token), publishes the
  // bundle to `cache` and starts the loops. Every problem before serving is returned.
  static absl::StatusOr<std::unique_ptr<Manager>> Start(const AgentConfig& config,
                                                        bool insecure_bootstrap,
                                                        const base::Clock& clock, SvidCache& cache,
                                                        AgentMetrics& metrics);
  ~Manager();
  void Stop();

  // Sign asks the CA for a JWT-SVID (they are not cached: each call is one CA round trip).
  absl::StatusOr<std::string> Sign(const std::string& entry_id,
                                   const std::vector<std::string>& audience) override;

  // Ready is OK once the node SVID is valid and the first entry sync has completed.
  absl::Status Ready() const;

 private:
  Manager(const AgentConfig& config, const base::Clock& clock, SvidCache& cache,
          AgentMetrics& metrics);

  absl::Status Bootstrap(bool insecure_bootstrap);
  absl::Status Attest(const pki::TrustBundle* bundle, bool insecure);
  // Connect (re)builds client_ from the node SVID and the bundle; with restart_watch the
  // open watch moves to the new channel too.
  absl::Status Connect(bool restart_watch = true);
  std::shared_ptr<CaClient> client() const;

  void Loop();
  // Step does whatever is due at `now`; an error means the CA could not be reached or
  // refused, and the loop backs off.
  absl::Status Step(absl::Time now);
  absl::Status RenewNode();
  absl::Status SyncEntries();
  absl::Status IssueDue(absl::Time now);
  absl::Status IssueBatch(const std::vector<std::shared_ptr<const ca::v1::Entry>>& batch);
  absl::Time NextWake(absl::Time now) const;
  // ApplyBundle keeps a bundle from the CA and reconnects with its roots if it changed.
  absl::Status ApplyBundle(const ca::v1::Bundle& proto);
  struct BundleChange {
    bool changed = false;
    bool removed_root = false;  // a root of the previous bundle is not in the new one
  };
  // ApplyBundleLocked publishes and saves the bundle if it changed; apply_mu_ is held.
  absl::StatusOr<BundleChange> ApplyBundleLocked(const ca::v1::Bundle& proto);
  void PublishMetrics();

  // Plan is what the entries and SVIDs ask of the loop, worked out again only when either
  // changes (not on a bundle change): with thousands of SVIDs, scanning them at every
  // wake-up was the idle agent's main cost.
  struct Plan {
    // The snapshot versions the plan was made for.
    uint64_t entries_version = UINT64_MAX;
    uint64_t svids_version = UINT64_MAX;
    bool missing = false;  // an entry has no SVID, or one issued for other entry fields
    absl::Time earliest_window = absl::InfiniteFuture();  // of RenewWindowStart
    absl::Time earliest_renew = absl::InfiniteFuture();
  };
  const Plan& PlanFor(const Snapshot& snapshot) const;

  void WatchLoop();
  // Wake makes the main loop run a Step now.
  void Wake();
  absl::Duration Jitter(absl::Duration d);

  const AgentConfig config_;
  const base::Clock& clock_;
  SvidCache& cache_;
  AgentMetrics& metrics_;
  NodeStore store_;
  pki::SpiffeId node_id_;
  pki::SpiffeId server_id_;

  // Serializes what the loop and watch threads do to the CA relationship (saving the bundle
  // and node SVID, rebuilding the channel), so that the last channel built has the newest
  // identity and roots. Taken before mu_, never while holding it.
  std::mutex apply_mu_;
  mutable std::mutex mu_;  // guards everything below
  std::condition_variable wake_;
  bool stopping_ = false;
  bool woken_ = false;
  std::optional<NodeSvid> node_;
  absl::Time node_renew_at_ = absl::InfiniteFuture();
  std::shared_ptr<CaClient> client_;
  int64_t revision_ = 0;
  bool synced_once_ = false;
  bool sync_now_ = true;
  bool reissue_all_ = false;
  absl::Time next_sync_ = absl::InfinitePast();
  absl::Time next_attempt_ = absl::InfinitePast();
  absl::Duration backoff_ = absl::ZeroDuration();
  grpc::ClientContext* watch_context_ = nullptr;
  absl::BitGen random_;

  // Used by the loop thread only.
  mutable Plan plan_;
  uint64_t published_svids_version_ = UINT64_MAX;

  std::thread loop_;
  std::thread watch_;
};

}  // namespace meshid::agent
