#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "meshid/pki/certificate.h"
#include "meshid/pki/key.h"

class X509SVIDResponse;

namespace meshid::agent {

// kDefaultWorkloadSocket is where `meshid agent run` listens unless configured otherwise.
inline constexpr char kDefaultWorkloadSocket[] = "unix:///run/meshid/agent.sock";

// WorkloadApiTarget turns a SPIFFE endpoint address into a gRPC target: "unix:///abs/path"
// or a bare "/abs/path" become "unix:/abs/path"; "tcp://ip:port" becomes "ip:port". Anything
// else is InvalidArgument saying what the forms are.
absl::StatusOr<std::string> WorkloadApiTarget(const std::string& address);

// X509Svid is one identity as the Workload API hands it out.
struct X509Svid {
  std::string spiffe_id;
  std::vector<pki::Certificate> chain;  // leaf first
  pki::PrivateKey key;
  std::vector<pki::Certificate> bundle;
  std::string hint;
};

// X509SvidsFromResponse parses a FetchX509SVID message, checking each key matches its leaf.
absl::StatusOr<std::vector<X509Svid>> X509SvidsFromResponse(const X509SVIDResponse& response);

// WorkloadClient is a SPIFFE Workload API client (the `meshid svid` commands use it).
class WorkloadClient {
 public:
  // Connect prepares a channel to `address` (see WorkloadApiTarget); it connects lazily.
  static absl::StatusOr<std::unique_ptr<WorkloadClient>> Connect(const std::string& address);
  virtual ~WorkloadClient() = default;

  // FetchX509 returns the first FetchX509SVID message, waiting at most `timeout`.
  virtual absl::StatusOr<std::vector<X509Svid>> FetchX509(absl::Duration timeout) = 0;
  // WatchX509 calls `on_update` with every FetchX509SVID message until it returns false, the
  // stream ends (its status is returned) or Cancel is called (OK).
  virtual absl::Status WatchX509(
      const std::function<bool(const std::vector<X509Svid>&)>& on_update) = 0;
  // Cancel ends a WatchX509 running in another thread.
  virtual void Cancel() = 0;
};

}  // namespace meshid::agent
