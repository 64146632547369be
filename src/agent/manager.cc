#include "manager.h"

#include <algorithm>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "meshid/api/status.h"
#include "meshid/base/duration.h"
#include "meshid/base/files.h"
#include "meshid/base/log.h"
#include "meshid/base/status.h"
#include "meshid/base/text.h"
#include "meshid/pki/csr.h"

namespace meshid::agent {
namespace {

constexpr absl::Duration kMinBackoff = absl::Seconds(1);
// Short enough that renewals resume soon after an outage, long enough not to hammer a CA
// that is struggling.
constexpr absl::Duration kMaxBackoff = absl::Seconds(10);
// The longest the loop sleeps, so that metrics and clock jumps are looked at regularly.
constexpr absl::Duration kMaxSleep = absl::Seconds(30);
// SVIDs due within this much of a renewal are renewed with it: one batch, one snapshot and
// one wake-up of the Workload API streams instead of many (the jitter is minutes wide).
constexpr absl::Duration kRenewCoalesce = absl::Seconds(30);
// RenewWindowStart is when `svid` may be renewed with others: kRenewCoalesce before it is
// due, less for short-lived SVIDs (a twentieth of their life).
absl::Time RenewWindowStart(const CachedSvid& svid) {
  return svid.renew_at - std::min(kRenewCoalesce, (svid.not_after - svid.not_before) / 20);
}

// The least time between two node SVID renewals, however short the SVID.
constexpr absl::Duration kNodeRenewMin = absl::Seconds(1);

std::shared_ptr<spdlog::logger> Log() { return base::Logger("agent"); }

absl::StatusOr<pki::SpiffeId> NodeId(const AgentConfig& config) {
  if (config.node_name.empty()) {
    return absl::InvalidArgumentError("node_name: required (the host name is not available)");
  }
  absl::StatusOr<pki::SpiffeId> id =
      pki::SpiffeId::FromPath(config.trust_domain, absl::StrCat("/meshid/node/", config.node_name));
  if (!id.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "node_name \"", base::Printable(config.node_name), "\" is not a valid path segment"));
  }
  return *id;
}

// NodeRenewAt is half of what is left of the node SVID at `now`. Not half of its life:
// not_before is backdated, so its half-life can already be past on arrival.
absl::Time NodeRenewAt(const NodeSvid& node, absl::Time now) {
  return now + std::max((node.leaf().not_after() - now) / 2, kNodeRenewMin);
}

}  // namespace

Manager::Manager(const AgentConfig& config, const base::Clock& clock, SvidCache& cache,
                 AgentMetrics& metrics)
    : config_(config),
      clock_(clock),
      cache_(cache),
      metrics_(metrics),
      store_(config.data_dir),
      node_id_(*pki::SpiffeId::Parse("spiffe://unset.invalid/x")),
      server_id_(*pki::SpiffeId::FromPath(config.trust_domain, "/meshid/server")) {}

Manager::~Manager() { Stop(); }

absl::StatusOr<std::unique_ptr<Manager>> Manager::Start(const AgentConfig& config,
                                                        bool insecure_bootstrap,
                                                        const base::Clock& clock, SvidCache& cache,
                                                        AgentMetrics& metrics) {
  std::unique_ptr<Manager> manager(new Manager(config, clock, cache, metrics));
  MESHID_ASSIGN_OR_RETURN(manager->node_id_, NodeId(config));
  MESHID_RETURN_IF_ERROR(manager->Bootstrap(insecure_bootstrap));
  manager->loop_ = std::thread([m = manager.get()] { m->Loop(); });
  manager->watch_ = std::thread([m = manager.get()] { m->WatchLoop(); });
  return manager;
}

absl::Status Manager::Bootstrap(bool insecure_bootstrap) {
  MESHID_ASSIGN_OR_RETURN(std::optional<pki::TrustBundle> bundle,
                          store_.LoadBundle(config_.trust_domain));
  if (!bundle.has_value() && !config_.trust_bundle.empty()) {
    MESHID_ASSIGN_OR_RETURN(bundle,
                            LoadBootstrapBundle(config_.trust_bundle, config_.trust_domain));
  }
  if (!bundle.has_value() && !insecure_bootstrap) {
    return absl::InvalidArgumentError(
        "trust_bundle: required to authenticate the CA on the first start (the bundle.pem of "
        "meshid pki init), or run with --insecure-bootstrap in a lab");
  }
  // Created only now: a configuration that cannot work leaves nothing behind.
  MESHID_RETURN_IF_ERROR(base::MakePrivateDir(config_.data_dir));
  MESHID_ASSIGN_OR_RETURN(std::optional<NodeSvid> node, store_.LoadNodeSvid());
  const absl::Time now = clock_.Now();
  std::string expired;
  if (node.has_value() && node->leaf().not_after() <= now) {
    expired = absl::StrCat("the node SVID in ", store_.node_path(), " expired at ",
                           base::Rfc3339(node->leaf().not_after()), " while the agent was down");
    Log()->error("{}; attesting again with join_token", expired);
    node.reset();
  }
  if (node.has_value() && bundle.has_value()) {
    std::lock_guard<std::mutex> lock(mu_);
    node_ = std::move(node);
    node_renew_at_ = NodeRenewAt(*node_, now);
  } else if (absl::Status attested =
                 Attest(bundle.has_value() ? &*bundle : nullptr, !bundle.has_value());
             !attested.ok()) {
    if (expired.empty()) return attested;
    return absl::Status(
        attested.code(),
        absl::StrCat(expired,
                     ", and attesting again failed (a new token is "
                     "needed: meshid token create --node ",
                     config_.node_name, ", then set join_token): ", attested.message()));
  }
  if (bundle.has_value() && cache_.Get()->bundle == nullptr) {
    cache_.Update([&](Snapshot& s) { SetBundle(s, *bundle); });
  }
  MESHID_RETURN_IF_ERROR(Connect());
  PublishMetrics();
  Log()->info("node identity {} valid until {}", node_id_.ToString(),
              base::Rfc3339(node_->leaf().not_after()));
  return absl::OkStatus();
}

absl::Status Manager::Attest(const pki::TrustBundle* bundle, bool insecure) {
  if (config_.join_token.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "this node has no valid SVID in ", config_.data_dir,
        " and no join_token is configured: create one with meshid token create --node ",
        config_.node_name, ", put it in join_token and start again"));
  }
  CaClientOptions options{config_.ca_address,
                          bundle != nullptr ? *bundle : pki::TrustBundle(config_.trust_domain),
                          server_id_};
  options.insecure_skip_verify = insecure;
  MESHID_ASSIGN_OR_RETURN(std::unique_ptr<CaClient> client, CaClient::Connect(options));
  MESHID_ASSIGN_OR_RETURN(pki::PrivateKey key, pki::PrivateKey::Generate(pki::KeyType::kEcP256));
  MESHID_ASSIGN_OR_RETURN(pki::CertificateRequest csr,
                          pki::CertificateRequest::Create(key, node_id_));
  absl::StatusOr<ca::v1::AttestNodeResponse> response =
      client->AttestNode(config_.join_token, csr.ToDer(), config_.node_name);
  if (!response.ok()) {
    return base::Annotate(response.status(), absl::StrCat("attesting node ", config_.node_name,
                                                          " to ", config_.ca_address));
  }
  MESHID_ASSIGN_OR_RETURN(NodeSvid node, NodeSvidFromProto(key, response->svid()));
  MESHID_ASSIGN_OR_RETURN(pki::TrustBundle fresh,
                          BundleFromProto(response->bundle(), config_.trust_domain));
  MESHID_RETURN_IF_ERROR(store_.SaveBundle(fresh));
  MESHID_RETURN_IF_ERROR(store_.SaveNodeSvid(node));
  cache_.Update([&](Snapshot& s) { SetBundle(s, fresh); });
  Log()->info("node attested as {}", node_id_.ToString());
  std::lock_guard<std::mutex> lock(mu_);
  node_ = std::move(node);
  node_renew_at_ = NodeRenewAt(*node_, clock_.Now());
  return absl::OkStatus();
}

absl::Status Manager::Connect(bool restart_watch) {
  std::shared_ptr<const Snapshot> snapshot = cache_.Get();
  std::unique_lock<std::mutex> lock(mu_);
  CaClientOptions options{config_.ca_address, *snapshot->bundle, server_id_, node_->key,
                          node_->chain};
  lock.unlock();
  MESHID_ASSIGN_OR_RETURN(std::unique_ptr<CaClient> client, CaClient::Connect(options));
  lock.lock();
  client_ = std::move(client);
  // A watch on the old channel is restarted on the new one, with the new identity.
  if (restart_watch && watch_context_ != nullptr) watch_context_->TryCancel();
  return absl::OkStatus();
}

std::shared_ptr<CaClient> Manager::client() const {
  std::lock_guard<std::mutex> lock(mu_);
  return client_;
}

absl::StatusOr<std::string> Manager::Sign(const std::string& entry_id,
                                          const std::vector<std::string>& audience) {
  absl::StatusOr<ca::v1::MintJWTSVIDResponse> response = client()->MintJwtSvid(entry_id, audience);
  if (!response.ok()) return base::Annotate(response.status(), "minting a JWT-SVID at the CA");
  return response->token();
}

void Manager::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    if (watch_context_ != nullptr) watch_context_->TryCancel();
    wake_.notify_all();
  }
  if (loop_.joinable()) loop_.join();
  if (watch_.joinable()) watch_.join();
}

absl::Status Manager::Ready() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!node_.has_value() || node_->leaf().not_after() <= clock_.Now()) {
    return absl::UnavailableError("the node SVID has expired");
  }
  if (!synced_once_) return absl::UnavailableError("entries not fetched from the CA yet");
  return absl::OkStatus();
}

void Manager::Wake() {
  std::lock_guard<std::mutex> lock(mu_);
  woken_ = true;
  wake_.notify_all();
}

absl::Duration Manager::Jitter(absl::Duration d) {
  std::lock_guard<std::mutex> lock(mu_);
  return d * absl::Uniform(random_, 0.9, 1.1);
}

void Manager::Loop() {
  while (true) {
    const absl::Time now = clock_.Now();
    bool attempt = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      attempt = now >= next_attempt_;
    }
    if (attempt) {
      absl::Status status = Step(now);
      metrics_.SetCaReachable(status.ok());
      std::lock_guard<std::mutex> lock(mu_);
      if (status.ok()) {
        backoff_ = absl::ZeroDuration();
      } else {
        backoff_ = std::min(kMaxBackoff, std::max(kMinBackoff, backoff_ * 2));
        next_attempt_ = now + backoff_;
        Log()->warn("CA call failed, next attempt in {}: {}", base::HumanDuration(backoff_),
                    status.message());
      }
    }
    PublishMetrics();
    const absl::Time wake_at = NextWake(clock_.Now());
    std::unique_lock<std::mutex> lock(mu_);
    wake_.wait_for(lock, absl::ToChronoMilliseconds(wake_at - clock_.Now()),
                   [&] { return stopping_ || woken_; });
    woken_ = false;
  }
}

absl::Status Manager::Step(absl::Time now) {
  absl::Time node_renew_at;
  bool sync = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    node_renew_at = node_renew_at_;
    sync = sync_now_ || now >= next_sync_;
  }
  if (now >= node_renew_at) MESHID_RETURN_IF_ERROR(RenewNode());
  if (sync) MESHID_RETURN_IF_ERROR(SyncEntries());
  return IssueDue(now);
}

absl::Status Manager::RenewNode() {
  MESHID_ASSIGN_OR_RETURN(pki::PrivateKey key, pki::PrivateKey::Generate(pki::KeyType::kEcP256));
  MESHID_ASSIGN_OR_RETURN(pki::CertificateRequest csr,
                          pki::CertificateRequest::Create(key, node_id_));
  absl::StatusOr<ca::v1::RenewNodeResponse> response = client()->RenewNode(csr.ToDer());
  if (!response.ok()) return base::Annotate(response.status(), "renewing the node SVID");
  MESHID_ASSIGN_OR_RETURN(NodeSvid node, NodeSvidFromProto(key, response->svid()));
  std::lock_guard<std::mutex> apply(apply_mu_);
  MESHID_RETURN_IF_ERROR(store_.SaveNodeSvid(node));
  Log()->info("node SVID renewed serial={} not_after={}", node.leaf().serial_hex(),
              base::Rfc3339(node.leaf().not_after()));
  {
    std::lock_guard<std::mutex> lock(mu_);
    node_ = std::move(node);
    node_renew_at_ = NodeRenewAt(*node_, clock_.Now());
  }
  // One new channel, with the new identity and whatever bundle came with it.
  MESHID_RETURN_IF_ERROR(ApplyBundleLocked(response->bundle()).status());
  return Connect();
}

absl::Status Manager::ApplyBundle(const ca::v1::Bundle& proto) {
  std::lock_guard<std::mutex> apply(apply_mu_);
  MESHID_ASSIGN_OR_RETURN(BundleChange change, ApplyBundleLocked(proto));
  if (!change.changed) return absl::OkStatus();
  // New connections authenticate the CA with the new roots. The open watch was authenticated
  // with a root that is still trusted unless one was removed: only then is it restarted, so
  // that adding a root (the first step of a rotation) does not reconnect every agent of the
  // trust domain to the CA at once, in the middle of pushing the new bundle to workloads.
  return Connect(/*restart_watch=*/change.removed_root);
}

absl::StatusOr<Manager::BundleChange> Manager::ApplyBundleLocked(const ca::v1::Bundle& proto) {
  MESHID_ASSIGN_OR_RETURN(pki::TrustBundle bundle, BundleFromProto(proto, config_.trust_domain));
  std::shared_ptr<const Snapshot> current = cache_.Get();
  BundleChange change;
  if (current->bundle != nullptr) {
    const std::vector<pki::Certificate>& now = bundle.x509_authorities();
    if (current->bundle->sequence() == bundle.sequence() &&
        current->bundle->x509_authorities() == now) {
      return change;
    }
    const std::vector<pki::Certificate>& before = current->bundle->x509_authorities();
    change.removed_root = std::any_of(before.begin(), before.end(), [&](const pki::Certificate& r) {
      return std::find(now.begin(), now.end(), r) == now.end();
    });
  }
  change.changed = true;
  // Workloads first: the file only lets a restarted agent authenticate the CA, which sends
  // the current bundle again when the agent reconnects.
  cache_.Update([&](Snapshot& s) { SetBundle(s, bundle); });
  Log()->info("trust bundle updated sequence={} roots={}", bundle.sequence(),
              bundle.x509_authorities().size());
  if (absl::Status saved = store_.SaveBundle(bundle); !saved.ok()) {
    Log()->warn(
        "trust bundle sequence={} is served but not saved ({}); a restart starts from "
        "the previous one until the CA is reached",
        bundle.sequence(), saved.message());
  }
  return change;
}

absl::Status Manager::SyncEntries() {
  int64_t revision;
  {
    std::lock_guard<std::mutex> lock(mu_);
    revision = revision_;
    sync_now_ = false;
  }
  absl::StatusOr<ca::v1::SyncEntriesResponse> changes = client()->SyncEntries(revision);
  if (!changes.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    sync_now_ = true;
    return base::Annotate(changes.status(), "fetching entries");
  }
  const bool changed =
      changes->full() || changes->entries_size() > 0 || changes->deleted_ids_size() > 0;
  if (changed) {
    cache_.Update([&](Snapshot& s) {
      EntryMap& entries = MutableMap(s.entries);
      if (changes->full()) entries.clear();
      for (const std::string& id : changes->deleted_ids()) entries.erase(id);
      for (const ca::v1::Entry& e : changes->entries()) {
        entries[e.id()] = std::make_shared<const ca::v1::Entry>(e);
      }
      // An SVID whose entry is gone is withdrawn at once.
      auto gone = [&](const auto& svid) { return !entries.contains(svid.first); };
      if (std::any_of(s.svids->begin(), s.svids->end(), gone)) {
        absl::erase_if(MutableMap(s.svids), gone);
        ++s.svids_version;
      }
      ++s.entries_version;
    });
    Log()->info("entries synced revision={} changed={} deleted={}", changes->revision(),
                changes->entries_size(), changes->deleted_ids_size());
  }
  std::lock_guard<std::mutex> lock(mu_);
  revision_ = changes->revision();
  synced_once_ = true;
  next_sync_ = clock_.Now() + config_.sync_interval;
  return absl::OkStatus();
}

absl::Status Manager::IssueDue(absl::Time now) {
  bool all = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    all = reissue_all_;
  }
  std::shared_ptr<const Snapshot> snapshot = cache_.Get();
  const Plan& plan = PlanFor(*snapshot);
  if (!all && !plan.missing && now < plan.earliest_window) return absl::OkStatus();
  std::vector<std::shared_ptr<const ca::v1::Entry>> due;
  for (const auto& [id, entry] : *snapshot->entries) {
    auto svid = snapshot->svids->find(id);
    if (all || svid == snapshot->svids->end() || now >= RenewWindowStart(*svid->second) ||
        svid->second->issued_for != EntryFingerprint(*entry)) {
      due.push_back(entry);
    }
  }
  for (size_t i = 0; i < due.size(); i += kMaxBatch) {
    size_t end = std::min(due.size(), i + kMaxBatch);
    std::vector<std::shared_ptr<const ca::v1::Entry>> batch(due.begin() + i, due.begin() + end);
    absl::Status issued = IssueBatch(batch);
    if (!issued.ok()) {
      metrics_.Renewals("error", static_cast<double>(batch.size()));
      // An entry deleted since the last sync is refused: fetch the entries again.
      if (issued.code() == absl::StatusCode::kPermissionDenied) {
        std::lock_guard<std::mutex> lock(mu_);
        sync_now_ = true;
      }
      return issued;
    }
    metrics_.Renewals("ok", static_cast<double>(batch.size()));
  }
  if (all) {
    std::lock_guard<std::mutex> lock(mu_);
    reissue_all_ = false;
  }
  return absl::OkStatus();
}

absl::Status Manager::IssueBatch(const std::vector<std::shared_ptr<const ca::v1::Entry>>& batch) {
  ca::v1::SignSVIDsRequest request;
  std::vector<pki::PrivateKey> keys;
  keys.reserve(batch.size());
  for (const auto& entry : batch) {
    MESHID_ASSIGN_OR_RETURN(pki::SpiffeId id, pki::SpiffeId::Parse(entry->spiffe_id()));
    MESHID_ASSIGN_OR_RETURN(pki::PrivateKey key, pki::PrivateKey::Generate(pki::KeyType::kEcP256));
    MESHID_ASSIGN_OR_RETURN(pki::CertificateRequest csr, pki::CertificateRequest::Create(key, id));
    ca::v1::SignRequest* r = request.add_requests();
    r->set_entry_id(entry->id());
    r->set_csr(csr.ToDer());
    keys.push_back(std::move(key));
  }
  absl::StatusOr<ca::v1::SignSVIDsResponse> response = client()->SignSvids(request);
  if (!response.ok()) return base::Annotate(response.status(), "signing workload SVIDs");
  if (response->svids_size() != static_cast<int>(batch.size())) {
    return absl::InternalError("the CA answered a different number of SVIDs than asked for");
  }
  const absl::Time received = clock_.Now();
  std::vector<std::shared_ptr<const CachedSvid>> issued;
  for (size_t i = 0; i < batch.size(); ++i) {
    const ca::v1::X509SVID& svid = response->svids(static_cast<int>(i));
    auto cached = std::make_shared<CachedSvid>();
    cached->entry_id = batch[i]->id();
    cached->spiffe_id = svid.spiffe_id();
    std::string chain_der;  // leaf first, as the Workload API sends it
    for (const std::string& der : svid.cert_chain()) chain_der += der;
    MESHID_ASSIGN_OR_RETURN(base::SecretString key_der, keys[i].ToPkcs8Der());
    cached->x509_fields = EncodeX509Fields(cached->spiffe_id, chain_der, key_der);
    cached->not_before = received;
    cached->not_after = absl::FromUnixSeconds(svid.not_after());
    cached->renew_at = received + Jitter((cached->not_after - received) * config_.renew_fraction);
    cached->issued_for = EntryFingerprint(*batch[i]);
    issued.push_back(std::move(cached));
  }
  cache_.Update([&](Snapshot& s) {
    SvidMap& svids = MutableMap(s.svids);
    for (const auto& svid : issued) {
      if (s.entries->contains(svid->entry_id)) svids[svid->entry_id] = svid;
    }
    ++s.svids_version;
  });
  Log()->debug("issued {} workload SVIDs", issued.size());
  return absl::OkStatus();
}

const Manager::Plan& Manager::PlanFor(const Snapshot& snapshot) const {
  if (plan_.entries_version == snapshot.entries_version &&
      plan_.svids_version == snapshot.svids_version) {
    return plan_;
  }
  plan_ = Plan{snapshot.entries_version, snapshot.svids_version};
  for (const auto& [id, entry] : *snapshot.entries) {
    auto svid = snapshot.svids->find(id);
    if (svid == snapshot.svids->end() || svid->second->issued_for != EntryFingerprint(*entry)) {
      plan_.missing = true;
      continue;
    }
    plan_.earliest_window = std::min(plan_.earliest_window, RenewWindowStart(*svid->second));
    plan_.earliest_renew = std::min(plan_.earliest_renew, svid->second->renew_at);
  }
  return plan_;
}

absl::Time Manager::NextWake(absl::Time now) const {
  absl::Time wake = now + kMaxSleep;
  wake = std::min(wake, PlanFor(*cache_.Get()).earliest_renew);
  std::lock_guard<std::mutex> lock(mu_);
  wake = std::min(wake, node_renew_at_);
  wake = std::min(wake, next_sync_);
  if (backoff_ > absl::ZeroDuration()) wake = std::max(wake, next_attempt_);
  return wake;
}

void Manager::PublishMetrics() {
  std::shared_ptr<const Snapshot> snapshot = cache_.Get();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (node_.has_value()) metrics_.SetNodeSvidNotAfter(node_->leaf().not_after());
  }
  if (snapshot->bundle != nullptr) metrics_.SetBundleSequence(snapshot->bundle->sequence());
  metrics_.SetEntries(snapshot->entries->size());
  if (snapshot->svids_version == published_svids_version_) return;
  published_svids_version_ = snapshot->svids_version;
  std::map<std::string, absl::Time> not_after;
  for (const auto& [id, svid] : *snapshot->svids) {
    absl::Time& t = not_after[svid->spiffe_id];
    t = std::max(t, svid->not_after);
  }
  metrics_.SetSvidNotAfter(not_after);
}

void Manager::WatchLoop() {
  absl::Duration backoff = kMinBackoff;
  while (true) {
    grpc::ClientContext context;
    std::shared_ptr<CaClient> ca;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      watch_context_ = &context;
      ca = client_;
    }
    std::unique_ptr<grpc::ClientReader<ca::v1::WatchEvent>> reader = ca->Watch(&context);
    ca::v1::WatchEvent event;
    std::optional<uint64_t> entries_gen;
    std::optional<uint64_t> reissue_gen;
    while (reader->Read(&event)) {
      backoff = kMinBackoff;
      if (absl::Status s = ApplyBundle(event.bundle()); !s.ok()) {
        Log()->warn("bundle from the CA not applied: {}", s.message());
      }
      const bool first = !entries_gen.has_value();
      if (first) {
        Log()->info("watching the CA for changes (bundle sequence {})", event.bundle().sequence());
      }
      std::lock_guard<std::mutex> lock(mu_);
      // The CA is back: try what was backing off now rather than at the end of the backoff.
      if (first) next_attempt_ = absl::InfinitePast();
      // The first event of a stream is the baseline: a reconnect after a CA restart must not
      // look like a request.
      if (!first && *entries_gen != event.entries_generation()) sync_now_ = true;
      if (!first && *reissue_gen != event.reissue_generation()) {
        Log()->warn("the CA asked for every SVID to be re-issued");
        reissue_all_ = true;
      }
      entries_gen = event.entries_generation();
      reissue_gen = event.reissue_generation();
      woken_ = true;
      wake_.notify_all();
    }
    grpc::Status status = reader->Finish();
    std::unique_lock<std::mutex> lock(mu_);
    watch_context_ = nullptr;
    if (stopping_) return;
    if (status.error_code() == grpc::StatusCode::CANCELLED) continue;  // a new client
    Log()->debug("CA watch ended: {}", status.error_message());
    wake_.wait_for(lock, absl::ToChronoMilliseconds(backoff), [&] { return stopping_; });
    backoff = std::min(kMaxBackoff, backoff * 2);
  }
}

}  // namespace meshid::agent
