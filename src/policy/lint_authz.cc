// The AuthorizationPolicy checks of Lint (default-deny, principals, DENY rules on TCP) and the
// selector check against --pods.

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "lint_internal.h"

namespace meshid::policy::internal {
namespace {

// Namespaces whose pods are the cluster's own (Istio does not inject them by default).
bool IsSystemNamespace(absl::string_view ns) {
  return ns == "kube-system" || ns == "kube-public" || ns == "kube-node-lease";
}

// WhereToAddDefaultDeny says where an allow-nothing policy for `ns` goes.
std::string WhereToAddDefaultDeny(const std::string& ns, const LintOptions& options) {
  if (ns == options.root_namespace) return absl::StrCat(ns, " (it then applies to the whole mesh)");
  return absl::StrCat(ns, ", or in ", options.root_namespace, " for the whole mesh");
}

// AddNoDefaultDeny reports namespace `ns` (`related`: the policy that shows it, if any).
void AddNoDefaultDeny(std::vector<Finding>& out, const std::string& ns, const std::string& source,
                      const std::string& related, std::string message) {
  Finding f;
  f.severity = Severity::kWarning;
  f.check = std::string(kCheckNoDefaultDeny);
  f.source = source;
  f.kind = "Namespace";
  f.object = ns;
  f.related = related;
  f.message = std::move(message);
  out.push_back(std::move(f));
}

std::string SelectorText(const WorkloadSelector& selector) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : selector.match_labels) parts.push_back(absl::StrCat(k, "=", v));
  return absl::StrJoin(parts, ",");
}

// TrustDomainOf returns the trust domain of a principal ("td/ns/..."), lower-cased.
std::string TrustDomainOf(absl::string_view principal) {
  absl::ConsumePrefix(&principal, "spiffe://");
  return absl::AsciiStrToLower(principal.substr(0, principal.find('/')));
}

bool InTrustDomains(const std::string& td, const LintOptions& options) {
  return std::ranges::any_of(options.trust_domains,
                             [&](const std::string& t) { return absl::EqualsIgnoreCase(t, td); });
}

// CheckPrincipal reports one principal pattern of policy `ap`.
void CheckPrincipal(const AuthorizationPolicy& ap, const StringMatch& m, const std::string& field,
                    const LintOptions& options, std::vector<Finding>& out) {
  std::string mesh_td = options.trust_domains.empty() ? "cluster.local" : options.trust_domains[0];
  bool allow = ap.action == Action::kAllow;
  std::string quoted = absl::StrCat(field, " \"", m.pattern(), "\"");
  // A wildcard that spans trust domains; a DENY of such identities is deliberate.
  std::string wildcard;
  switch (m.kind()) {
    case StringMatch::Kind::kPresence:
      wildcard = absl::StrCat(
          " admits every authenticated identity, from any trust domain: list the callers (",
          mesh_td, "/ns/NS/sa/SA), or use source.namespaces");
      break;
    case StringMatch::Kind::kSuffix:
      wildcard = absl::StrCat(
          " is a wildcard over the trust domain: it admits that name from every trust domain; "
          "write the trust domain (",
          mesh_td, "/...)");
      break;
    case StringMatch::Kind::kPrefix:
      if (absl::StrContains(m.pattern(), '/')) break;
      wildcard = absl::StrCat(
          " is a wildcard that does not end the trust domain, so it admits identities of other "
          "trust domains; write ",
          mesh_td, "/ns/NS/... in full");
      break;
    case StringMatch::Kind::kExact:
      break;
  }
  if (!wildcard.empty()) {
    if (allow) {
      AddFinding(out, Severity::kWarning, kCheckPrincipalWildcard, ap.meta, "AuthorizationPolicy",
                 absl::StrCat(quoted, wildcard));
    }
    return;
  }
  std::string td = TrustDomainOf(m.pattern());
  if (InTrustDomains(td, options)) return;
  AddFinding(
      out, Severity::kWarning, kCheckPrincipalTrustDomain, ap.meta, "AuthorizationPolicy",
      absl::StrCat(quoted, " is outside the mesh trust domain ",
                   absl::StrJoin(options.trust_domains, ", "), " (its trust domain is ", td, "): ",
                   allow ? "it admits an identity this mesh does not issue"
                         : "it never matches an identity this mesh issues",
                   "; fix the trust domain, or pass --trust-domain for a federated one"));
}

absl::string_view HttpFieldName(Attribute a) {
  switch (a) {
    case Attribute::kHost:
      return "hosts";
    case Attribute::kMethod:
      return "methods";
    case Attribute::kPath:
      return "paths";
    case Attribute::kHeader:
      return "request.headers";
    case Attribute::kRequestPrincipal:
      return "requestPrincipals";
    case Attribute::kRequestAudience:
      return "request.auth.audiences";
    case Attribute::kRequestPresenter:
      return "request.auth.presenter";
    case Attribute::kRequestClaim:
      return "request.auth.claims";
    default:
      return "";
  }
}

bool HasPorts(const std::vector<FieldMatch>& fields) {
  return std::ranges::any_of(
      fields, [](const FieldMatch& f) { return f.attribute == Attribute::kPort && !f.negated; });
}

// IsDefaultDeny reports whether `ap` is an allow-nothing policy for its whole namespace (or the
// mesh, in the root namespace): ALLOW, no rules, no selector labels, no targetRefs.
bool IsDefaultDeny(const AuthorizationPolicy& ap) {
  return ap.action == Action::kAllow && ap.rules.empty() && ap.selector.match_labels.empty() &&
         ap.target_refs.empty();
}

}  // namespace

void CheckDefaultDeny(const PolicySet& set, const LintOptions& options, std::vector<Finding>& out) {
  std::set<std::string> covered;
  for (const AuthorizationPolicy& ap : set.authorization_policies) {
    if (IsDefaultDeny(ap)) covered.insert(ap.meta.namespace_name);
  }
  if (covered.contains(options.root_namespace)) return;  // a mesh-wide default-deny
  std::set<std::string> reported;
  for (const AuthorizationPolicy& ap : set.authorization_policies) {
    // An allow-nothing policy with a selector denies; only policies that allow something call
    // for a default-deny beside them.
    if (ap.action != Action::kAllow || ap.rules.empty() || !ap.target_refs.empty()) continue;
    const std::string& ns = ap.meta.namespace_name;
    if (covered.contains(ns) || !reported.insert(ns).second) continue;
    std::string scope =
        ns == options.root_namespace ? "mesh-wide ALLOW policies" : "ALLOW policies";
    AddNoDefaultDeny(out, ns, ap.meta.source, ap.meta.FullName(),
                     absl::StrCat("namespace ", ns, " has ", scope, " (", ap.meta.FullName(),
                                  ") but no default-deny: workloads no ALLOW policy selects "
                                  "accept any caller; add an allow-nothing AuthorizationPolicy "
                                  "(spec: {}) in ",
                                  WhereToAddDefaultDeny(ns, options)));
  }
  if (options.pods == nullptr) return;
  std::map<std::string, int> pods_per_ns;
  for (const Pod& pod : *options.pods) {
    if (!IsSystemNamespace(pod.namespace_name)) ++pods_per_ns[pod.namespace_name];
  }
  for (const auto& [ns, count] : pods_per_ns) {
    if (covered.contains(ns) || reported.contains(ns)) continue;
    AddNoDefaultDeny(out, ns, options.pods_source, "",
                     absl::StrCat("namespace ", ns, " has ", count, count == 1 ? " pod" : " pods",
                                  " but no default-deny: any caller is allowed unless an ALLOW "
                                  "policy selects the workload; add an allow-nothing "
                                  "AuthorizationPolicy (spec: {}) in ",
                                  WhereToAddDefaultDeny(ns, options)));
  }
}

void CheckPrincipals(const PolicySet& set, const LintOptions& options, std::vector<Finding>& out) {
  for (const AuthorizationPolicy& ap : set.authorization_policies) {
    std::set<std::string> seen;  // one finding per pattern and policy
    auto check = [&](const FieldMatch& f) {
      if (f.attribute != Attribute::kPrincipal || f.negated) return;
      for (const StringMatch& m : f.strings) {
        if (seen.insert(m.pattern()).second) CheckPrincipal(ap, m, f.field, options, out);
      }
    };
    for (const Rule& rule : ap.rules) {
      for (const auto& source : rule.from) {
        for (const FieldMatch& f : source) check(f);
      }
      for (const FieldMatch& f : rule.when) check(f);
    }
  }
}

void CheckDenyHttpWithoutPorts(const PolicySet& set, std::vector<Finding>& out) {
  for (const AuthorizationPolicy& ap : set.authorization_policies) {
    if (ap.action != Action::kDeny) continue;
    for (size_t i = 0; i < ap.rules.size(); ++i) {
      const Rule& rule = ap.rules[i];
      std::set<std::string> http;
      auto collect = [&http](const std::vector<FieldMatch>& fields) {
        for (const FieldMatch& f : fields) {
          if (IsHttpOnly(f.attribute)) http.insert(std::string(HttpFieldName(f.attribute)));
        }
      };
      for (const auto& source : rule.from) collect(source);
      for (const auto& operation : rule.to) collect(operation);
      collect(rule.when);
      if (http.empty()) continue;
      bool ports = HasPorts(rule.when);
      if (!ports && !rule.to.empty()) {
        ports = true;
        for (const auto& operation : rule.to) ports = ports && HasPorts(operation);
      }
      if (ports) continue;
      AddFinding(
          out, Severity::kWarning, kCheckDenyHttpNoPorts, ap.meta, "AuthorizationPolicy",
          absl::StrCat("DENY rules[", i, "] uses HTTP-only fields (", absl::StrJoin(http, ", "),
                       ") and no ports: on plain TCP traffic Istio ignores those fields, "
                       "so the rule matches more widely and denies TCP connections it "
                       "does not name; scope it to the HTTP ports with to.operation.ports "
                       "(Istio's advice)"));
    }
  }
}

void CheckSelectors(const PolicySet& set, const LintOptions& options, std::vector<Finding>& out) {
  if (options.pods == nullptr) return;
  // mesh_wide: a selector in the root namespace looks at the pods of every namespace.
  auto check = [&](const ObjectMeta& meta, const WorkloadSelector& selector, absl::string_view kind,
                   bool mesh_wide) {
    if (selector.match_labels.empty()) return;
    size_t considered = 0;
    for (const Pod& pod : *options.pods) {
      if (!mesh_wide && pod.namespace_name != meta.namespace_name) continue;
      ++considered;
      if (selector.Matches(pod.labels)) return;
    }
    std::string where =
        mesh_wide ? "any namespace" : absl::StrCat("namespace ", meta.namespace_name);
    AddFinding(out, Severity::kWarning, kCheckSelectorNoMatch, meta, kind,
               absl::StrCat("selector ", SelectorText(selector), " matches no pod in ", where, " (",
                            considered, " in ", options.pods_source,
                            "): the policy applies to nothing; fix its labels or delete it"));
  };
  for (const PeerAuthentication& pa : set.peer_authentications) {
    // Istio ignores a selector policy in the root namespace; its selector means nothing.
    if (pa.meta.namespace_name == options.root_namespace) continue;
    check(pa.meta, pa.selector, "PeerAuthentication", false);
  }
  for (const AuthorizationPolicy& ap : set.authorization_policies) {
    if (!ap.target_refs.empty()) continue;  // selects gateways and waypoints, not pods
    check(ap.meta, ap.selector, "AuthorizationPolicy",
          ap.meta.namespace_name == options.root_namespace);
  }
  for (const DestinationRule& dr : set.destination_rules) {
    check(dr.meta, dr.workload_selector, "DestinationRule",
          dr.meta.namespace_name == options.root_namespace);
  }
}

}  // namespace meshid::policy::internal
