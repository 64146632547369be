#pragma once

// Private to the agent module: the SPIFFE Workload API on a unix socket. Connections are
// accepted here, not by gRPC, so that each one's SO_PEERCRED and socket inode are recorded
// before the fd is handed to gRPC (grpc::AddInsecureChannelFromFd); a handler finds its
// caller from ServerContext::peer() ("fd:N") and attests it.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "agent_metrics.h"
#include "jwt_signer.h"
#include "spiffe/workload/workload.grpc.pb.h"
#include "svid_cache.h"
#include "workload_attestor.h"
#include "x509_streams.h"

namespace meshid::agent {

// PeerRegistry remembers, per accepted fd, who connected.
class PeerRegistry {
 public:
  struct Peer {
    PeerCredentials credentials;
    ino_t inode = 0;
    uint64_t start_time = 0;  // of the process, from /proc/<pid>/stat
  };
  void Add(int fd, const Peer& peer);
  // Find returns the peer of `fd` if fd still refers to the socket that was accepted.
  std::optional<Peer> Find(int fd) const;

 private:
  mutable std::mutex mu_;
  std::map<int, Peer> peers_;
};

// FetchX509SVID, the stream every workload holds, is served with the callback API and
// pre-serialized responses (see x509_streams.h); the other methods are synchronous.
class WorkloadApiService final
    : public SpiffeWorkloadAPI::WithRawCallbackMethod_FetchX509SVID<SpiffeWorkloadAPI::Service> {
 public:
  WorkloadApiService(SvidCache& cache, AgentMetrics& metrics, WorkloadAttestor& attestor,
                     const PeerRegistry& peers, JwtSigner* jwt)
      : cache_(cache),
        metrics_(metrics),
        attestor_(attestor),
        peers_(peers),
        jwt_(jwt),
        x509_streams_(cache, metrics) {}

  X509Reactor* FetchX509SVID(grpc::CallbackServerContext* context,
                             const grpc::ByteBuffer* request) override;
  grpc::Status FetchX509Bundles(grpc::ServerContext* context, const X509BundlesRequest* request,
                                grpc::ServerWriter<X509BundlesResponse>* writer) override;
  grpc::Status FetchJWTSVID(grpc::ServerContext* context, const JWTSVIDRequest* request,
                            JWTSVIDResponse* response) override;
  grpc::Status FetchJWTBundles(grpc::ServerContext* context, const JWTBundlesRequest* request,
                               grpc::ServerWriter<JWTBundlesResponse>* writer) override;
  grpc::Status ValidateJWTSVID(grpc::ServerContext* context, const ValidateJWTSVIDRequest* request,
                               ValidateJWTSVIDResponse* response) override;

  void Stop() {
    stopping_ = true;
    x509_streams_.Stop();
  }

 private:
  // Identify checks the security header and attests the caller.
  absl::StatusOr<Caller> Identify(grpc::ServerContextBase* context);
  // Streaming sends `build(snapshot)` now and whenever it changes, until the client leaves.
  template <typename Response, typename Build>
  grpc::Status Streaming(grpc::ServerContext* context, grpc::ServerWriter<Response>* writer,
                         const Caller& caller, Build build);

  SvidCache& cache_;
  AgentMetrics& metrics_;
  WorkloadAttestor& attestor_;
  const PeerRegistry& peers_;
  JwtSigner* jwt_;
  std::atomic<bool> stopping_{false};
  X509Streams x509_streams_;
};

// WorkloadApiServer listens on the socket and serves WorkloadApiService.
class WorkloadApiServer {
 public:
  static absl::StatusOr<std::unique_ptr<WorkloadApiServer>> Start(const std::string& socket_path,
                                                                  SvidCache& cache,
                                                                  AgentMetrics& metrics,
                                                                  WorkloadAttestor& attestor,
                                                                  JwtSigner* jwt);
  ~WorkloadApiServer();
  void Shutdown();

 private:
  WorkloadApiServer() = default;
  void AcceptLoop();

  std::string socket_path_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd that ends AcceptLoop
  PeerRegistry peers_;
  std::unique_ptr<WorkloadApiService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::thread accept_;
  std::once_flag shutdown_once_;
};

}  // namespace meshid::agent
