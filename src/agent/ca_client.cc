#include "meshid/agent/ca_client.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include "absl/strings/str_cat.h"
#include "meshid/api/status.h"
#include "meshid/base/status.h"

namespace meshid::agent {
namespace {

constexpr auto kCallTimeout = std::chrono::seconds(30);

// ServerIdVerifier accepts the server only when its SVID names exactly the expected SPIFFE
// ID; the chain itself was verified against the bundle by gRPC before this runs.
class ServerIdVerifier final : public grpc::experimental::ExternalCertificateVerifier {
 public:
  explicit ServerIdVerifier(std::string expected) : expected_(std::move(expected)) {}

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)>, grpc::Status* sync_status) override {
    std::vector<grpc::string_ref> uris = request->uri_names();
    if (uris.size() == 1 && std::string(uris[0].data(), uris[0].size()) == expected_) {
      *sync_status = grpc::Status::OK;
    } else {
      *sync_status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                  absl::StrCat("the server is not ", expected_));
    }
    return true;  // answered synchronously
  }
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {}

 private:
  std::string expected_;
};

template <typename Fn>
absl::Status Call(Fn&& fn) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
  return api::FromGrpcStatus(fn(&context));
}

}  // namespace

absl::StatusOr<std::unique_ptr<CaClient>> CaClient::Connect(const CaClientOptions& options) {
  if (options.bundle.x509_authorities().empty() && !options.insecure_skip_verify) {
    return absl::FailedPreconditionError("the trust bundle holds no root to verify the CA with");
  }
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider;
  std::string roots = options.bundle.ToPem();
  if (options.key.has_value()) {
    MESHID_ASSIGN_OR_RETURN(base::SecretString key_pem, options.key->ToPkcs8Pem());
    grpc::experimental::IdentityKeyCertPair pair{std::string(key_pem.view()),
                                                 pki::ToPem(options.chain)};
    provider = std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
        roots, std::vector<grpc::experimental::IdentityKeyCertPair>{pair});
  } else if (!roots.empty()) {
    provider = std::make_shared<grpc::experimental::StaticDataCertificateProvider>(roots);
  }
  grpc::experimental::TlsChannelCredentialsOptions tls;
  // gRPC aborts on a provider with neither roots nor an identity (the insecure bootstrap).
  if (provider != nullptr) tls.set_certificate_provider(provider);
  if (!options.insecure_skip_verify) tls.watch_root_certs();
  if (options.key.has_value()) tls.watch_identity_key_cert_pairs();
  // SVIDs carry no DNS name for the address: the SPIFFE ID is checked instead.
  tls.set_check_call_host(false);
  if (options.insecure_skip_verify) {
    tls.set_verify_server_certs(false);
    tls.set_certificate_verifier(std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
  } else {
    tls.set_verify_server_certs(true);
    tls.set_certificate_verifier(
        grpc::experimental::ExternalCertificateVerifier::Create<ServerIdVerifier>(
            options.server_id.ToString()));
  }
  // gRPC backs off reconnecting up to 2 minutes by default, failing every call meanwhile: a
  // CA back from an outage would wait that long for its agents.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 500);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 500);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(options.address, grpc::experimental::TlsCredentials(tls), args);
  if (channel == nullptr) return absl::InternalError("cannot create a gRPC channel");
  return std::unique_ptr<CaClient>(new CaClient(ca::v1::CA::NewStub(channel)));
}

absl::StatusOr<ca::v1::AttestNodeResponse> CaClient::AttestNode(const std::string& token,
                                                                const std::string& csr,
                                                                const std::string& node_name) {
  ca::v1::AttestNodeRequest request;
  request.set_join_token(token);
  request.set_csr(csr);
  request.set_node_name(node_name);
  ca::v1::AttestNodeResponse response;
  MESHID_RETURN_IF_ERROR(
      Call([&](grpc::ClientContext* c) { return stub_->AttestNode(c, request, &response); }));
  return response;
}

absl::StatusOr<ca::v1::RenewNodeResponse> CaClient::RenewNode(const std::string& csr) {
  ca::v1::RenewNodeRequest request;
  request.set_csr(csr);
  ca::v1::RenewNodeResponse response;
  MESHID_RETURN_IF_ERROR(
      Call([&](grpc::ClientContext* c) { return stub_->RenewNode(c, request, &response); }));
  return response;
}

absl::StatusOr<ca::v1::SyncEntriesResponse> CaClient::SyncEntries(int64_t revision) {
  ca::v1::SyncEntriesRequest request;
  request.set_revision(revision);
  ca::v1::SyncEntriesResponse response;
  MESHID_RETURN_IF_ERROR(
      Call([&](grpc::ClientContext* c) { return stub_->SyncEntries(c, request, &response); }));
  return response;
}

absl::StatusOr<ca::v1::SignSVIDsResponse> CaClient::SignSvids(
    const ca::v1::SignSVIDsRequest& request) {
  ca::v1::SignSVIDsResponse response;
  MESHID_RETURN_IF_ERROR(
      Call([&](grpc::ClientContext* c) { return stub_->SignSVIDs(c, request, &response); }));
  return response;
}

absl::StatusOr<ca::v1::Bundle> CaClient::FetchBundle() {
  ca::v1::Bundle response;
  MESHID_RETURN_IF_ERROR(Call([&](grpc::ClientContext* c) {
    return stub_->FetchBundle(c, ca::v1::FetchBundleRequest(), &response);
  }));
  return response;
}

absl::StatusOr<ca::v1::MintJWTSVIDResponse> CaClient::MintJwtSvid(
    const std::string& entry_id, const std::vector<std::string>& audience) {
  ca::v1::MintJWTSVIDRequest request;
  request.set_entry_id(entry_id);
  for (const std::string& a : audience) request.add_audience(a);
  ca::v1::MintJWTSVIDResponse response;
  MESHID_RETURN_IF_ERROR(
      Call([&](grpc::ClientContext* c) { return stub_->MintJWTSVID(c, request, &response); }));
  return response;
}

std::unique_ptr<grpc::ClientReader<ca::v1::WatchEvent>> CaClient::Watch(
    grpc::ClientContext* context) {
  return stub_->Watch(context, ca::v1::WatchRequest());
}

absl::StatusOr<std::vector<pki::Certificate>> ParseSvidChain(const ca::v1::X509SVID& svid) {
  std::vector<pki::Certificate> chain;
  for (const std::string& der : svid.cert_chain()) {
    MESHID_ASSIGN_OR_RETURN(pki::Certificate cert, pki::Certificate::FromDer(der));
    chain.push_back(std::move(cert));
  }
  if (chain.empty()) return absl::InvalidArgumentError("the SVID has no certificate");
  return chain;
}

}  // namespace meshid::agent
