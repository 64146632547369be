#include "workload_api.h"

#include <filesystem>

#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/server_posix.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "meshid/api/status.h"
#include "meshid/base/log.h"
#include "meshid/base/status.h"
#include "meshid/pki/jwt.h"

namespace meshid::agent {
namespace {

// How often an idle stream looks whether its client left (the sync API has no callback for
// it); a left stream costs a parked thread until then.
constexpr absl::Duration kPollInterval = absl::Seconds(30);

std::shared_ptr<spdlog::logger> Log() { return base::Logger("workload-api"); }

// ActiveCall counts a call in the clients gauge for as long as it runs.
class ActiveCall {
 public:
  explicit ActiveCall(AgentMetrics& metrics) : metrics_(metrics) { metrics_.ClientConnected(); }
  ~ActiveCall() { metrics_.ClientDisconnected(); }
  ActiveCall(const ActiveCall&) = delete;
  ActiveCall& operator=(const ActiveCall&) = delete;

 private:
  AgentMetrics& metrics_;
};

// ValidateJwt validates a JWT-SVID of the snapshot bundle's trust domain (the agent holds no
// federated bundles) and returns its SPIFFE ID and claims.
absl::StatusOr<std::pair<std::string, std::string>> ValidateJwt(const Snapshot& snapshot,
                                                                absl::string_view token,
                                                                absl::string_view audience) {
  MESHID_ASSIGN_OR_RETURN(pki::JwtSvid unverified, pki::ParseJwtSvidUnverified(token));
  if (!unverified.subject.IsMemberOf(snapshot.bundle->trust_domain())) {
    return absl::InvalidArgumentError(absl::StrCat("no keys found for trust domain \"",
                                                   unverified.subject.trust_domain().name(), "\""));
  }
  MESHID_ASSIGN_OR_RETURN(
      pki::JwtSvid svid,
      pki::ValidateJwtSvid(token, audience, snapshot.jwt_authorities, absl::Now()));
  return std::make_pair(svid.subject.ToString(), svid.claims_json);
}

absl::Status ClaimsToStruct(const std::string& json, google::protobuf::Struct* out) {
  google::protobuf::util::Status status = google::protobuf::util::JsonStringToMessage(json, out);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("claims: ", status.ToString()));
  }
  return absl::OkStatus();
}

}  // namespace

void PeerRegistry::Add(int fd, const Peer& peer) {
  std::lock_guard<std::mutex> lock(mu_);
  peers_[fd] = peer;
}

std::optional<PeerRegistry::Peer> PeerRegistry::Find(int fd) const {
  std::optional<Peer> peer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = peers_.find(fd);
    if (it == peers_.end()) return std::nullopt;
    peer = it->second;
  }
  // fd numbers are reused: the fd must still be the socket that was accepted.
  struct stat st {};
  if (fstat(fd, &st) != 0 || st.st_ino != peer->inode) return std::nullopt;
  return peer;
}

absl::StatusOr<Caller> WorkloadApiService::Identify(grpc::ServerContextBase* context) {
  auto header = context->client_metadata().equal_range("workload.spiffe.io");
  bool present = false;
  for (auto it = header.first; it != header.second; ++it) {
    present = present || std::string(it->second.data(), it->second.size()) == "true";
  }
  if (!present) {
    return absl::InvalidArgumentError("security header missing from request");
  }
  int fd = -1;
  std::string peer = context->peer();
  if (!absl::StartsWith(peer, "fd:") || !absl::SimpleAtoi(peer.substr(3), &fd)) {
    return absl::InternalError(absl::StrCat("cannot identify the caller (peer ", peer, ")"));
  }
  std::optional<PeerRegistry::Peer> known = peers_.Find(fd);
  if (!known.has_value()) return absl::InternalError("the caller's connection is not known");
  Caller caller{known->credentials, {}};
  absl::StatusOr<std::vector<std::string>> selectors = attestor_.Attest(known->credentials);
  if (!selectors.ok()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "could not attest the caller (", caller.Describe(), "): ", selectors.status().message()));
  }
  // The pid may have been reused by another process during attestation.
  absl::StatusOr<uint64_t> start = ProcessStartTime("/proc", known->credentials.pid);
  if (!start.ok() || *start != known->start_time) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the process that connected (", caller.Describe(), ") exited during attestation"));
  }
  caller.selectors = std::move(*selectors);
  return caller;
}

template <typename Response, typename Build>
grpc::Status WorkloadApiService::Streaming(grpc::ServerContext* context,
                                           grpc::ServerWriter<Response>* writer,
                                           const Caller& caller, Build build) {
  ActiveCall active(metrics_);
  std::shared_ptr<const Snapshot> snapshot = cache_.Get();
  uint64_t matched_version = UINT64_MAX;
  std::vector<std::shared_ptr<const ca::v1::Entry>> matched;
  std::string last_sent;
  while (true) {
    if (snapshot->entries_version != matched_version) {
      matched = MatchingEntries(*snapshot, caller);
      matched_version = snapshot->entries_version;
    }
    if (matched.empty()) {
      return NoIdentity(caller);
    }
    // The key first, cheaply: most changes (another workload's renewal) are not this stream's.
    std::string key;
    if (build(*snapshot, matched, nullptr, &key) && key != last_sent) {
      Response response;
      key.clear();
      build(*snapshot, matched, &response, &key);
      if (!writer->Write(response)) return grpc::Status::OK;  // the client went away
      last_sent = std::move(key);
    }
    const uint64_t seen = snapshot->generation;
    do {
      if (context->IsCancelled()) return grpc::Status::CANCELLED;
      if (stopping_ || cache_.shut_down()) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the agent is stopping");
      }
      snapshot = cache_.WaitForChange(seen, absl::Now() + kPollInterval);
    } while (snapshot->generation == seen);
  }
}

X509Reactor* WorkloadApiService::FetchX509SVID(grpc::CallbackServerContext* context,
                                               const grpc::ByteBuffer* request) {
  grpc::ByteBuffer copy(*request);  // shares the slices; Deserialize consumes it
  if (X509SVIDRequest parsed;
      !grpc::SerializationTraits<X509SVIDRequest>::Deserialize(&copy, &parsed).ok()) {
    return RejectedX509(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                     "the request is not an X509SVIDRequest message"));
  }
  absl::StatusOr<Caller> caller = Identify(context);
  if (!caller.ok()) return RejectedX509(api::ToGrpcStatus(caller.status()));
  return x509_streams_.Open(*std::move(caller));
}

grpc::Status WorkloadApiService::FetchX509Bundles(grpc::ServerContext* context,
                                                  const X509BundlesRequest*,
                                                  grpc::ServerWriter<X509BundlesResponse>* writer) {
  absl::StatusOr<Caller> caller = Identify(context);
  if (!caller.ok()) return api::ToGrpcStatus(caller.status());
  return Streaming(context, writer, *caller,
                   [](const Snapshot& s, const auto&, X509BundlesResponse* out, std::string* key) {
                     if (s.bundle == nullptr) return false;
                     *key = absl::StrCat(s.bundle->sequence());
                     if (out != nullptr) {
                       (*out->mutable_bundles())[s.bundle->trust_domain().IdString()] =
                           s.bundle_der;
                     }
                     return true;
                   });
}

grpc::Status WorkloadApiService::FetchJWTSVID(grpc::ServerContext* context,
                                              const JWTSVIDRequest* request,
                                              JWTSVIDResponse* response) {
  absl::StatusOr<Caller> caller = Identify(context);
  if (!caller.ok()) return api::ToGrpcStatus(caller.status());
  ActiveCall active(metrics_);
  if (request->audience().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "audience must be specified");
  }
  std::shared_ptr<const Snapshot> snapshot = cache_.Get();
  std::vector<std::shared_ptr<const ca::v1::Entry>> matched = MatchingEntries(*snapshot, *caller);
  if (matched.empty()) {
    return NoIdentity(*caller);
  }
  if (jwt_ == nullptr) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "JWT-SVIDs are not enabled");
  }
  std::vector<std::string> audience(request->audience().begin(), request->audience().end());
  for (const auto& entry : matched) {
    if (!request->spiffe_id().empty() && entry->spiffe_id() != request->spiffe_id()) continue;
    absl::StatusOr<std::string> token = jwt_->Sign(entry->id(), audience);
    if (!token.ok()) return api::ToGrpcStatus(token.status());
    JWTSVID* svid = response->add_svids();
    svid->set_spiffe_id(entry->spiffe_id());
    svid->set_svid(*token);
    svid->set_hint(entry->hint());
  }
  if (response->svids().empty()) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        absl::StrCat("this process is not entitled to ", request->spiffe_id()));
  }
  return grpc::Status::OK;
}

grpc::Status WorkloadApiService::FetchJWTBundles(grpc::ServerContext* context,
                                                 const JWTBundlesRequest*,
                                                 grpc::ServerWriter<JWTBundlesResponse>* writer) {
  absl::StatusOr<Caller> caller = Identify(context);
  if (!caller.ok()) return api::ToGrpcStatus(caller.status());
  return Streaming(context, writer, *caller,
                   [](const Snapshot& s, const auto&, JWTBundlesResponse* out, std::string* key) {
                     if (s.bundle == nullptr) return false;
                     *key = absl::StrCat(s.bundle->sequence());
                     if (out != nullptr) {
                       (*out->mutable_bundles())[s.bundle->trust_domain().IdString()] = s.jwks_json;
                     }
                     return true;
                   });
}

grpc::Status WorkloadApiService::ValidateJWTSVID(grpc::ServerContext* context,
                                                 const ValidateJWTSVIDRequest* request,
                                                 ValidateJWTSVIDResponse* response) {
  absl::StatusOr<Caller> caller = Identify(context);
  if (!caller.ok()) return api::ToGrpcStatus(caller.status());
  ActiveCall active(metrics_);
  std::shared_ptr<const Snapshot> snapshot = cache_.Get();
  if (MatchingEntries(*snapshot, *caller).empty()) {
    return NoIdentity(*caller);
  }
  if (request->audience().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "audience must be specified");
  }
  if (request->svid().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "svid must be specified");
  }
  if (snapshot->bundle == nullptr) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "no trust bundle yet");
  }
  absl::StatusOr<std::pair<std::string, std::string>> valid =
      ValidateJwt(*snapshot, request->svid(), request->audience());
  if (!valid.ok()) return api::ToGrpcStatus(valid.status());
  response->set_spiffe_id(valid->first);
  if (absl::Status s = ClaimsToStruct(valid->second, response->mutable_claims()); !s.ok()) {
    return api::ToGrpcStatus(s);
  }
  return grpc::Status::OK;
}

// ---- the server ----

absl::StatusOr<std::unique_ptr<WorkloadApiServer>> WorkloadApiServer::Start(
    const std::string& socket_path, SvidCache& cache, AgentMetrics& metrics,
    WorkloadAttestor& attestor, JwtSigner* jwt) {
  std::unique_ptr<WorkloadApiServer> server(new WorkloadApiServer());
  server->socket_path_ = socket_path;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "socket_path \"", socket_path, "\" must be 1 to ", sizeof(addr.sun_path) - 1, " bytes"));
  }
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(socket_path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  // A socket left by an agent that died is replaced; any other file is not.
  struct stat st {};
  if (lstat(socket_path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat(socket_path,
                       ": exists and is not a socket; remove it or pick another "
                       "socket_path"));
    }
    unlink(socket_path.c_str());
  }
  server->listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (server->listen_fd_ < 0 ||
      bind(server->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(server->listen_fd_, 1024) != 0) {
    return absl::UnavailableError(
        absl::StrCat(socket_path, ": cannot listen: ", std::strerror(errno)));
  }
  // Every local user may connect: attestation, not the file mode, decides who gets what.
  chmod(socket_path.c_str(), 0777);
  server->wake_fd_ = eventfd(0, EFD_CLOEXEC);

  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  server->service_ =
      std::make_unique<WorkloadApiService>(cache, metrics, attestor, server->peers_, jwt);
  grpc::ServerBuilder builder;
  builder.RegisterService(server->service_.get());
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr) return absl::InternalError("cannot start the gRPC server");
  server->accept_ = std::thread([s = server.get()] { s->AcceptLoop(); });
  Log()->info("Workload API listening on {}", socket_path);
  return server;
}

void WorkloadApiServer::AcceptLoop() {
  pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  while (true) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      Log()->error("poll failed: {}", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    // Non-blocking and close-on-exec: a blocking fd hangs every call gRPC makes on it.
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      // Out of descriptors, the connection stays queued and poll() says so again at once:
      // pause rather than spin.
      if (errno == EMFILE || errno == ENFILE) {
        Log()->error("cannot accept Workload API connections: {}", std::strerror(errno));
        absl::SleepFor(absl::Milliseconds(100));
      }
      continue;
    }
    absl::StatusOr<PeerCredentials> credentials = ReadPeerCredentials(fd);
    absl::StatusOr<uint64_t> start = credentials.ok()
                                         ? ProcessStartTime("/proc", credentials->pid)
                                         : absl::StatusOr<uint64_t>(credentials.status());
    struct stat st {};
    if (start.ok() && fstat(fd, &st) != 0) start = absl::UnavailableError(std::strerror(errno));
    if (!start.ok()) {
      Log()->warn("connection refused: cannot identify the peer: {}", start.status().message());
      close(fd);
      continue;
    }
    peers_.Add(fd, {*credentials, st.st_ino, *start});
    grpc::AddInsecureChannelFromFd(server_.get(), fd);
  }
}

void WorkloadApiServer::Shutdown() {
  std::call_once(shutdown_once_, [this] {
    if (service_ != nullptr) service_->Stop();
    if (wake_fd_ >= 0) {
      uint64_t one = 1;
      (void)!write(wake_fd_, &one, sizeof(one));
    }
    if (accept_.joinable()) accept_.join();
    if (server_ != nullptr)
      server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    if (listen_fd_ >= 0) close(listen_fd_);
    if (wake_fd_ >= 0) close(wake_fd_);
    if (!socket_path_.empty()) unlink(socket_path_.c_str());
  });
}

WorkloadApiServer::~WorkloadApiServer() { Shutdown(); }

}  // namespace meshid::agent
