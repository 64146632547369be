#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "meshid/pki/spiffe_id.h"

namespace meshid::agent {

// AgentConfig is the node agent's configuration (`meshid agent run --config agent.yaml`).
struct AgentConfig {
  pki::TrustDomain trust_domain;
  std::string ca_address = "127.0.0.1:8081";
  std::string data_dir = "/var/lib/meshid/agent";
  // Needed only until the node is attested (and again to re-attest an expired node).
  std::string join_token;
  // Roots to authenticate the CA with on the first start (PEM or SPIFFE bundle JSON);
  // required unless the agent runs with --insecure-bootstrap.
  std::string trust_bundle;
  std::string socket_path = "/run/meshid/agent.sock";
  std::string http_listen = "127.0.0.1:8082";
  std::string node_name;  // default: the host name
  // Workload SVIDs are renewed at this fraction of their lifetime, ±10 % jitter.
  double renew_fraction = 0.5;
  // How often entries are fetched from the CA besides its change signals.
  absl::Duration sync_interval = absl::Seconds(5);
  std::string log_level = "info";
};

// ParseAgentConfig reads YAML `text` that came from `source` (a file name, for messages).
// Unknown keys and bad values are InvalidArgument naming the file and the key.
absl::StatusOr<AgentConfig> ParseAgentConfig(absl::string_view text, absl::string_view source);

// DefaultAgentConfigYaml returns a commented configuration for `meshid agent config`.
std::string DefaultAgentConfigYaml();

}  // namespace meshid::agent
