#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "meshid/ca/v1/ca.grpc.pb.h"
#include "meshid/pki/bundle.h"
#include "meshid/pki/certificate.h"
#include "meshid/pki/key.h"
#include "meshid/pki/spiffe_id.h"

namespace meshid::agent {

// CaClientOptions says how to reach and authenticate the CA server.
struct CaClientOptions {
  std::string address;      // host:port of the CA's agent API
  pki::TrustBundle bundle;  // roots the server's SVID must chain to
  pki::SpiffeId server_id;  // spiffe://<td>/meshid/server
  // The node's identity for mTLS; absent for AttestNode, which needs TLS only.
  std::optional<pki::PrivateKey> key;
  std::vector<pki::Certificate> chain;  // leaf first
  // Accept any server certificate: only for AttestNode under --insecure-bootstrap, when the
  // agent has no bundle yet (a lab; the agent warns at every start).
  bool insecure_skip_verify = false;
};

// CaClient is a connection to the CA server over TLS: the server must present an SVID that
// chains to the bundle and carries exactly `server_id`.
class CaClient {
 public:
  static absl::StatusOr<std::unique_ptr<CaClient>> Connect(const CaClientOptions& options);

  // stub returns the generated stub, for calls the helpers below do not cover.
  ca::v1::CA::Stub& stub() { return *stub_; }

  absl::StatusOr<ca::v1::AttestNodeResponse> AttestNode(const std::string& token,
                                                        const std::string& csr,
                                                        const std::string& node_name);
  absl::StatusOr<ca::v1::RenewNodeResponse> RenewNode(const std::string& csr);
  absl::StatusOr<ca::v1::SyncEntriesResponse> SyncEntries(int64_t revision);
  absl::StatusOr<ca::v1::SignSVIDsResponse> SignSvids(const ca::v1::SignSVIDsRequest& request);
  absl::StatusOr<ca::v1::Bundle> FetchBundle();
  absl::StatusOr<ca::v1::MintJWTSVIDResponse> MintJwtSvid(const std::string& entry_id,
                                                          const std::vector<std::string>& audience);
  // Watch opens the CA's change stream; `context` must outlive the reader.
  std::unique_ptr<grpc::ClientReader<ca::v1::WatchEvent>> Watch(grpc::ClientContext* context);

 private:
  explicit CaClient(std::unique_ptr<ca::v1::CA::Stub> stub) : stub_(std::move(stub)) {}
  std::unique_ptr<ca::v1::CA::Stub> stub_;
};

// ParseSvidChain turns an API X509SVID's DER chain into certificates.
absl::StatusOr<std::vector<pki::Certificate>> ParseSvidChain(const ca::v1::X509SVID& svid);

}  // namespace meshid::agent
