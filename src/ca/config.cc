#include "meshid/ca/config.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "meshid/base/duration.h"
#include "meshid/base/status.h"
#include "meshid/base/yaml_config.h"

namespace meshid::ca {
namespace {

using Schema = base::YamlSchema<CaConfig>;

const Schema& CaSchema() {
  static const auto* schema = new Schema({
      {"trust_domain",
       [](const YAML::Node& node, CaConfig& config) -> absl::Status {
         MESHID_ASSIGN_OR_RETURN(std::string value, base::YamlScalar(node));
         MESHID_ASSIGN_OR_RETURN(config.trust_domain, pki::TrustDomain::Parse(value));
         return absl::OkStatus();
       }},
      {"listen", Schema::String(&CaConfig::listen)},
      {"http_listen", Schema::String(&CaConfig::http_listen)},
      {"admin_socket", Schema::String(&CaConfig::admin_socket)},
      {"data_dir", Schema::String(&CaConfig::data_dir)},
      {"upstream_dir", Schema::String(&CaConfig::upstream_dir)},
      {"store.sqlite", Schema::String(&CaConfig::sqlite_path)},
      {"store.sync",
       [](const YAML::Node& node, CaConfig& config) -> absl::Status {
         // Not MESHID_ASSIGN_OR_RETURN with a temporary set: GCC 12 -O2 reports a false
         // maybe-uninitialized there, which -Werror turns into a broken release build.
         static const std::set<std::string>* modes = new std::set<std::string>{"normal", "full"};
         absl::StatusOr<std::string> mode = base::YamlOneOf(node, *modes);
         if (!mode.ok()) return mode.status();
         config.sqlite_full_sync = *mode == "full";
         return absl::OkStatus();
       }},
      {"issuing_ca.ttl", Schema::Duration(&CaConfig::issuing_ca_ttl)},
      {"issuing_ca.key_type",
       [](const YAML::Node& node, CaConfig& config) -> absl::Status {
         MESHID_ASSIGN_OR_RETURN(std::string value, base::YamlScalar(node));
         MESHID_ASSIGN_OR_RETURN(config.issuing_ca_key_type, pki::ParseKeyType(value));
         return absl::OkStatus();
       }},
      {"svid.default_ttl", Schema::Duration(&CaConfig::svid_default_ttl)},
      {"svid.max_ttl", Schema::Duration(&CaConfig::svid_max_ttl)},
      {"node_svid_ttl", Schema::Duration(&CaConfig::node_svid_ttl)},
      {"jwt_svid.ttl", Schema::Duration(&CaConfig::jwt_svid_ttl)},
      {"log_level",
       [](const YAML::Node& node, CaConfig& config) -> absl::Status {
         MESHID_ASSIGN_OR_RETURN(config.log_level,
                                 base::YamlOneOf(node, {"debug", "info", "warn", "error"}));
         return absl::OkStatus();
       }},
  });
  return *schema;
}

absl::Status Validate(const CaConfig& config, const std::set<std::string>& seen) {
  if (seen.count("trust_domain") == 0) {
    return absl::InvalidArgumentError("trust_domain: required (e.g. trust_domain: example.org)");
  }
  if (config.svid_default_ttl > config.svid_max_ttl) {
    return absl::InvalidArgumentError(absl::StrCat(
        "svid.default_ttl (", base::HumanDuration(config.svid_default_ttl),
        ") is longer than svid.max_ttl (", base::HumanDuration(config.svid_max_ttl), ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CaConfig> ParseCaConfig(absl::string_view text, absl::string_view source) {
  CaConfig config{*pki::TrustDomain::Parse("unset.invalid")};
  MESHID_ASSIGN_OR_RETURN(std::set<std::string> seen, CaSchema().Load(text, source, config));
  MESHID_RETURN_IF_ERROR(base::Annotate(Validate(config, seen), source));
  if (config.sqlite_path.empty()) config.sqlite_path = config.data_dir + "/meshid.db";
  return config;
}

std::string DefaultCaConfigYaml() {
  return R"(# meshid CA server configuration (meshid ca serve --config FILE).
# Every key is shown at its default; only trust_domain is required.

# The trust domain this CA issues identities in.
trust_domain: example.org

# gRPC for node agents, over TLS with the server's own SVID.
listen: 127.0.0.1:8081

# Plain HTTP for /metrics (Prometheus), /healthz and /readyz.
http_listen: 127.0.0.1:8080

# Administration API (meshid token/node/entry ...): a unix socket of mode 0600.
admin_socket: /run/meshid/ca-admin.sock

# Where the server keeps its issuing CA keys and TLS identity (created 0700).
data_dir: /var/lib/meshid/ca

# The operator-provided CA the server mints its issuing CAs under: the intermediate/
# directory `meshid pki init` writes (ca.crt, ca.key, chain.pem, bundle.pem). The root's
# private key must not be readable here.
upstream_dir: /etc/meshid/intermediate

store:
  # SQLite database (WAL mode), created 0600. Default: <data_dir>/meshid.db
  # sqlite: /var/lib/meshid/ca/meshid.db
  # normal survives a crash of the process; full also a power loss, at an fsync per write.
  sync: normal

issuing_ca:
  # Lifetime of each issuing CA. The next one is prepared at 1/2 and activated at 5/6 of
  # the active one's life. Never longer than the upstream's remaining life.
  ttl: 24h
  key_type: ec-p256   # ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096

svid:
  default_ttl: 1h     # for entries without a TTL of their own
  max_ttl: 24h        # no entry may ask for more

# Lifetime of node SVIDs (agents renew them at half life).
node_svid_ttl: 24h

jwt_svid:
  # Lifetime of JWT-SVIDs (bearer tokens: keep it short). Their signing keys live as long
  # as an issuing CA and rotate the same way; the bundle publishes them as JWKs.
  ttl: 5m

# debug, info, warn or error
log_level: info
)";
}

}  // namespace meshid::ca
