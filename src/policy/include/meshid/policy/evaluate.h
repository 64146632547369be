#pragma once

// Deciding as Istio does: which mTLS mode PeerAuthentication puts in force on a workload's
// port, and whether the AuthorizationPolicies on that workload allow a connection or request.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "meshid/policy/model.h"

namespace meshid::policy {

inline constexpr absl::string_view kDefaultRootNamespace = "istio-system";

// Workload is the server side: where the policies are enforced.
struct Workload {
  std::string namespace_name;
  Labels labels;
};

// MtlsResolution is the mode in force on one port and the policy that set it.
struct MtlsResolution {
  MtlsMode mode = MtlsMode::kPermissive;  // never kUnset: nothing set means PERMISSIVE
  std::string policy = "default";         // "namespace/name", or "default" when none applied
  std::string scope = "default";          // "mesh", "namespace", "workload", "port" or "default"
};

// ResolveMtlsMode applies Istio's precedence: the mesh-wide policy (root namespace, no
// selector) < the namespace policy (no selector) < the workload policy (selector matching the
// labels) < that workload policy's portLevelMtls for `port`. UNSET inherits; within one scope
// the oldest policy wins. Selector policies in the root namespace are ignored, as in Istio.
MtlsResolution ResolveMtlsMode(const PolicySet& set, const Workload& workload, uint32_t port,
                               absl::string_view root_namespace = kDefaultRootNamespace);

// Request describes one connection (TCP) or HTTP request as the server's proxy sees it.
struct Request {
  Workload workload;
  uint32_t port = 0;                          // destination port on the workload
  bool mtls = false;                          // the peer presented a certificate over mTLS
  std::string peer_principal;                 // "td/ns/NS/sa/SA" (spiffe:// removed), when mtls
  std::optional<std::string> source_ip;       // unknown when unset
  std::optional<std::string> remote_ip;       // X-Forwarded-For origin; source_ip when unset
  std::optional<std::string> destination_ip;  // unknown when unset
  std::string sni;                            // empty: none sent

  bool http = false;
  std::string method;
  std::string path;  // as sent; normalized before matching
  std::string host;
  std::multimap<std::string, std::string> headers;         // names in any case
  std::string request_principal;                           // "iss/sub" of a validated JWT, if any
  std::map<std::string, std::vector<std::string>> claims;  // validated JWT claims
};

struct EvaluateOptions {
  std::string root_namespace = std::string(kDefaultRootNamespace);
};

// Decision is the outcome with everything needed to explain it.
struct Decision {
  bool allow = false;
  // policy is "namespace/name" of the deciding policy, or "default" when no policy decided
  // (no ALLOW policy at all, no ALLOW matched, or the connection was refused before
  // authorization).
  std::string policy = "default";
  // reason is one of: allowed_by_policy, no_allow_policies, denied_by_policy, no_allow_match,
  // plaintext_rejected, invalid_path, path_escapes_root.
  std::string reason;
  std::string detail;              // one sentence for people
  MtlsResolution mtls;             // the PeerAuthentication mode in force on the port
  std::string path;                // the normalized path (HTTP only)
  std::vector<std::string> audit;  // AUDIT policies that matched ("namespace/name")
  std::vector<std::string> notes;  // things a reader should know (fields not evaluated, ...)
};

// Evaluate decides `request`: a plaintext connection under STRICT is refused, then a DENY
// policy that matches denies, then: no ALLOW policy allows, a matching ALLOW allows, and
// anything else is denied. AUDIT policies that match are listed and decide nothing.
Decision Evaluate(const PolicySet& set, const Request& request,
                  const EvaluateOptions& options = {});

// AppliesTo reports whether `policy` selects `workload`: a policy in the root namespace applies
// mesh-wide, others to their own namespace; a selector narrows that to matching labels.
// Policies with targetRefs select gateways and waypoints, never a sidecar workload.
bool AppliesTo(const AuthorizationPolicy& policy, const Workload& workload,
               absl::string_view root_namespace);

}  // namespace meshid::policy
