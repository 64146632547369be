#include "meshid/agent/config.h"

#include <set>

#include <unistd.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "meshid/base/status.h"
#include "meshid/base/yaml_config.h"

namespace meshid::agent {
namespace {

using Schema = base::YamlSchema<AgentConfig>;

const Schema& AgentSchema() {
  static const auto* schema = new Schema({
      {"trust_domain",
       [](const YAML::Node& node, AgentConfig& config) -> absl::Status {
         MESHID_ASSIGN_OR_RETURN(std::string value, base::YamlScalar(node));
         MESHID_ASSIGN_OR_RETURN(config.trust_domain, pki::TrustDomain::Parse(value));
         return absl::OkStatus();
       }},
      {"ca_address", Schema::String(&AgentConfig::ca_address)},
      {"data_dir", Schema::String(&AgentConfig::data_dir)},
      {"join_token", Schema::String(&AgentConfig::join_token)},
      {"trust_bundle", Schema::String(&AgentConfig::trust_bundle)},
      {"socket_path", Schema::String(&AgentConfig::socket_path)},
      {"http_listen", Schema::String(&AgentConfig::http_listen)},
      {"node_name", Schema::String(&AgentConfig::node_name)},
      {"renew_fraction",
       [](const YAML::Node& node, AgentConfig& config) -> absl::Status {
         MESHID_ASSIGN_OR_RETURN(std::string value, base::YamlScalar(node));
         double fraction = 0;
         if (!absl::SimpleAtod(value, &fraction) || !(fraction >= 0.1 && fraction <= 0.9)) {
           return absl::InvalidArgumentError(
               absl::StrCat("\"", value, "\" is not a number between 0.1 and 0.9"));
         }
         config.renew_fraction = fraction;
         return absl::OkStatus();
       }},
      {"sync_interval", Schema::Duration(&AgentConfig::sync_interval)},
      {"log_level",
       [](const YAML::Node& node, AgentConfig& config) -> absl::Status {
         MESHID_ASSIGN_OR_RETURN(config.log_level,
                                 base::YamlOneOf(node, {"debug", "info", "warn", "error"}));
         return absl::OkStatus();
       }},
  });
  return *schema;
}

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "";
  return name;
}

}  // namespace

absl::StatusOr<AgentConfig> ParseAgentConfig(absl::string_view text, absl::string_view source) {
  AgentConfig config{*pki::TrustDomain::Parse("unset.invalid")};
  MESHID_ASSIGN_OR_RETURN(std::set<std::string> seen, AgentSchema().Load(text, source, config));
  if (seen.count("trust_domain") == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": trust_domain: required (e.g. trust_domain: example.org)"));
  }
  if (config.node_name.empty()) config.node_name = HostName();
  return config;
}

std::string DefaultAgentConfigYaml() {
  return R"(# meshid node agent configuration (meshid agent run --config FILE).
# Every key is shown at its default; trust_domain is required, and trust_bundle unless the
# agent runs with --insecure-bootstrap (a lab only).

trust_domain: example.org

# The CA server's gRPC address (its `listen`).
ca_address: 127.0.0.1:8081

# Where the agent keeps its node SVID and key (0600) and the latest trust bundle.
# Workload keys are never written anywhere.
data_dir: /var/lib/meshid/agent

# A one-time token from `meshid token create --node NAME`, needed for the first start and
# to re-attest a node whose SVID expired while the agent was down.
# join_token: ...

# Roots to authenticate the CA with on the first start: the bundle.pem of
# `meshid pki init`. Later starts use the newer bundle kept in data_dir.
trust_bundle: /etc/meshid/bundle.pem

# The SPIFFE Workload API socket. Every local user may connect; attestation (uid, gid,
# binary path and digest) decides who gets which identity.
socket_path: /run/meshid/agent.sock

# Plain HTTP for /metrics (Prometheus), /healthz and /readyz.
http_listen: 127.0.0.1:8082

# This node's name: its identity is spiffe://<trust_domain>/meshid/node/<node_name>.
# Default: the host name.
# node_name: node1

# Renew workload SVIDs at this fraction of their lifetime (0.1 to 0.9), with ±10 % jitter.
renew_fraction: 0.5

# How often to fetch registration entries besides the CA's change signals.
sync_interval: 5s

# debug, info, warn or error
log_level: info
)";
}

}  // namespace meshid::agent
