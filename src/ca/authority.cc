#include "authority.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "meshid/base/duration.h"
#include "meshid/base/log.h"
#include "meshid/base/status.h"
#include "meshid/pki/crypto.h"
#include "meshid/pki/csr.h"
#include "meshid/pki/issue.h"

namespace meshid::ca {
namespace {

constexpr char kNodePrefix[] = "/meshid/node/";
constexpr char kReservedPrefix[] = "/meshid/";
constexpr absl::Duration kMaxTokenTtl = absl::Hours(24 * 30);
constexpr size_t kMaxNodeName = 128;
constexpr size_t kMaxHint = 256;

std::shared_ptr<spdlog::logger> Log() { return base::Logger("ca"); }

absl::Status ValidateNodeName(const std::string& name) {
  if (name.empty() || name.size() > kMaxNodeName) {
    return absl::InvalidArgumentError(
        absl::StrCat("node name must have 1 to ", kMaxNodeName, " characters"));
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
      return absl::InvalidArgumentError(
          absl::StrCat("node name \"", name, "\" may hold only letters, digits, '.', '-' and '_'"));
    }
  }
  if (name == "." || name == "..") return absl::InvalidArgumentError("node name cannot be . or ..");
  return absl::OkStatus();
}

absl::Status ValidateUnixName(absl::string_view value, absl::string_view what) {
  if (value.empty() || value.size() > 32) {
    return absl::InvalidArgumentError(absl::StrCat(what, " name must have 1 to 32 characters"));
  }
  for (char c : value) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.' &&
        c != '$') {
      return absl::InvalidArgumentError(absl::StrCat(what, " name has an invalid character"));
    }
  }
  return absl::OkStatus();
}

std::string Hex(absl::string_view bytes) { return absl::BytesToHexString(bytes); }

}  // namespace

// ---- BundleState ----

absl::Status BundleState::Set(const store::BundleRecord& record) {
  std::vector<pki::Certificate> roots;
  for (const std::string& der : record.roots_der) {
    MESHID_ASSIGN_OR_RETURN(pki::Certificate root, pki::Certificate::FromDer(der));
    roots.push_back(std::move(root));
  }
  std::vector<pki::JwtAuthority> jwt;
  for (const store::JwtKeyRecord& k : record.jwt_keys) {
    MESHID_ASSIGN_OR_RETURN(pki::PublicKey key, pki::PublicKey::FromDer(k.public_key_der));
    jwt.push_back({k.key_id, key});
  }
  std::unique_lock<std::mutex> lock(mu_);
  pki::TrustBundle next(bundle_.trust_domain());
  for (const pki::Certificate& root : roots) (void)next.AddX509Authority(root);
  for (const pki::JwtAuthority& a : jwt) MESHID_RETURN_IF_ERROR(next.AddJwtAuthority(a));
  next.set_sequence(record.sequence);
  next.set_refresh_hint(absl::Minutes(5));
  bundle_ = std::move(next);
  Publish(std::move(lock));
  return absl::OkStatus();
}

pki::TrustBundle BundleState::Get() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bundle_;
}

pki::TrustBundle BundleState::WaitForChange(uint64_t seen, absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_until(lock, absl::ToChronoTime(deadline),
                      [&] { return shutdown_ || bundle_.sequence() != seen; });
  return bundle_;
}

std::pair<pki::TrustBundle, AgentSignals> BundleState::WaitForEvent(
    uint64_t seen_sequence, const AgentSignals& seen_signals, absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_until(lock, absl::ToChronoTime(deadline), [&] {
    return shutdown_ || bundle_.sequence() != seen_sequence || !(signals_ == seen_signals);
  });
  return {bundle_, signals_};
}

void BundleState::Publish(std::unique_lock<std::mutex> lock) {
  changed_.notify_all();
  lock.unlock();
  if (on_change_) on_change_();
}

void BundleState::SignalEntriesChanged() {
  std::unique_lock<std::mutex> lock(mu_);
  ++signals_.entries;
  Publish(std::move(lock));
}

void BundleState::RequestReissue() {
  std::unique_lock<std::mutex> lock(mu_);
  ++signals_.reissue;
  Publish(std::move(lock));
}

bool BundleState::shut_down() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shutdown_;
}

void BundleState::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutdown_ = true;
  changed_.notify_all();
}

// ---- validation helpers ----

absl::Status ValidateSelector(const std::string& selector) {
  auto bad = [&selector](absl::string_view rule) {
    return absl::InvalidArgumentError(absl::StrCat("selector \"", selector, "\": ", rule));
  };
  absl::string_view rest = selector;
  if (!absl::ConsumePrefix(&rest, "unix:")) {
    return bad(
        "only unix selectors are known (unix:uid:, unix:gid:, unix:user:, unix:group:, "
        "unix:supplementary_gid:, unix:supplementary_group:, unix:path:, unix:sha256:)");
  }
  size_t colon = rest.find(':');
  if (colon == absl::string_view::npos) return bad("expected unix:<kind>:<value>");
  absl::string_view kind = rest.substr(0, colon);
  absl::string_view value = rest.substr(colon + 1);
  if (kind == "uid" || kind == "gid" || kind == "supplementary_gid") {
    uint32_t id = 0;
    if (value.empty() || !absl::ascii_isdigit(static_cast<unsigned char>(value[0])) ||
        !absl::SimpleAtoi(value, &id)) {
      return bad(absl::StrCat(kind, " must be a number from 0 to 4294967295"));
    }
    return absl::OkStatus();
  }
  if (kind == "user" || kind == "group" || kind == "supplementary_group") {
    absl::Status s = ValidateUnixName(value, kind);
    return s.ok() ? s : bad(s.message());
  }
  if (kind == "path") {
    if (value.empty() || value[0] != '/') return bad("path must be absolute");
    if (value.size() > 4096 || absl::StrContains(value, std::string(1, '\0'))) {
      return bad("path is too long or holds a NUL byte");
    }
    return absl::OkStatus();
  }
  if (kind == "sha256") {
    if (value.size() != 64 || !std::all_of(value.begin(), value.end(), [](char c) {
          return absl::ascii_isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
        })) {
      return bad("sha256 must be 64 lowercase hex digits");
    }
    return absl::OkStatus();
  }
  return bad(
      absl::StrCat("unknown kind \"", kind,
                   "\" (known: uid, gid, user, group, supplementary_gid, supplementary_group, "
                   "path, sha256)"));
}

absl::StatusOr<pki::PublicKey> ParseWorkloadCsr(absl::string_view data) {
  MESHID_ASSIGN_OR_RETURN(pki::CsrPublicKey csr, pki::ParseCsrPublicKey(data));
  if (csr.requests_ca) {
    return absl::InvalidArgumentError(
        "the CSR asks for CA:true; this CA issues only leaf certificates");
  }
  pki::PublicKeyInfo key = csr.key.info();
  if (key.weak) {
    return absl::InvalidArgumentError(
        absl::StrCat("the CSR's key is a weak ", key.Describe(), " (minimum RSA 2048, EC P-256)"));
  }
  return csr.key;
}

absl::StatusOr<std::vector<pki::Certificate>> IssuedSvid::Chain() const {
  MESHID_ASSIGN_OR_RETURN(pki::Certificate leaf_cert, pki::Certificate::FromDer(leaf.der));
  std::vector<pki::Certificate> chain{std::move(leaf_cert)};
  chain.insert(chain.end(), ca->chain.begin(), ca->chain.end());
  return chain;
}

// ---- Authority ----

Authority::Authority(const CaConfig& config, store::DataStore& store, IssuingCaManager& cas,
                     const base::Clock& clock, CaMetrics& metrics)
    : config_(config),
      store_(store),
      cas_(cas),
      clock_(clock),
      metrics_(metrics),
      bundle_(config.trust_domain),
      jwt_keys_(store, bundle_, {config.issuing_ca_ttl, config.data_dir + "/keys"}, clock),
      server_id_(*pki::SpiffeId::FromPath(config.trust_domain, "/meshid/server")) {}

absl::Status Authority::Initialize() {
  MESHID_ASSIGN_OR_RETURN(store::BundleRecord record, store_.GetBundle());
  if (record.roots_der.empty()) {
    for (const pki::Certificate& root : cas_.upstream().roots) {
      MESHID_ASSIGN_OR_RETURN(record, store_.AddRoot(root.ToDer()));
    }
    Log()->info("trust bundle seeded with {} root(s) from the upstream", record.roots_der.size());
  }
  return bundle_.Set(record);
}

absl::StatusOr<pki::SpiffeId> Authority::NodeId(const std::string& name) const {
  MESHID_RETURN_IF_ERROR(ValidateNodeName(name));
  return pki::SpiffeId::FromPath(config_.trust_domain, absl::StrCat(kNodePrefix, name));
}

absl::StatusOr<Authority::NewToken> Authority::CreateJoinToken(absl::Duration ttl,
                                                               const std::string& node_name) {
  if (ttl <= absl::ZeroDuration() || ttl > kMaxTokenTtl) {
    return absl::InvalidArgumentError(
        absl::StrCat("token TTL must be between 1s and ", base::HumanDuration(kMaxTokenTtl)));
  }
  if (!node_name.empty()) MESHID_RETURN_IF_ERROR(ValidateNodeName(node_name));
  MESHID_ASSIGN_OR_RETURN(std::string random, pki::RandomBytes(32));
  NewToken out{absl::StrCat("meshid-", absl::WebSafeBase64Escape(random)), {}};
  absl::Time now = clock_.Now();
  out.record = {pki::Sha256Hex(out.token), node_name, now, now + ttl, std::nullopt};
  MESHID_RETURN_IF_ERROR(store_.CreateJoinToken(out.record));
  Log()->info("join token created node={} expires_at={}", node_name.empty() ? "(any)" : node_name,
              base::Rfc3339(out.record.expires_at));
  return out;
}

absl::StatusOr<IssuedSvid> Authority::Issue(const pki::SpiffeId& id, const pki::PublicKey& key,
                                            const std::vector<std::string>& dns, absl::Duration ttl,
                                            store::IssuanceRecord& record, const std::string& kind,
                                            const std::string& node) {
  std::shared_ptr<const SigningCa> ca = cas_.Active();
  if (ca == nullptr) return absl::UnavailableError("the CA has no active issuing CA yet");
  absl::Time now = clock_.Now();
  MESHID_ASSIGN_OR_RETURN(pki::IssuedLeaf leaf, ca->leaf_issuer.Issue(key, {id, dns, ttl}, now));
  record = {leaf.serial_hex, id.ToString(),   kind,           node,
            ca->serial,      leaf.not_before, leaf.not_after, now};
  return IssuedSvid{id, std::move(leaf), std::move(ca)};
}

absl::StatusOr<IssuedSvid> Authority::AttestNode(const std::string& token, absl::string_view csr,
                                                 const std::string& node_name) {
  auto denied = [this](absl::string_view why) {
    metrics_.SvidsIssued("denied");
    return absl::PermissionDeniedError(absl::StrCat("node attestation refused: ", why));
  };
  if (token.empty()) return denied("no join token");
  std::string hash = pki::Sha256Hex(token);
  MESHID_ASSIGN_OR_RETURN(std::optional<store::JoinTokenRecord> record, store_.GetJoinToken(hash));
  absl::Time now = clock_.Now();
  if (!record.has_value() || record->used_at.has_value() || record->expires_at <= now) {
    return denied(
        "the join token is unknown, used or expired; create one with meshid token create");
  }
  std::string name = record->node_name.empty() ? node_name : record->node_name;
  if (!record->node_name.empty() && !node_name.empty() && node_name != record->node_name) {
    return denied(absl::StrCat("the join token is for node \"", record->node_name, "\""));
  }
  if (name.empty()) {
    metrics_.SvidsIssued("invalid");
    return absl::InvalidArgumentError("node_name is required: the join token names no node");
  }
  MESHID_ASSIGN_OR_RETURN(pki::SpiffeId id, NodeId(name));
  MESHID_ASSIGN_OR_RETURN(std::optional<store::NodeRecord> existing, store_.GetNode(name));
  if (existing.has_value() && record->node_name.empty()) {
    // Re-attesting an existing (or evicted) node takes a token the operator made for it.
    return denied(absl::StrCat("node \"", name,
                               "\" exists; re-attest it with a token made by "
                               "meshid token create --node ",
                               name));
  }
  absl::StatusOr<pki::PublicKey> request = ParseWorkloadCsr(csr);
  if (!request.ok()) {
    metrics_.SvidsIssued("invalid");
    return request.status();
  }
  store::IssuanceRecord issuance;
  MESHID_ASSIGN_OR_RETURN(IssuedSvid svid,
                          Issue(id, *request, {}, config_.node_svid_ttl, issuance, "node", name));
  store::NodeRecord node{name,  id.ToString(), now, issuance.serial, issuance.not_after,
                         false, std::nullopt};
  absl::Status attested = store_.AttestNode(hash, now, node, issuance);
  if (!attested.ok()) {
    // Another attestation consumed the token first, or it expired meanwhile.
    if (attested.code() == absl::StatusCode::kFailedPrecondition ||
        attested.code() == absl::StatusCode::kNotFound ||
        attested.code() == absl::StatusCode::kPermissionDenied) {
      return denied(attested.message());
    }
    metrics_.SvidsIssued("error");
    return attested;
  }
  metrics_.SvidsIssued("ok");
  Log()->info("node attested node={} spiffe_id={} serial={}", name, id.ToString(), issuance.serial);
  return svid;
}

absl::StatusOr<store::NodeRecord> Authority::ActiveNode(const pki::SpiffeId& caller) {
  if (!caller.IsMemberOf(config_.trust_domain) || !absl::StartsWith(caller.path(), kNodePrefix)) {
    return absl::PermissionDeniedError(
        absl::StrCat("caller ", caller.ToString(), " is not a node of this trust domain"));
  }
  std::string name = caller.path().substr(std::string(kNodePrefix).size());
  MESHID_ASSIGN_OR_RETURN(std::optional<store::NodeRecord> node, store_.GetNode(name));
  if (!node.has_value()) {
    return absl::PermissionDeniedError(absl::StrCat("node \"", name, "\" is not known"));
  }
  if (node->evicted) {
    return absl::PermissionDeniedError(absl::StrCat(
        "node \"", name, "\" was evicted; re-attest it with meshid token create --node ", name));
  }
  return *std::move(node);
}

absl::StatusOr<IssuedSvid> Authority::RenewNode(const pki::SpiffeId& caller,
                                                absl::string_view csr) {
  absl::StatusOr<store::NodeRecord> node = ActiveNode(caller);
  if (!node.ok()) {
    metrics_.SvidsIssued("denied");
    return node.status();
  }
  absl::StatusOr<pki::PublicKey> request = ParseWorkloadCsr(csr);
  if (!request.ok()) {
    metrics_.SvidsIssued("invalid");
    return request.status();
  }
  store::IssuanceRecord issuance;
  MESHID_ASSIGN_OR_RETURN(IssuedSvid svid, Issue(caller, *request, {}, config_.node_svid_ttl,
                                                 issuance, "node", node->name));
  absl::Status renewed = store_.RenewNode(node->name, issuance);
  if (!renewed.ok()) {
    metrics_.SvidsIssued(renewed.code() == absl::StatusCode::kPermissionDenied ? "denied"
                                                                               : "error");
    return renewed;
  }
  metrics_.SvidsIssued("ok");
  return svid;
}

absl::StatusOr<std::vector<store::NodeRecord>> Authority::ListNodes() { return store_.ListNodes(); }

absl::StatusOr<store::NodeRecord> Authority::EvictNode(const std::string& name) {
  MESHID_RETURN_IF_ERROR(ValidateNodeName(name));
  absl::Status evicted = store_.EvictNode(name, clock_.Now());
  if (evicted.code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat("no node named \"", name, "\" (see meshid node list)"));
  }
  MESHID_RETURN_IF_ERROR(evicted);
  Log()->warn("node evicted node={}", name);
  bundle_.SignalEntriesChanged();
  MESHID_ASSIGN_OR_RETURN(std::optional<store::NodeRecord> node, store_.GetNode(name));
  return *node;
}

absl::StatusOr<store::EntryRecord> Authority::CreateEntry(const EntrySpec& spec) {
  MESHID_ASSIGN_OR_RETURN(pki::SpiffeId id, pki::SpiffeId::Parse(spec.spiffe_id));
  if (!id.IsMemberOf(config_.trust_domain)) {
    return absl::InvalidArgumentError(absl::StrCat("SPIFFE ID ", id.ToString(),
                                                   " is not in this CA's trust domain ",
                                                   config_.trust_domain.name()));
  }
  if (id.path().empty()) {
    return absl::InvalidArgumentError("the SPIFFE ID of a workload needs a path");
  }
  if (absl::StartsWith(id.path(), kReservedPrefix)) {
    return absl::InvalidArgumentError(
        absl::StrCat("SPIFFE IDs under ", kReservedPrefix, " are reserved for meshid itself"));
  }
  MESHID_ASSIGN_OR_RETURN(pki::SpiffeId parent, pki::SpiffeId::Parse(spec.parent_id));
  if (!parent.IsMemberOf(config_.trust_domain) || !absl::StartsWith(parent.path(), kNodePrefix)) {
    return absl::InvalidArgumentError(
        absl::StrCat("parent ", parent.ToString(), " is not a node ID (spiffe://",
                     config_.trust_domain.name(), "/meshid/node/NAME)"));
  }
  if (spec.selectors.empty()) {
    return absl::InvalidArgumentError("an entry needs at least one selector");
  }
  for (const std::string& s : spec.selectors) MESHID_RETURN_IF_ERROR(ValidateSelector(s));
  if (spec.ttl < absl::ZeroDuration() || spec.ttl > config_.svid_max_ttl) {
    return absl::InvalidArgumentError(absl::StrCat("TTL must be at most svid.max_ttl (",
                                                   base::HumanDuration(config_.svid_max_ttl), ")"));
  }
  for (const std::string& dns : spec.dns_names) {
    if (!pki::IsValidDnsName(dns)) {
      return absl::InvalidArgumentError(absl::StrCat("invalid DNS name \"", dns, "\""));
    }
  }
  if (spec.hint.size() > kMaxHint) {
    return absl::InvalidArgumentError(absl::StrCat("hint is longer than ", kMaxHint, " bytes"));
  }
  // The arguments first, so that a bad one is reported before the state of the store.
  std::string node_name = parent.path().substr(std::string(kNodePrefix).size());
  MESHID_ASSIGN_OR_RETURN(std::optional<store::NodeRecord> node, store_.GetNode(node_name));
  if (!node.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("parent node \"", node_name, "\" does not exist (see meshid node list)"));
  }
  MESHID_ASSIGN_OR_RETURN(std::string random, pki::RandomBytes(16));
  store::EntryRecord entry{
      Hex(random),
      id.ToString(),
      parent.ToString(),
      spec.selectors,
      spec.ttl > absl::ZeroDuration() ? std::optional<absl::Duration>(spec.ttl) : std::nullopt,
      spec.dns_names,
      spec.hint,
      clock_.Now(),
      0};
  // The store keeps selectors as a set (sorted, each once).
  MESHID_ASSIGN_OR_RETURN(store::EntryRecord stored, store_.CreateEntry(entry));
  Log()->info("entry created id={} spiffe_id={} parent={}", stored.id, stored.spiffe_id,
              stored.parent_id);
  bundle_.SignalEntriesChanged();
  return stored;
}

absl::StatusOr<std::vector<store::EntryRecord>> Authority::ListEntries(
    const std::string& parent_id) {
  return store_.ListEntries(parent_id);
}

absl::StatusOr<store::EntryRecord> Authority::GetEntry(const std::string& id) {
  MESHID_ASSIGN_OR_RETURN(std::optional<store::EntryRecord> entry, store_.GetEntry(id));
  if (!entry.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("no entry with id \"", id, "\" (see meshid entry list)"));
  }
  return *entry;
}

absl::Status Authority::DeleteEntry(const std::string& id) {
  absl::Status deleted = store_.DeleteEntry(id);
  if (deleted.code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(
        absl::StrCat("no entry with id \"", id, "\" (see meshid entry list)"));
  }
  if (deleted.ok()) {
    Log()->info("entry deleted id={}", id);
    bundle_.SignalEntriesChanged();
  }
  return deleted;
}

absl::StatusOr<store::EntryChanges> Authority::SyncEntries(const pki::SpiffeId& caller,
                                                           int64_t revision) {
  MESHID_RETURN_IF_ERROR(ActiveNode(caller).status());
  return store_.EntryChangesSince(caller.ToString(), revision);
}

absl::StatusOr<std::vector<IssuedSvid>> Authority::SignSvids(const pki::SpiffeId& caller,
                                                             const std::vector<SignItem>& items) {
  auto fail = [this, &items](const std::string& result, absl::Status status) {
    metrics_.SvidsIssued(result, static_cast<double>(std::max<size_t>(items.size(), 1)));
    return status;
  };
  absl::StatusOr<store::NodeRecord> node = ActiveNode(caller);
  if (!node.ok()) return fail("denied", node.status());
  if (items.empty() || items.size() > kMaxSignBatch) {
    return fail("invalid",
                absl::InvalidArgumentError(absl::StrCat("a batch holds 1 to ", kMaxSignBatch,
                                                        " requests, not ", items.size())));
  }
  std::vector<IssuedSvid> svids;
  std::vector<store::IssuanceRecord> records;
  svids.reserve(items.size());
  records.reserve(items.size());
  // A batch may ask for one entry several times (renewing with several keys): look each up once.
  std::map<std::string, absl::StatusOr<std::optional<store::EntryRecord>>> entries;
  for (size_t i = 0; i < items.size(); ++i) {
    const SignItem& item = items[i];
    std::string where = absl::StrCat("requests[", i, "] (entry ", item.entry_id, ")");
    absl::Time start = absl::Now();
    auto found = entries.find(item.entry_id);
    if (found == entries.end()) {
      found = entries.emplace(item.entry_id, store_.GetEntry(item.entry_id)).first;
    }
    const absl::StatusOr<std::optional<store::EntryRecord>>& entry = found->second;
    if (!entry.ok()) return fail("error", entry.status());
    // An entry of another node and an unknown entry look the same to the caller.
    if (!entry->has_value() || (*entry)->parent_id != caller.ToString()) {
      return fail("denied", absl::PermissionDeniedError(
                                absl::StrCat(where, ": not an entry of ", caller.ToString())));
    }
    absl::StatusOr<pki::PublicKey> csr = ParseWorkloadCsr(item.csr);
    if (!csr.ok()) return fail("invalid", base::Annotate(csr.status(), where));
    absl::Duration ttl =
        std::min((*entry)->ttl.value_or(config_.svid_default_ttl), config_.svid_max_ttl);
    absl::StatusOr<pki::SpiffeId> id = pki::SpiffeId::Parse((*entry)->spiffe_id);
    if (!id.ok()) return fail("error", id.status());
    store::IssuanceRecord record;
    absl::StatusOr<IssuedSvid> svid =
        Issue(*id, *csr, (*entry)->dns_names, ttl, record, "workload", node->name);
    if (!svid.ok()) return fail("error", svid.status());
    metrics_.ObserveSign(absl::Now() - start);
    svids.push_back(*std::move(svid));
    records.push_back(std::move(record));
  }
  absl::Status recorded = store_.RecordIssuances(records);
  if (!recorded.ok()) return fail("error", recorded);
  metrics_.SvidsIssued("ok", static_cast<double>(svids.size()));
  return svids;
}

absl::StatusOr<std::pair<IssuedSvid, pki::PrivateKey>> Authority::IssueServerSvid() {
  MESHID_ASSIGN_OR_RETURN(pki::PrivateKey key, pki::PrivateKey::Generate(pki::KeyType::kEcP256));
  store::IssuanceRecord record;
  absl::StatusOr<IssuedSvid> svid =
      Issue(server_id_, key.public_key(), {}, config_.node_svid_ttl, record, "server", "");
  if (!svid.ok()) {
    metrics_.SvidsIssued("error");
    return svid.status();
  }
  MESHID_RETURN_IF_ERROR(store_.RecordIssuances({record}));
  metrics_.SvidsIssued("ok");
  return std::make_pair(*std::move(svid), std::move(key));
}

absl::StatusOr<pki::TrustBundle> Authority::AddRoot(absl::string_view certificate) {
  MESHID_ASSIGN_OR_RETURN(std::vector<pki::Certificate> certs, pki::ParseCertificates(certificate));
  if (certs.size() != 1) return absl::InvalidArgumentError("give exactly one root certificate");
  const pki::Certificate& root = certs.front();
  if (!root.is_ca() || !root.IsSelfSigned()) {
    return absl::InvalidArgumentError("the bundle holds roots only: a self-signed CA certificate");
  }
  if (absl::StatusOr<pki::SpiffeId> id = root.spiffe_id();
      id.ok() && !id->IsMemberOf(config_.trust_domain)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the root belongs to trust domain ", id->trust_domain().name()));
  }
  absl::StatusOr<store::BundleRecord> record = store_.AddRoot(root.ToDer());
  if (record.status().code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError("the bundle already holds this root");
  }
  MESHID_RETURN_IF_ERROR(record.status());
  MESHID_RETURN_IF_ERROR(bundle_.Set(*record));
  Log()->warn("root added to the trust bundle subject=\"{}\" sequence={}", root.subject(),
              record->sequence);
  return bundle_.Get();
}

absl::StatusOr<pki::TrustBundle> Authority::RemoveRoot(absl::string_view certificate) {
  MESHID_ASSIGN_OR_RETURN(std::vector<pki::Certificate> certs, pki::ParseCertificates(certificate));
  if (certs.size() != 1) return absl::InvalidArgumentError("give exactly one root certificate");
  const pki::Certificate& root = certs.front();
  // Withdrawing the root the server's own issuing CAs chain to would break every SVID.
  std::shared_ptr<const SigningCa> active = cas_.Active();
  const pki::Certificate& top = active->chain.back();
  if (top.IsIssuedBy(root) || top == root) {
    return absl::FailedPreconditionError(
        "the server's issuing CAs chain to this root: move the server to an upstream under the "
        "new root before withdrawing it");
  }
  absl::StatusOr<store::BundleRecord> record = store_.RemoveRoot(root.ToDer());
  if (record.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError("the bundle does not hold this root");
  }
  MESHID_RETURN_IF_ERROR(record.status());
  MESHID_RETURN_IF_ERROR(bundle_.Set(*record));
  Log()->warn("root removed from the trust bundle subject=\"{}\" sequence={}", root.subject(),
              record->sequence);
  return bundle_.Get();
}

absl::StatusOr<std::pair<std::string, absl::Time>> Authority::MintJwtSvid(
    const pki::SpiffeId& caller, const std::string& entry_id,
    const std::vector<std::string>& audience) {
  MESHID_RETURN_IF_ERROR(ActiveNode(caller).status());
  if (audience.empty()) return absl::InvalidArgumentError("a JWT-SVID needs an audience");
  for (const std::string& a : audience) {
    if (a.empty() || a.size() > 256) {
      return absl::InvalidArgumentError("each audience must be 1 to 256 bytes");
    }
  }
  MESHID_ASSIGN_OR_RETURN(std::optional<store::EntryRecord> entry, store_.GetEntry(entry_id));
  if (!entry.has_value() || entry->parent_id != caller.ToString()) {
    metrics_.SvidsIssued("denied");
    return absl::PermissionDeniedError(
        absl::StrCat("entry \"", entry_id, "\" is not one of ", caller.ToString(), "'s entries"));
  }
  MESHID_ASSIGN_OR_RETURN(pki::SpiffeId id, pki::SpiffeId::Parse(entry->spiffe_id));
  absl::StatusOr<std::pair<std::string, absl::Time>> token =
      jwt_keys_.Sign(id, audience, config_.jwt_svid_ttl);
  metrics_.SvidsIssued(token.ok() ? "ok" : "error");
  return token;
}

void Authority::RequestReissue() {
  Log()->warn("re-issuance of every SVID requested");
  bundle_.RequestReissue();
}

}  // namespace meshid::ca
