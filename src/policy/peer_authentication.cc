// PeerAuthentication precedence, after Istio's ComposePeerAuthentication.

#include "meshid/policy/evaluate.h"

namespace meshid::policy {

MtlsResolution ResolveMtlsMode(const PolicySet& set, const Workload& workload, uint32_t port,
                               absl::string_view root_namespace) {
  const PeerAuthentication* mesh = nullptr;
  const PeerAuthentication* ns = nullptr;
  const PeerAuthentication* wl = nullptr;
  // The list is oldest first, so the first policy found in a scope is the one that wins.
  for (const PeerAuthentication& pa : set.peer_authentications) {
    const std::string& pa_ns = pa.meta.namespace_name;
    if (pa.selector.match_labels.empty()) {
      if (pa_ns == root_namespace) {
        if (mesh == nullptr) mesh = &pa;
      } else if (pa_ns == workload.namespace_name) {
        if (ns == nullptr) ns = &pa;
      }
    } else if (pa_ns != root_namespace && pa_ns == workload.namespace_name &&
               pa.selector.Matches(workload.labels)) {
      if (wl == nullptr) wl = &pa;
    }
  }
  MtlsResolution out;
  auto apply = [&out](const PeerAuthentication* pa, const char* scope) {
    if (pa == nullptr || pa->mode == MtlsMode::kUnset) return;
    out.mode = pa->mode;
    out.policy = pa->meta.FullName();
    out.scope = scope;
  };
  apply(mesh, "mesh");
  apply(ns, "namespace");
  apply(wl, "workload");
  if (wl != nullptr) {
    auto it = wl->port_level.find(port);
    if (it != wl->port_level.end() && it->second != MtlsMode::kUnset) {
      out.mode = it->second;
      out.policy = wl->meta.FullName();
      out.scope = "port";
    }
  }
  return out;
}

}  // namespace meshid::policy
