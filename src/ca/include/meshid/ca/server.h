#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "meshid/base/clock.h"
#include "meshid/ca/config.h"

namespace meshid::ca {

struct ServeOptions {
  // Start even though the root's private key is readable in the upstream directory (a lab
  // only; the server warns at every start).
  bool allow_root_key_online = false;
};

// CaServer is a running CA: the agent API over TLS on `listen`, the admin API on the unix
// socket, /metrics, /healthz and /readyz on `http_listen`, and a loop that rotates the
// issuing CA and renews the server's own TLS identity.
class CaServer {
 public:
  // Start checks the upstream, opens the store, brings up an issuing CA and starts serving.
  // Any problem is returned before anything listens.
  static absl::StatusOr<std::unique_ptr<CaServer>> Start(const CaConfig& config,
                                                         const ServeOptions& options,
                                                         const base::Clock& clock);
  virtual ~CaServer() = default;

  // Shutdown stops serving (streams end with UNAVAILABLE) and the rotation loop.
  virtual void Shutdown() = 0;

  virtual int grpc_port() const = 0;
  virtual int http_port() const = 0;
};

}  // namespace meshid::ca
