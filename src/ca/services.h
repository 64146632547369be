#pragma once

// Private to the ca module: the gRPC services, thin adapters over Authority.

#include <atomic>

#include "authority.h"
#include "meshid/ca/v1/admin.grpc.pb.h"
#include "meshid/ca/v1/ca.grpc.pb.h"

namespace meshid::ca {

// CaService serves agents. AttestNode and FetchBundle need only TLS; the other calls need
// the caller's node SVID (mTLS).
class CaService final : public v1::CA::Service {
 public:
  explicit CaService(Authority& authority) : authority_(authority) {}

  grpc::Status AttestNode(grpc::ServerContext* context, const v1::AttestNodeRequest* request,
                          v1::AttestNodeResponse* response) override;
  grpc::Status RenewNode(grpc::ServerContext* context, const v1::RenewNodeRequest* request,
                         v1::RenewNodeResponse* response) override;
  grpc::Status SyncEntries(grpc::ServerContext* context, const v1::SyncEntriesRequest* request,
                           v1::SyncEntriesResponse* response) override;
  grpc::Status SignSVIDs(grpc::ServerContext* context, const v1::SignSVIDsRequest* request,
                         v1::SignSVIDsResponse* response) override;
  grpc::Status FetchBundle(grpc::ServerContext* context, const v1::FetchBundleRequest* request,
                           v1::Bundle* response) override;
  grpc::Status StreamBundle(grpc::ServerContext* context, const v1::StreamBundleRequest* request,
                            grpc::ServerWriter<v1::Bundle>* writer) override;
  grpc::Status Watch(grpc::ServerContext* context, const v1::WatchRequest* request,
                     grpc::ServerWriter<v1::WatchEvent>* writer) override;
  grpc::Status MintJWTSVID(grpc::ServerContext* context, const v1::MintJWTSVIDRequest* request,
                           v1::MintJWTSVIDResponse* response) override;

  // Stop ends open streams.
  void Stop() { stopping_ = true; }

 private:
  Authority& authority_;
  std::atomic<bool> stopping_{false};
};

class AdminService final : public v1::Admin::Service {
 public:
  explicit AdminService(Authority& authority) : authority_(authority) {}

  grpc::Status CreateJoinToken(grpc::ServerContext* context,
                               const v1::CreateJoinTokenRequest* request,
                               v1::CreateJoinTokenResponse* response) override;
  grpc::Status ListNodes(grpc::ServerContext* context, const v1::ListNodesRequest* request,
                         v1::ListNodesResponse* response) override;
  grpc::Status EvictNode(grpc::ServerContext* context, const v1::EvictNodeRequest* request,
                         v1::Node* response) override;
  grpc::Status CreateEntry(grpc::ServerContext* context, const v1::CreateEntryRequest* request,
                           v1::Entry* response) override;
  grpc::Status ListEntries(grpc::ServerContext* context, const v1::ListEntriesRequest* request,
                           v1::ListEntriesResponse* response) override;
  grpc::Status GetEntry(grpc::ServerContext* context, const v1::GetEntryRequest* request,
                        v1::Entry* response) override;
  grpc::Status DeleteEntry(grpc::ServerContext* context, const v1::DeleteEntryRequest* request,
                           v1::DeleteEntryResponse* response) override;
  grpc::Status GetBundle(grpc::ServerContext* context, const v1::GetBundleRequest* request,
                         v1::Bundle* response) override;
  grpc::Status AddRoot(grpc::ServerContext* context, const v1::AddRootRequest* request,
                       v1::Bundle* response) override;
  grpc::Status RemoveRoot(grpc::ServerContext* context, const v1::RemoveRootRequest* request,
                          v1::Bundle* response) override;
  grpc::Status RequestReissue(grpc::ServerContext* context,
                              const v1::RequestReissueRequest* request,
                              v1::RequestReissueResponse* response) override;

 private:
  Authority& authority_;
};

// PeerSpiffeId returns the SPIFFE ID of the client certificate the call came with, or
// Unauthenticated when there is none.
absl::StatusOr<pki::SpiffeId> PeerSpiffeId(const grpc::ServerContext& context);

}  // namespace meshid::ca
