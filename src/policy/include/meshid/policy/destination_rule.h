#pragma once

// Which TLS a client sidecar originates toward a host, from DestinationRules, as Istio
// resolves it.

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "meshid/policy/evaluate.h"
#include "meshid/policy/model.h"

namespace meshid::policy {

struct ClientTlsQuery {
  std::string host;   // "reviews", "reviews.bookinfo", "reviews.bookinfo.svc.cluster.local"
  uint32_t port = 0;  // 0: no port-level settings apply
  std::string client_namespace = "default";
  Labels client_labels;
  std::string domain_suffix = "cluster.local";
};

struct ClientTls {
  // mode is the DestinationRule's tls.mode, or kUnset when none sets it: Istio's auto mTLS
  // (ISTIO_MUTUAL toward a server with a sidecar that accepts mTLS, else plaintext).
  TlsMode mode = TlsMode::kUnset;
  std::string policy;       // "namespace/name" of the DestinationRule used; empty when none
  bool port_level = false;  // the mode came from portLevelSettings
};

// QualifyHost turns a short name ("reviews") into "reviews.<ns>.svc.<suffix>"; names with a
// dot and wildcards are returned unchanged (lower-cased).
std::string QualifyHost(absl::string_view host, absl::string_view ns,
                        absl::string_view domain_suffix);

// HostMatches reports whether the DestinationRule host `pattern` (qualified) covers `host`:
// equal, "*" for everything, or "*.example.com" for any name ending in ".example.com".
bool HostMatches(absl::string_view pattern, absl::string_view host);

// ResolveClientTls looks in the client's namespace, then the service's namespace (from
// "<svc>.<ns>.svc.<suffix>"), then the root namespace, and in the first namespace with a
// visible rule for the host takes the most specific host (exact before the longest wildcard),
// a rule with a matching workloadSelector before one without, and then the oldest.
ClientTls ResolveClientTls(const PolicySet& set, const ClientTlsQuery& query,
                           absl::string_view root_namespace = kDefaultRootNamespace);

}  // namespace meshid::policy
