// meshid audit: pods that can let plaintext past the mesh.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "commands.h"
#include "meshid/base/status.h"
#include "meshid/base/text.h"
#include "meshid/policy/audit.h"
#include "meshid/policy/loader.h"
#include "meshid/policy/pods.h"

namespace meshid::cli {
namespace {

using nlohmann::json;

struct AuditPodsOptions {
  // files: the pods JSON first, then policy YAML files or directories.
  std::vector<std::string> files;
  std::vector<std::string> proxy_containers = {"meshid-proxy"};
  std::string root_namespace = std::string(policy::kDefaultRootNamespace);
  bool json = false;
};

absl::StatusOr<int> RunAuditPods(Io& io, const AuditPodsOptions& o) {
  MESHID_ASSIGN_OR_RETURN(policy::PodList pods, policy::LoadPodFile(o.files.front()));
  std::vector<std::string> notes = pods.notes;
  policy::PolicySet policies;
  if (o.files.size() > 1) {
    std::vector<std::string> policy_files(o.files.begin() + 1, o.files.end());
    MESHID_ASSIGN_OR_RETURN(policy::LoadResult loaded, policy::LoadPolicyFiles(policy_files));
    policies = std::move(loaded.policies);
    notes.insert(notes.end(), loaded.notes.begin(), loaded.notes.end());
  }
  policy::AuditOptions options;
  options.proxy_containers = o.proxy_containers;
  options.root_namespace = o.root_namespace;
  std::vector<policy::AuditFinding> findings = policy::AuditPods(pods.pods, policies, options);
  if (o.json) {
    json list = json::array();
    for (const policy::AuditFinding& f : findings) {
      list.push_back({{"check", f.check},
                      {"namespace", f.namespace_name},
                      {"pod", f.pod},
                      {"container", f.container},
                      {"container_kind", f.container_kind},
                      {"policy", f.policy},
                      {"message", f.message}});
    }
    PrintJson(io, {{"findings", list}, {"pods", pods.pods.size()}, {"notes", notes}});
  } else {
    for (const policy::AuditFinding& f : findings) {
      io.out << base::Printable(
                    absl::StrCat(f.namespace_name, "/", f.pod, " ", f.check, ": ", f.message))
             << "\n";
    }
    for (const std::string& note : notes) io.out << "note: " << base::Printable(note) << "\n";
    io.out << findings.size() << (findings.size() == 1 ? " finding" : " findings") << " in "
           << pods.pods.size() << (pods.pods.size() == 1 ? " pod" : " pods") << "\n";
  }
  return findings.empty() ? kExitOk : kExitWarning;
}

constexpr const char* kAuditPodsFooter = R"(
Reports pods through which plaintext can get past STRICT mTLS, each with a stable check id:
  pod.net_admin             a container, init container or ephemeral container adds NET_ADMIN
                            (or ALL): it can rewrite the pod's iptables around the sidecar
  pod.net_raw               one adds NET_RAW (or ALL): raw sockets bypass the sidecar
  pod.host_network          the pod uses hostNetwork: true
  pod.privileged            a container is privileged
  pod.no_proxy_under_strict the pod has no mesh proxy container (--proxy-container, and
                            istio-proxy, also as a native sidecar init container) while
                            PeerAuthentication makes it STRICT (namespace, mesh, workload or a
                            declared container port)

The first -f is the pods JSON (kubectl get pods -A -o json: a List or PodList); any further -f
are PeerAuthentication YAML files or directories. Without them no namespace is STRICT.

Exit status: 0 no finding, 1 findings, 2 bad input (one line on stderr naming the field).

JSON output (-o json): {"findings": [...], "pods": N, "notes": [...]}; each finding has check,
namespace, pod, container and container_kind (empty for the whole pod), policy (the STRICT
PeerAuthentication, for pod.no_proxy_under_strict) and message.
)";

}  // namespace

void AddAuditCommands(CLI::App& app, Io& io) {
  CLI::App* audit = app.add_subcommand("audit", "Audit a cluster for ways around the mesh");
  audit->require_subcommand(1);

  auto o = std::make_shared<AuditPodsOptions>();
  CLI::App* pods = audit->add_subcommand(
      "pods", "Pods that can bypass the sidecar, or run without it under STRICT mTLS");
  pods->add_option("-f,--file", o->files,
                   "Pods JSON (kubectl get pods -A -o json) first, then policy YAML files or "
                   "directories (repeatable)")
      ->required();
  pods->add_option("--proxy-container", o->proxy_containers,
                   "Name of the mesh proxy container, repeatable (default meshid-proxy; "
                   "istio-proxy is always recognised)");
  AddRootNamespaceFlag(pods, &o->root_namespace);
  AddOutputFlag(pods, &o->json);
  pods->footer(absl::StrCat(
      kAuditPodsFooter,
      Examples({"kubectl get pods -A -o json > pods.json && meshid audit pods -f pods.json",
                "meshid audit pods -f pods.json -f policies/ --proxy-container envoy -o json"})));
  pods->callback([&io, o] {
    absl::StatusOr<int> code = RunAuditPods(io, *o);
    io.exit_code = code.ok() ? *code : Fail(io, code.status());
  });
}

}  // namespace meshid::cli
