#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "meshid/agent/config.h"
#include "meshid/base/clock.h"

namespace meshid::agent {

struct AgentOptions {
  // Attest without a trust bundle, accepting whatever certificate the CA presents on that
  // first connection (a lab only; the agent warns at every start).
  bool insecure_bootstrap = false;
};

// Agent is a running node agent: the node identity kept renewed with the CA, one SVID per
// registration entry of this node, the SPIFFE Workload API on `socket_path`, and /metrics,
// /healthz and /readyz on `http_listen`.
class Agent {
 public:
  // Start attests the node (or loads its saved identity) and starts serving. Any problem is
  // returned before anything listens.
  static absl::StatusOr<std::unique_ptr<Agent>> Start(const AgentConfig& config,
                                                      const AgentOptions& options,
                                                      const base::Clock& clock);
  virtual ~Agent() = default;
  // Shutdown ends open Workload API streams (UNAVAILABLE) and stops the loops.
  virtual void Shutdown() = 0;
  virtual int http_port() const = 0;
};

}  // namespace meshid::agent
