// The mTLS checks and the driver of Lint; the AuthorizationPolicy and selector checks are in
// lint_authz.cc.

#include "meshid/policy/lint.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "lint_internal.h"
#include "meshid/policy/destination_rule.h"
#include "meshid/policy/loader.h"

namespace meshid::policy {
namespace {

using internal::AddFinding;

// HostTarget is what a DestinationRule host names among the mesh's services.
struct HostTarget {
  std::string host;  // the rule's host, fully qualified
  bool all_namespaces = false;
  std::string namespace_name;
  std::string service;  // empty for a wildcard over a namespace
  std::string guess;    // why the namespace is a guess, when it is one
};

// TargetOf interprets a DestinationRule host as Istio does: a short name is a service in the
// rule's namespace, "<svc>.<ns>.svc.<suffix>" a service, "*.<ns>.svc.<suffix>" every service of
// a namespace, "*", "*.svc.<suffix>" or "*.<suffix>" every service. nullopt for a host outside
// the cluster domain (an external service: no PeerAuthentication governs it).
std::optional<HostTarget> TargetOf(const DestinationRule& dr, absl::string_view suffix) {
  HostTarget t;
  t.host = QualifyHost(dr.host, dr.meta.namespace_name, suffix);
  const std::string& host = t.host;
  std::string tail = absl::StrCat(".svc.", suffix);
  if (absl::EndsWith(host, tail)) {
    std::vector<std::string> parts = absl::StrSplit(host.substr(0, host.size() - tail.size()), '.');
    if (parts.size() < 2 || parts.back() == "*") {
      t.all_namespaces = true;
      return t;
    }
    t.namespace_name = parts.back();
    if (parts[parts.size() - 2] != "*") t.service = parts[parts.size() - 2];
    return t;
  }
  if (host == "*" ||
      (absl::StartsWith(host, "*.") && HostMatches(host, absl::StrCat("a.b", tail)))) {
    t.all_namespaces = true;
    return t;
  }
  std::vector<std::string> parts = absl::StrSplit(host, '.');
  if (parts.size() == 2 && !absl::StrContains(host, '*')) {
    // Istio does not expand "reviews.bookinfo", but that is what people mean by it.
    t.service = parts[0];
    t.namespace_name = parts[1];
    t.guess = absl::StrCat("host \"", host, "\" is not a full service name; read as service ",
                           parts[0], " in namespace ", parts[1]);
    return t;
  }
  return std::nullopt;
}

// Candidate is a set of workload labels that may sit behind the host, and whether that is
// known rather than guessed.
struct Candidate {
  Labels labels;
  std::string guess;  // empty when known
};

bool NamesService(const Labels& labels, absl::string_view service) {
  return std::ranges::any_of(std::initializer_list<const char*>{"app", "app.kubernetes.io/name",
                                                                "service.istio.io/canonical-name"},
                             [&](const char* key) {
                               auto it = labels.find(key);
                               return it != labels.end() && it->second == service;
                             });
}

std::vector<Candidate> CandidatesIn(const std::string& ns, const HostTarget& target,
                                    const LintOptions& options) {
  std::vector<Candidate> out;
  std::vector<const Pod*> in_ns;
  if (options.pods != nullptr) {
    for (const Pod& pod : *options.pods) {
      if (pod.namespace_name == ns) in_ns.push_back(&pod);
    }
  }
  if (!in_ns.empty()) {
    std::vector<const Pod*> named;
    for (const Pod* pod : in_ns) {
      if (!target.service.empty() && NamesService(pod->labels, target.service)) {
        named.push_back(pod);
      }
    }
    bool by_namespace = !target.service.empty() && named.empty();
    for (const Pod* pod : named.empty() ? in_ns : named) {
      out.push_back(
          {pod->labels, by_namespace
                            ? absl::StrCat("no pod is labelled app=", target.service, " in ", ns)
                            : target.guess});
    }
    return out;
  }
  if (target.service.empty()) {
    out.push_back({{}, target.guess});  // every workload: the namespace's (or mesh's) mode
    return out;
  }
  // Kubernetes services conventionally select app=<service>; that is the best guess of the
  // service's pods without --pods (a mesh or namespace mode does not depend on it).
  out.push_back(
      {{{"app", target.service}},
       absl::StrCat("no --pods; assuming the service's pods are labelled app=", target.service)});
  return out;
}

// KnownNamespaces lists every namespace the policies and pods mention, and the root.
std::set<std::string> KnownNamespaces(const PolicySet& set, const LintOptions& options) {
  std::set<std::string> out = {options.root_namespace};
  for (const auto& pa : set.peer_authentications) out.insert(pa.meta.namespace_name);
  for (const auto& ap : set.authorization_policies) out.insert(ap.meta.namespace_name);
  for (const auto& dr : set.destination_rules) out.insert(dr.meta.namespace_name);
  if (options.pods != nullptr) {
    for (const Pod& pod : *options.pods) out.insert(pod.namespace_name);
  }
  return out;
}

std::string TlsDescription(TlsMode mode) {
  return mode == TlsMode::kDisable ? "DISABLE (plaintext)"
                                   : "SIMPLE (TLS without a client certificate)";
}

// Hit is a STRICT server found behind a DestinationRule host on one port.
struct Hit {
  std::string namespace_name;
  std::string guess;  // why it is a guess; empty once one candidate made it certain
  TlsMode mode = TlsMode::kUnset;
  std::string scope;
};

// StrictHits resolves the server's mode for every candidate behind `target` and every port of
// `modes`, keyed by (STRICT policy, port).
std::map<std::pair<std::string, uint32_t>, Hit> StrictHits(
    const PolicySet& set, const LintOptions& options, const HostTarget& target,
    const std::vector<std::pair<uint32_t, TlsMode>>& modes) {
  const std::set<std::string> namespaces = target.all_namespaces
                                               ? KnownNamespaces(set, options)
                                               : std::set<std::string>{target.namespace_name};
  std::map<std::pair<std::string, uint32_t>, Hit> hits;
  for (const std::string& ns : namespaces) {
    for (const Candidate& c : CandidatesIn(ns, target, options)) {
      for (const auto& [port, mode] : modes) {
        MtlsResolution r = ResolveMtlsMode(set, {ns, c.labels}, port, options.root_namespace);
        if (r.mode != MtlsMode::kStrict) continue;
        // A mesh or namespace mode holds for every pod of the namespace, whichever pods are
        // behind the host; only a workload mode depends on the guess about them.
        std::string guess = r.scope == "mesh" || r.scope == "namespace" ? target.guess : c.guess;
        auto [it, inserted] = hits.try_emplace({r.policy, port}, Hit{ns, guess, mode, r.scope});
        if (!inserted && guess.empty()) it->second.guess.clear();
      }
    }
  }
  return hits;
}

void CheckStrictPlaintextClients(const PolicySet& set, const LintOptions& options,
                                 std::vector<Finding>& out) {
  for (const DestinationRule& dr : set.destination_rules) {
    std::vector<std::pair<uint32_t, TlsMode>> modes;  // port 0: the rule's own mode
    if (dr.tls_mode == TlsMode::kDisable || dr.tls_mode == TlsMode::kSimple) {
      modes.emplace_back(0, dr.tls_mode);
    }
    for (const auto& [port, mode] : dr.port_tls) {
      if (mode == TlsMode::kDisable || mode == TlsMode::kSimple) modes.emplace_back(port, mode);
    }
    if (modes.empty()) continue;
    std::optional<HostTarget> target = TargetOf(dr, options.domain_suffix);
    if (!target) continue;
    for (const auto& [key, hit] : StrictHits(set, options, *target, modes)) {
      const auto& [policy, port] = key;
      std::string on_port = port == 0 ? "" : absl::StrCat(" on port ", port);
      std::string message = absl::StrCat(
          "sets tls.mode ", TlsDescription(hit.mode), " for clients of ", target->host, on_port,
          ", but ", policy, " makes the server in namespace ", hit.namespace_name, " STRICT (",
          hit.scope,
          " scope): every such connection is refused; use ISTIO_MUTUAL, or remove the tls "
          "setting so that auto mTLS chooses");
      if (!hit.guess.empty()) absl::StrAppend(&message, " (matched by namespace: ", hit.guess, ")");
      AddFinding(out, hit.guess.empty() ? Severity::kError : Severity::kWarning,
                 kCheckStrictPlaintextClient, dr.meta, "DestinationRule", message, policy);
    }
  }
}

void CheckPermissiveExpiry(const PolicySet& set, const LintOptions& options,
                           std::vector<Finding>& out) {
  for (const PeerAuthentication& pa : set.peer_authentications) {
    bool workload = !pa.selector.match_labels.empty();
    bool root = pa.meta.namespace_name == options.root_namespace;
    if (workload && root) continue;  // Istio ignores it: the PERMISSIVE has no effect
    std::vector<std::string> scopes;
    if (pa.mode == MtlsMode::kPermissive) {
      scopes.emplace_back(workload ? "workload scope" : root ? "mesh scope" : "namespace scope");
    }
    for (const auto& [port, mode] : pa.port_level) {
      if (mode == MtlsMode::kPermissive) scopes.push_back(absl::StrCat("port ", port));
    }
    if (scopes.empty()) continue;
    std::string where = absl::StrCat("PERMISSIVE (", absl::StrJoin(scopes, ", "), ")");
    auto it = pa.meta.annotations.find(std::string(kExpiresAnnotation));
    if (it == pa.meta.annotations.end()) {
      AddFinding(
          out, Severity::kWarning, kCheckPermissiveNoExpiry, pa.meta, "PeerAuthentication",
          absl::StrCat(where, " has no ", kExpiresAnnotation,
                       " annotation, so plaintext stays accepted with no end date: "
                       "add an expiry (RFC 3339, e.g. ",
                       kExpiresAnnotation, ": \"",
                       absl::FormatTime("%Y-%m-%dT00:00:00Z", options.now + absl::Hours(24 * 30),
                                        absl::UTCTimeZone()),
                       "\") or switch to STRICT"));
      continue;
    }
    absl::Time expires;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, it->second, &expires, &error)) {
      AddFinding(out, Severity::kError, kCheckPermissiveBadExpiry, pa.meta, "PeerAuthentication",
                 absl::StrCat(where, ": ", kExpiresAnnotation, " \"", it->second,
                              "\" is not an RFC 3339 time, so its expiry is never noticed: write "
                              "e.g. 2025-07-01T00:00:00Z"));
      continue;
    }
    if (expires <= options.now) {
      AddFinding(out, Severity::kError, kCheckPermissiveExpired, pa.meta, "PeerAuthentication",
                 absl::StrCat(where, " expired at ", it->second, " (", kExpiresAnnotation,
                              "): switch to STRICT, or extend the date if the migration is "
                              "still under way"));
    }
  }
}

void CheckLoaderNotes(const std::vector<std::string>& notes, std::vector<Finding>& out) {
  for (const std::string& note : notes) {
    Finding f;
    f.severity = Severity::kInfo;
    f.check =
        std::string(absl::StrContains(note, kAlsoDefinedIn) ? kCheckDuplicate : kCheckLoadNote);
    // Notes start with "file doc N: ".
    size_t colon = note.find(": ");
    if (colon != std::string::npos && absl::StrContains(note.substr(0, colon), " doc ")) {
      f.source = note.substr(0, colon);
      f.message = note.substr(colon + 2);
    } else {
      f.message = note;
    }
    out.push_back(std::move(f));
  }
}

}  // namespace

namespace internal {

void AddFinding(std::vector<Finding>& out, Severity severity, absl::string_view check,
                const ObjectMeta& meta, absl::string_view kind, std::string message,
                std::string related) {
  Finding f;
  f.severity = severity;
  f.check = std::string(check);
  f.source = meta.source;
  f.kind = std::string(kind);
  f.object = meta.FullName();
  f.related = std::move(related);
  f.message = std::move(message);
  out.push_back(std::move(f));
}

}  // namespace internal

absl::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kError:
      return "error";
  }
  return "error";
}

std::vector<Finding> Lint(const PolicySet& set, const std::vector<std::string>& loader_notes,
                          const LintOptions& options) {
  std::vector<Finding> out;
  CheckStrictPlaintextClients(set, options, out);
  CheckPermissiveExpiry(set, options, out);
  internal::CheckDefaultDeny(set, options, out);
  internal::CheckPrincipals(set, options, out);
  internal::CheckDenyHttpWithoutPorts(set, out);
  internal::CheckSelectors(set, options, out);
  CheckLoaderNotes(loader_notes, out);
  std::stable_sort(out.begin(), out.end(),
                   [](const Finding& a, const Finding& b) { return a.severity > b.severity; });
  return out;
}

Severity MaxSeverity(const std::vector<Finding>& findings) {
  Severity max = Severity::kInfo;
  for (const Finding& f : findings) max = std::max(max, f.severity);
  return max;
}

}  // namespace meshid::policy
