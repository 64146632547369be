#include "meshid/ca/config.h"

#include <functional>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "meshid/base/duration.h"
#include "meshid/base/status.h"
#include "yaml-cpp/yaml.h"

namespace meshid::ca {
namespace {

// KeyReader applies one YAML scalar to the config, or says what is wrong with it.
using KeyReader = std::function<absl::Status(const YAML::Node&, CaConfig&)>;

absl::StatusOr<std::string> Scalar(const YAML::Node& node) {
  if (!node.IsScalar()) return absl::InvalidArgumentError("expected a single value");
  return node.Scalar();
}

KeyReader String(std::string CaConfig::*field) {
  return [field](const YAML::Node& node, CaConfig& config) -> absl::Status {
    MESHID_ASSIGN_OR_RETURN(std::string value, Scalar(node));
    if (value.empty()) return absl::InvalidArgumentError("must not be empty");
    config.*field = value;
    return absl::OkStatus();
  };
}

KeyReader Duration(absl::Duration CaConfig::*field) {
  return [field](const YAML::Node& node, CaConfig& config) -> absl::Status {
    MESHID_ASSIGN_OR_RETURN(std::string value, Scalar(node));
    MESHID_ASSIGN_OR_RETURN(absl::Duration d, base::ParseDuration(value));
    if (d <= absl::ZeroDuration()) return absl::InvalidArgumentError("must be positive");
    config.*field = d;
    return absl::OkStatus();
  };
}

// Readers maps every known key, with nested keys written "section.key".
const std::map<std::string, KeyReader>& Readers() {
  static const auto* readers = new std::map<std::string, KeyReader>{
      {"trust_domain",
       [](const YAML::Node& node, CaConfig& config) -> absl::Status {
         MESHID_ASSIGN_OR_RETURN(std::string value, Scalar(node));
         MESHID_ASSIGN_OR_RETURN(config.trust_domain, pki::TrustDomain::Parse(value));
         return absl::OkStatus();
       }},
      {"listen", String(&CaConfig::listen)},
      {"http_listen", String(&CaConfig::http_listen)},
      {"admin_socket", String(&CaConfig::admin_socket)},
      {"data_dir", String(&CaConfig::data_dir)},
      {"upstream_dir", String(&CaConfig::upstream_dir)},
      {"store.sqlite", String(&CaConfig::sqlite_path)},
      {"store.sync",
       [](const YAML::Node& node, CaConfig& config) -> absl::Status {
         MESHID_ASSIGN_OR_RETURN(std::string value, Scalar(node));
         if (value != "normal" && value != "full") {
           return absl::InvalidArgumentError(
               absl::StrCat("\"", value, "\" is not one of normal, full"));
         }
         config.sqlite_full_sync = value == "full";
         return absl::OkStatus();
       }},
      {"issuing_ca.ttl", Duration(&CaConfig::issuing_ca_ttl)},
      {"issuing_ca.key_type",
       [](const YAML::Node& node, CaConfig& config) -> absl::Status {
         MESHID_ASSIGN_OR_RETURN(std::string value, Scalar(node));
         MESHID_ASSIGN_OR_RETURN(config.issuing_ca_key_type, pki::ParseKeyType(value));
         return absl::OkStatus();
       }},
      {"svid.default_ttl", Duration(&CaConfig::svid_default_ttl)},
      {"svid.max_ttl", Duration(&CaConfig::svid_max_ttl)},
      {"node_svid_ttl", Duration(&CaConfig::node_svid_ttl)},
      {"log_level",
       [](const YAML::Node& node, CaConfig& config) -> absl::Status {
         MESHID_ASSIGN_OR_RETURN(std::string value, Scalar(node));
         static const std::set<std::string> kLevels = {"debug", "info", "warn", "error"};
         if (kLevels.count(value) == 0) {
           return absl::InvalidArgumentError(
               absl::StrCat("\"", value, "\" is not one of debug, info, warn, error"));
         }
         config.log_level = value;
         return absl::OkStatus();
       }},
  };
  return *readers;
}

// KnownUnder lists the known keys below `prefix` ("" for the top level), for messages.
std::string KnownUnder(const std::string& prefix) {
  std::set<std::string> names;
  for (const auto& [key, reader] : Readers()) {
    if (key.compare(0, prefix.size(), prefix) != 0) continue;
    std::string rest = key.substr(prefix.size());
    names.insert(rest.substr(0, rest.find('.')));
  }
  return absl::StrJoin(names, ", ");
}

absl::Status Walk(const YAML::Node& map, const std::string& prefix, CaConfig& config,
                  std::set<std::string>& seen) {
  for (const auto& item : map) {
    std::string key = prefix + item.first.as<std::string>();
    const YAML::Node& value = item.second;
    auto reader = Readers().find(key);
    if (reader != Readers().end()) {
      MESHID_RETURN_IF_ERROR(base::Annotate(reader->second(value, config), key));
      seen.insert(key);
      continue;
    }
    bool is_section = !KnownUnder(key + ".").empty();
    if (is_section && value.IsMap()) {
      MESHID_RETURN_IF_ERROR(Walk(value, key + ".", config, seen));
      continue;
    }
    if (is_section) {
      return absl::InvalidArgumentError(
          absl::StrCat(key, ": expected a map of ", KnownUnder(key + ".")));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("unknown key \"", key, "\" (known here: ", KnownUnder(prefix), ")"));
  }
  return absl::OkStatus();
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
  std::set<std::string> seen;
  // yaml-cpp reports errors by throwing; this is the edge where they become a Status.
  try {
    YAML::Node doc = YAML::Load(std::string(text));
    if (doc.IsNull()) return absl::InvalidArgumentError(absl::StrCat(source, ": is empty"));
    if (!doc.IsMap()) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": expected a map of settings"));
    }
    MESHID_RETURN_IF_ERROR(base::Annotate(Walk(doc, "", config, seen), source));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": not valid YAML: ", e.what()));
  }
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

# debug, info, warn or error
log_level: info
)";
}

}  // namespace meshid::ca
