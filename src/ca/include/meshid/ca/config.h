#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "meshid/pki/key.h"
#include "meshid/pki/spiffe_id.h"

namespace meshid::ca {

// CaConfig is the CA server's configuration (`meshid ca serve --config ca.yaml`).
struct CaConfig {
  pki::TrustDomain trust_domain;
  std::string listen = "127.0.0.1:8081";       // gRPC for agents, TLS
  std::string http_listen = "127.0.0.1:8080";  // /metrics, /healthz, /readyz
  std::string admin_socket = "/run/meshid/ca-admin.sock";
  std::string data_dir = "/var/lib/meshid/ca";
  std::string upstream_dir = "/etc/meshid/intermediate";
  std::string sqlite_path;  // default: <data_dir>/meshid.db
  bool sqlite_full_sync = false;
  absl::Duration issuing_ca_ttl = absl::Hours(24);
  pki::KeyType issuing_ca_key_type = pki::KeyType::kEcP256;
  absl::Duration svid_default_ttl = absl::Hours(1);
  absl::Duration svid_max_ttl = absl::Hours(24);
  absl::Duration node_svid_ttl = absl::Hours(24);
  absl::Duration jwt_svid_ttl = absl::Minutes(5);
  std::string log_level = "info";
};

// ParseCaConfig reads YAML `text` that came from `source` (a file name, for messages).
// Unknown keys and bad values are InvalidArgument naming the file and the key, e.g.
// `ca.yaml: svid.max_ttl: invalid duration "1x" ...`.
absl::StatusOr<CaConfig> ParseCaConfig(absl::string_view text, absl::string_view source);

// DefaultCaConfigYaml returns a commented configuration with every key at its default, for
// `meshid ca config`.
std::string DefaultCaConfigYaml();

}  // namespace meshid::ca
