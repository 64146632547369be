#include "meshid/agent/workload_client.h"

#include <mutex>

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "meshid/api/status.h"
#include "meshid/base/status.h"
#include "spiffe/workload/workload.grpc.pb.h"

namespace meshid::agent {
namespace {

class WorkloadClientImpl final : public WorkloadClient {
 public:
  explicit WorkloadClientImpl(std::shared_ptr<grpc::Channel> channel)
      : stub_(SpiffeWorkloadAPI::NewStub(std::move(channel))) {}

  absl::StatusOr<std::vector<X509Svid>> FetchX509(absl::Duration timeout) override {
    grpc::ClientContext context;
    context.AddMetadata("workload.spiffe.io", "true");
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    std::unique_ptr<grpc::ClientReader<X509SVIDResponse>> reader =
        stub_->FetchX509SVID(&context, X509SVIDRequest());
    X509SVIDResponse response;
    if (reader->Read(&response)) {
      context.TryCancel();
      reader->Finish().ok();
      return X509SvidsFromResponse(response);
    }
    return Explain(reader->Finish());
  }

  absl::Status WatchX509(
      const std::function<bool(const std::vector<X509Svid>&)>& on_update) override {
    grpc::ClientContext context;
    context.AddMetadata("workload.spiffe.io", "true");
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (cancelled_) return absl::OkStatus();
      context_ = &context;
    }
    std::unique_ptr<grpc::ClientReader<X509SVIDResponse>> reader =
        stub_->FetchX509SVID(&context, X509SVIDRequest());
    X509SVIDResponse response;
    absl::Status result = absl::OkStatus();
    while (reader->Read(&response)) {
      absl::StatusOr<std::vector<X509Svid>> svids = X509SvidsFromResponse(response);
      if (!svids.ok()) {
        result = svids.status();
        break;
      }
      if (!on_update(*svids)) break;
    }
    context.TryCancel();
    grpc::Status end = reader->Finish();
    std::lock_guard<std::mutex> lock(mu_);
    context_ = nullptr;
    if (!result.ok()) return result;
    if (cancelled_ || end.error_code() == grpc::StatusCode::CANCELLED) return absl::OkStatus();
    return Explain(end);
  }

  void Cancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }

 private:
  static absl::Status Explain(const grpc::Status& status) {
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
      return absl::UnavailableError(absl::StrCat(
          "cannot reach the Workload API: is meshid agent running, and is this its socket_path? "
          "(--socket or SPIFFE_ENDPOINT_SOCKET): ",
          status.error_message()));
    }
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      return absl::DeadlineExceededError(
          "no SVID arrived in time: does an entry match this process, and is the agent "
          "attested? (meshid entry list)");
    }
    return api::FromGrpcStatus(status);
  }

  std::unique_ptr<SpiffeWorkloadAPI::Stub> stub_;
  std::mutex mu_;
  grpc::ClientContext* context_ = nullptr;
  bool cancelled_ = false;
};

}  // namespace

absl::StatusOr<std::string> WorkloadApiTarget(const std::string& address) {
  absl::string_view rest = address;
  if (absl::ConsumePrefix(&rest, "unix://")) {
    if (!absl::StartsWith(rest, "/")) {
      return absl::InvalidArgumentError(absl::StrCat("Workload API address \"", address,
                                                     "\": a unix address needs an absolute path "
                                                     "(unix:///run/meshid/agent.sock)"));
    }
    return absl::StrCat("unix:", rest);
  }
  if (absl::StartsWith(address, "/")) return absl::StrCat("unix:", address);
  if (absl::ConsumePrefix(&rest, "tcp://") && !rest.empty()) return std::string(rest);
  return absl::InvalidArgumentError(
      absl::StrCat("Workload API address \"", address,
                   "\": expected unix:///path/to/socket, /path/to/socket or tcp://ip:port"));
}

absl::StatusOr<std::vector<X509Svid>> X509SvidsFromResponse(const X509SVIDResponse& response) {
  std::vector<X509Svid> svids;
  for (const X509SVID& svid : response.svids()) {
    MESHID_ASSIGN_OR_RETURN(std::vector<pki::Certificate> chain,
                            pki::ParseCertificates(svid.x509_svid()));
    MESHID_ASSIGN_OR_RETURN(pki::PrivateKey key, pki::PrivateKey::Parse(svid.x509_svid_key()));
    MESHID_ASSIGN_OR_RETURN(std::vector<pki::Certificate> bundle,
                            pki::ParseCertificates(svid.bundle()));
    X509Svid out{svid.spiffe_id(), std::move(chain), std::move(key), std::move(bundle),
                 svid.hint()};
    if (!out.key.Matches(out.chain.front().public_key())) {
      return absl::DataLossError(
          absl::StrCat("the Workload API sent a key that does not match ", svid.spiffe_id()));
    }
    svids.push_back(std::move(out));
  }
  if (svids.empty()) return absl::NotFoundError("the Workload API sent no SVID");
  return svids;
}

absl::StatusOr<std::unique_ptr<WorkloadClient>> WorkloadClient::Connect(
    const std::string& address) {
  MESHID_ASSIGN_OR_RETURN(std::string target, WorkloadApiTarget(address));
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  if (channel == nullptr) return absl::InternalError("cannot create a gRPC channel");
  return std::unique_ptr<WorkloadClient>(new WorkloadClientImpl(std::move(channel)));
}

}  // namespace meshid::agent
