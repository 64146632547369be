#include "meshid/policy/audit.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace meshid::policy {
namespace {

// CapabilityName normalizes "cap_net_admin" and "NET_ADMIN" to "NET_ADMIN": Kubernetes passes
// the names to the runtime, which accepts both forms in any case.
std::string CapabilityName(absl::string_view name) {
  std::string upper = absl::AsciiStrToUpper(name);
  absl::string_view view = upper;
  absl::ConsumePrefix(&view, "CAP_");
  return std::string(view);
}

AuditFinding Make(const Pod& pod, const Container* c, absl::string_view check,
                  std::string message) {
  AuditFinding f;
  f.check = std::string(check);
  f.namespace_name = pod.namespace_name;
  f.pod = pod.name;
  if (c != nullptr) {
    f.container = c->name;
    f.container_kind = std::string(ContainerKindName(c->kind));
  }
  f.message = std::move(message);
  return f;
}

void AuditContainer(const Pod& pod, const Container& c, std::vector<AuditFinding>& out) {
  std::string who = absl::StrCat(ContainerKindName(c.kind), " ", c.name);
  // istio-init (Istio without its CNI plugin) needs NET_ADMIN and NET_RAW to set up the
  // redirection; it is still a container that could undo it, so it is reported, with a hint.
  std::string hint = c.name == "istio-init" ? " (the mesh's own init container: the Istio CNI "
                                              "plugin removes the need for it)"
                                            : "";
  bool net_admin = false;
  bool net_raw = false;
  bool all = false;
  for (const std::string& cap : c.add_capabilities) {
    std::string name = CapabilityName(cap);
    net_admin = net_admin || name == "NET_ADMIN";
    net_raw = net_raw || name == "NET_RAW";
    all = all || name == "ALL";
  }
  if (net_admin || all) {
    out.push_back(
        Make(pod, &c, kAuditNetAdmin,
             absl::StrCat(who, " adds ",
                          all ? "ALL capabilities (so NET_ADMIN)" : "capability NET_ADMIN",
                          ": it can rewrite the pod's iptables and send or accept "
                          "traffic around the sidecar; remove it",
                          hint)));
  }
  if (net_raw || all) {
    out.push_back(Make(
        pod, &c, kAuditNetRaw,
        absl::StrCat(who, " adds ", all ? "ALL capabilities (so NET_RAW)" : "capability NET_RAW",
                     ": raw sockets can craft packets that bypass the sidecar; "
                     "remove it (ping works without it on current kernels)",
                     hint)));
  }
  if (c.privileged) {
    out.push_back(Make(pod, &c, kAuditPrivileged,
                       absl::StrCat(who,
                                    " is privileged: it holds every capability and can change "
                                    "the pod's network to bypass the sidecar; remove "
                                    "securityContext.privileged")));
  }
}

}  // namespace

bool HasMeshProxy(const Pod& pod, const AuditOptions& options) {
  for (const Container& c : pod.containers) {
    bool named =
        c.name == kIstioProxyContainer ||
        std::ranges::find(options.proxy_containers, c.name) != options.proxy_containers.end();
    if (!named) continue;
    if (c.kind == Container::Kind::kContainer) return true;
    if (c.kind == Container::Kind::kInit && c.restart_policy == "Always") return true;
  }
  return false;
}

std::vector<AuditFinding> AuditPods(const std::vector<Pod>& pods, const PolicySet& policies,
                                    const AuditOptions& options) {
  std::vector<AuditFinding> out;
  for (const Pod& pod : pods) {
    if (pod.host_network) {
      out.push_back(Make(pod, nullptr, kAuditHostNetwork,
                         "pod uses hostNetwork: true: it shares the node's network, where the "
                         "sidecar's redirection does not apply, so plaintext can reach it and "
                         "leave it; remove hostNetwork or keep the pod out of the mesh's trust"));
    }
    for (const Container& c : pod.containers) AuditContainer(pod, c, out);
    if (HasMeshProxy(pod, options)) continue;
    std::vector<uint32_t> ports = {0};
    for (const Container& c : pod.containers)
      ports.insert(ports.end(), c.ports.begin(), c.ports.end());
    for (uint32_t port : ports) {
      MtlsResolution r =
          ResolveMtlsMode(policies, {pod.namespace_name, pod.labels}, port, options.root_namespace);
      if (r.mode != MtlsMode::kStrict) continue;
      std::vector<std::string> names = options.proxy_containers;
      names.emplace_back(kIstioProxyContainer);
      AuditFinding f = Make(
          pod, nullptr, kAuditNoProxy,
          absl::StrCat("no mesh proxy container (", absl::StrJoin(names, " or "), ") while ",
                       r.policy, " makes it STRICT (", r.scope, " scope",
                       port == 0 ? "" : absl::StrCat(", port ", port),
                       "): nothing enforces mTLS, so plaintext reaches the application; inject "
                       "the proxy, or move the pod out of the STRICT scope if it must run "
                       "without one"));
      f.policy = r.policy;
      out.push_back(std::move(f));
      break;
    }
  }
  return out;
}

}  // namespace meshid::policy
