#pragma once

// Auditing pods for the ways plaintext reaches an application under STRICT mTLS (a sidecar
// bypassed or missing): capabilities that rewrite the pod's network (NET_ADMIN, NET_RAW),
// hostNetwork, privileged containers, and pods without the mesh proxy where STRICT is in force.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "meshid/policy/evaluate.h"
#include "meshid/policy/model.h"
#include "meshid/policy/pods.h"

namespace meshid::policy {

// Check ids, stable.
inline constexpr absl::string_view kAuditNetAdmin = "pod.net_admin";
inline constexpr absl::string_view kAuditNetRaw = "pod.net_raw";
inline constexpr absl::string_view kAuditHostNetwork = "pod.host_network";
inline constexpr absl::string_view kAuditPrivileged = "pod.privileged";
inline constexpr absl::string_view kAuditNoProxy = "pod.no_proxy_under_strict";

// kIstioProxyContainer is always recognised as a mesh proxy, beside AuditOptions' own names.
inline constexpr absl::string_view kIstioProxyContainer = "istio-proxy";

struct AuditOptions {
  std::vector<std::string> proxy_containers = {"meshid-proxy"};
  std::string root_namespace = std::string(kDefaultRootNamespace);
};

struct AuditFinding {
  std::string check;  // one of the kAudit* ids
  std::string namespace_name;
  std::string pod;
  std::string container;       // empty for a finding about the whole pod
  std::string container_kind;  // ContainerKindName, when `container` is set
  std::string policy;          // the STRICT PeerAuthentication, for kAuditNoProxy
  std::string message;         // one line: what is wrong and what to do
};

// HasMeshProxy reports whether `pod` runs a proxy container named in `options` (or istio-proxy):
// a regular container, or an init container with restartPolicy Always (a native sidecar).
bool HasMeshProxy(const Pod& pod, const AuditOptions& options);

// AuditPods returns the findings for `pods`, in pod order; `policies` decide, with
// ResolveMtlsMode on each pod's labels (port 0 and every declared container port), where STRICT
// is in force.
std::vector<AuditFinding> AuditPods(const std::vector<Pod>& pods, const PolicySet& policies,
                                    const AuditOptions& options);

}  // namespace meshid::policy
