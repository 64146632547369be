#include "meshid/ca/server.h"

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "authority.h"
#include "ca_metrics.h"
#include "issuing_ca.h"
#include "meshid/base/duration.h"
#include "meshid/base/files.h"
#include "meshid/base/log.h"
#include "meshid/base/status.h"
#include "meshid/store/data_store.h"
#include "meshid/telemetry/http_server.h"
#include "services.h"
#include "upstream.h"

namespace meshid::ca {
namespace {

// The longest the maintenance loop sleeps: the upstream's health is logged at least this often.
constexpr absl::Duration kMaxLoopSleep = absl::Seconds(30);
// The least time between two server TLS renewals, however short the certificate.
constexpr absl::Duration kMinTlsRenewInterval = absl::Seconds(2);

std::shared_ptr<spdlog::logger> Log() { return base::Logger("ca"); }

class CaServerImpl final : public CaServer {
 public:
  CaServerImpl(const CaConfig& config, const base::Clock& clock) : config_(config), clock_(clock) {}
  ~CaServerImpl() override { Shutdown(); }

  absl::Status Init(const ServeOptions& options);
  void Shutdown() override;
  int grpc_port() const override { return grpc_port_; }
  int http_port() const override { return http_ != nullptr ? http_->port() : 0; }

 private:
  std::string TlsPath(const char* name) const { return config_.data_dir + "/tls/" + name; }
  // WriteTlsIdentity issues a fresh server SVID and replaces the files gRPC watches.
  absl::Status WriteTlsIdentity();
  absl::Status WriteTlsBundle();
  absl::Status Ready() const;
  void RefreshMetrics();
  void Loop();

  const CaConfig config_;
  const base::Clock& clock_;
  telemetry::Metrics metrics_;
  std::unique_ptr<CaMetrics> ca_metrics_;
  std::unique_ptr<store::DataStore> store_;
  std::unique_ptr<IssuingCaManager> cas_;
  std::unique_ptr<Authority> authority_;
  std::unique_ptr<CaService> ca_service_;
  std::unique_ptr<AdminService> admin_service_;
  std::unique_ptr<grpc::Server> agent_server_;
  std::unique_ptr<grpc::Server> admin_server_;
  std::unique_ptr<telemetry::HttpServer> http_;
  int grpc_port_ = 0;
  int lock_fd_ = -1;  // holds the data_dir lock while the server lives

  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool renew_tls_ = false;      // set when a new issuing CA was activated
  bool state_changed_ = false;  // set on a bundle change or an agent signal (admin calls)
  absl::Time tls_renew_at_;     // half-life of the server SVID
  uint64_t tls_bundle_sequence_ = 0;
  std::thread loop_;
};

absl::Status CaServerImpl::Init(const ServeOptions& options) {
  spdlog::set_level(spdlog::level::from_str(config_.log_level));
  absl::Time now = clock_.Now();
  MESHID_ASSIGN_OR_RETURN(
      UpstreamCheck upstream,
      LoadUpstream(config_.upstream_dir, config_.trust_domain, now, options.allow_root_key_online));
  for (const std::string& warning : upstream.warnings) Log()->warn("{}", warning);
  MESHID_RETURN_IF_ERROR(base::MakePrivateDir(config_.data_dir));
  // One server per data_dir: a second would share the issuing CA and take the admin socket.
  std::string lock_path = config_.data_dir + "/lock";
  lock_fd_ = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0 || flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("another meshid ca serve is running with data_dir ", config_.data_dir, " (",
                     lock_path, " is locked)"));
  }
  MESHID_RETURN_IF_ERROR(base::MakePrivateDir(config_.data_dir + "/keys"));
  MESHID_RETURN_IF_ERROR(base::MakePrivateDir(config_.data_dir + "/tls"));
  MESHID_ASSIGN_OR_RETURN(
      store_, store::OpenSqlite(config_.sqlite_path, {.full_sync = config_.sqlite_full_sync}));

  ca_metrics_ = std::make_unique<CaMetrics>(metrics_);
  cas_ = std::make_unique<IssuingCaManager>(
      std::move(upstream.upstream), *store_,
      IssuingCaOptions{config_.trust_domain, config_.issuing_ca_ttl, config_.issuing_ca_key_type,
                       config_.data_dir + "/keys"},
      clock_);
  MESHID_RETURN_IF_ERROR(cas_->Initialize());
  cas_->OnActivate([this](const SigningCa&) {
    std::lock_guard<std::mutex> lock(mu_);
    renew_tls_ = true;
    wake_.notify_all();
  });
  authority_ = std::make_unique<Authority>(config_, *store_, *cas_, clock_, *ca_metrics_);
  // Admin calls change the bundle and the entries: the loop publishes them (TLS bundle,
  // metrics) at once instead of polling.
  authority_->bundle_state().OnChange([this] {
    std::lock_guard<std::mutex> lock(mu_);
    state_changed_ = true;
    wake_.notify_all();
  });
  MESHID_RETURN_IF_ERROR(authority_->Initialize());
  MESHID_RETURN_IF_ERROR(authority_->jwt_keys().Tick().status());
  MESHID_RETURN_IF_ERROR(WriteTlsBundle());
  MESHID_RETURN_IF_ERROR(WriteTlsIdentity());

  // Agents: TLS with the server SVID; a client certificate is asked for and verified
  // against the bundle when given (AttestNode comes without one).
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      TlsPath("server.pem"), TlsPath("server.pem"), TlsPath("bundle.pem"), 1);
  grpc::experimental::TlsServerCredentialsOptions tls(provider);
  tls.watch_root_certs();
  tls.watch_identity_key_cert_pairs();
  tls.set_cert_request_type(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  ca_service_ = std::make_unique<CaService>(*authority_);
  grpc::ServerBuilder agent_builder;
  // gRPC sets SO_REUSEPORT by default: a second server would silently share the port.
  agent_builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  agent_builder.AddListeningPort(config_.listen, grpc::experimental::TlsServerCredentials(tls),
                                 &grpc_port_);
  agent_builder.RegisterService(ca_service_.get());
  agent_server_ = agent_builder.BuildAndStart();
  if (agent_server_ == nullptr || grpc_port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", config_.listen, " for agents (address in use?)"));
  }

  // Admin: a unix socket only its owner can open.
  std::string socket_dir = std::filesystem::path(config_.admin_socket).parent_path().string();
  if (!socket_dir.empty()) MESHID_RETURN_IF_ERROR(base::MakePrivateDir(socket_dir));
  unlink(config_.admin_socket.c_str());  // a socket left by a previous run
  admin_service_ = std::make_unique<AdminService>(*authority_);
  grpc::ServerBuilder admin_builder;
  admin_builder.AddListeningPort("unix:" + config_.admin_socket, grpc::InsecureServerCredentials());
  admin_builder.RegisterService(admin_service_.get());
  mode_t old_mask = umask(0177);  // the socket is born 0600
  admin_server_ = admin_builder.BuildAndStart();
  umask(old_mask);
  if (admin_server_ == nullptr || chmod(config_.admin_socket.c_str(), 0600) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on admin socket ", config_.admin_socket));
  }

  MESHID_ASSIGN_OR_RETURN(http_, telemetry::HttpServer::Start(config_.http_listen, metrics_,
                                                              [this] { return Ready(); }));
  RefreshMetrics();
  loop_ = std::thread([this] { Loop(); });
  Log()->info("CA serving trust_domain={} agents={} (port {}) admin={} http={} (port {})",
              config_.trust_domain.name(), config_.listen, grpc_port_, config_.admin_socket,
              config_.http_listen, http_->port());
  return absl::OkStatus();
}

absl::Status CaServerImpl::WriteTlsIdentity() {
  MESHID_ASSIGN_OR_RETURN(auto issued, authority_->IssueServerSvid());
  const auto& [svid, key] = issued;
  MESHID_ASSIGN_OR_RETURN(base::SecretString key_pem, key.ToPkcs8Pem());
  // Key and chain in one file, replaced by one rename. gRPC reads the file twice (as key,
  // then as chain) and rereads when its mtime moved; renewals are seconds apart, so it does.
  MESHID_ASSIGN_OR_RETURN(std::vector<pki::Certificate> chain, svid.Chain());
  base::StagedFiles files;
  files.AddSecret(TlsPath("server.pem"),
                  base::SecretString(absl::StrCat(key_pem.view(), pki::ToPem(chain))));
  MESHID_RETURN_IF_ERROR(files.Commit(/*overwrite=*/true));
  const pki::IssuedLeaf& leaf = svid.leaf;
  // Half of what is left, counted from now: not_before is backdated and not_after may be cut
  // short by the issuing CA, so the certificate's own half-life can already be past.
  absl::Time now = clock_.Now();
  std::lock_guard<std::mutex> lock(mu_);
  tls_renew_at_ = now + std::max((leaf.not_after - now) / 2, kMinTlsRenewInterval);
  Log()->info("server TLS identity renewed serial={} not_after={}", leaf.serial_hex,
              base::Rfc3339(leaf.not_after));
  return absl::OkStatus();
}

absl::Status CaServerImpl::WriteTlsBundle() {
  pki::TrustBundle bundle = authority_->bundle();
  base::StagedFiles files;
  files.Add(TlsPath("bundle.pem"), bundle.ToPem(), 0644);
  MESHID_RETURN_IF_ERROR(files.Commit(/*overwrite=*/true));
  std::lock_guard<std::mutex> lock(mu_);
  tls_bundle_sequence_ = bundle.sequence();
  return absl::OkStatus();
}

absl::Status CaServerImpl::Ready() const {
  std::shared_ptr<const SigningCa> active = cas_->Active();
  if (active == nullptr || !active->signer.certificate.IsValidAt(clock_.Now())) {
    return absl::UnavailableError("no valid issuing CA");
  }
  return absl::OkStatus();
}

void CaServerImpl::RefreshMetrics() {
  std::vector<CaMetrics::CertificateInfo> certs;
  const pki::CaDirectory& upstream = cas_->upstream();
  pki::TrustBundle bundle = authority_->bundle();
  for (const pki::Certificate& root : bundle.x509_authorities()) {
    certs.push_back({"root", root.serial_hex(), root.not_after()});
  }
  for (const pki::Certificate& c : upstream.chain) {
    certs.push_back({"intermediate", c.serial_hex(), c.not_after()});
  }
  std::vector<SlotView> slots = cas_->Slots();
  for (const SlotView& s : slots) certs.push_back({"issuing", s.serial, s.not_after});
  ca_metrics_->SetCertificates(certs);
  ca_metrics_->SetSlots(slots);
  ca_metrics_->SetBundleSequence(bundle.sequence());
  if (absl::StatusOr<std::vector<store::NodeRecord>> nodes = store_->ListNodes(); nodes.ok()) {
    int evicted = 0;
    for (const store::NodeRecord& n : *nodes) evicted += n.evicted ? 1 : 0;
    ca_metrics_->SetNodes(static_cast<int>(nodes->size()) - evicted, evicted);
  }
  if (absl::StatusOr<int64_t> entries = store_->CountEntries(); entries.ok()) {
    ca_metrics_->SetEntries(static_cast<int>(*entries));
  }
}

void CaServerImpl::Loop() {
  while (true) {
    absl::Time now = clock_.Now();
    absl::Time next = now + kMaxLoopSleep;
    absl::StatusOr<absl::Time> due = cas_->Tick();
    if (due.ok()) {
      next = std::min(next, *due);
    } else {
      Log()->error("issuing CA rotation failed: {}; retrying", due.status().message());
      next = std::min(next, now + absl::Seconds(5));
    }
    if (absl::StatusOr<absl::Time> jwt_due = authority_->jwt_keys().Tick(); jwt_due.ok()) {
      next = std::min(next, *jwt_due);
    } else {
      Log()->error("JWT key rotation failed: {}; retrying", jwt_due.status().message());
      next = std::min(next, now + absl::Seconds(5));
    }
    const pki::Certificate& upstream = cas_->upstream().signer.certificate;
    int state = UpstreamLifetimeState(upstream, now);
    ca_metrics_->SetUpstreamState(state);
    if (state > 0) {
      Log()->log(state == 2 ? spdlog::level::err : spdlog::level::warn,
                 "the upstream CA \"{}\" expires at {} ({} left): sign a new intermediate with "
                 "meshid pki intermediate and restart the server on it",
                 upstream.subject(), base::Rfc3339(upstream.not_after()),
                 base::HumanDuration(upstream.not_after() - now));
    }
    bool renew_tls;
    uint64_t bundle_seen;
    {
      std::lock_guard<std::mutex> lock(mu_);
      renew_tls = renew_tls_ || now >= tls_renew_at_;
      renew_tls_ = false;
      bundle_seen = tls_bundle_sequence_;
    }
    if (authority_->bundle().sequence() != bundle_seen) {
      if (absl::Status s = WriteTlsBundle(); !s.ok()) {
        Log()->error("cannot write the TLS bundle: {}", s.message());
      }
    }
    if (renew_tls) {
      if (absl::Status s = WriteTlsIdentity(); !s.ok()) {
        Log()->error("cannot renew the server TLS identity: {}", s.message());
        next = std::min(next, now + absl::Seconds(5));
      }
    }
    RefreshMetrics();
    std::unique_lock<std::mutex> lock(mu_);
    next = std::min(next, tls_renew_at_);
    wake_.wait_until(lock, absl::ToChronoTime(std::max(next, clock_.Now())),
                     [this] { return stopping_ || renew_tls_ || state_changed_; });
    state_changed_ = false;
    if (stopping_) return;
  }
}

void CaServerImpl::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    wake_.notify_all();
  }
  if (loop_.joinable()) loop_.join();
  if (ca_service_ != nullptr) ca_service_->Stop();
  if (authority_ != nullptr) authority_->bundle_state().Shutdown();
  auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(2);
  if (agent_server_ != nullptr) agent_server_->Shutdown(deadline);
  if (admin_server_ != nullptr) admin_server_->Shutdown(deadline);
  http_.reset();
  if (admin_server_ != nullptr) unlink(config_.admin_socket.c_str());
  if (agent_server_ != nullptr) Log()->info("CA stopped");
  if (lock_fd_ >= 0) close(lock_fd_);
}

}  // namespace

absl::StatusOr<std::unique_ptr<CaServer>> CaServer::Start(const CaConfig& config,
                                                          const ServeOptions& options,
                                                          const base::Clock& clock) {
  auto server = std::make_unique<CaServerImpl>(config, clock);
  MESHID_RETURN_IF_ERROR(server->Init(options));
  return server;
}

}  // namespace meshid::ca
