#pragma once

// Linting Istio policy for the mistakes that cause mesh incidents: STRICT servers whose
// clients send plaintext, PERMISSIVE left on, no default-deny, principals that admit too much,
// DENY rules that match more than they say on TCP, selectors that select nothing.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "meshid/policy/evaluate.h"
#include "meshid/policy/model.h"
#include "meshid/policy/pods.h"

namespace meshid::policy {

// kExpiresAnnotation holds the RFC 3339 time until which a PERMISSIVE mode is intended.
inline constexpr absl::string_view kExpiresAnnotation = "meshid.io/expires";

enum class Severity { kInfo, kWarning, kError };
// SeverityName returns "info", "warning" or "error".
absl::string_view SeverityName(Severity severity);

// Check ids, stable: scripts and suppressions may rely on them.
inline constexpr absl::string_view kCheckStrictPlaintextClient = "mtls.strict_plaintext_client";
inline constexpr absl::string_view kCheckPermissiveNoExpiry = "mtls.permissive_no_expiry";
inline constexpr absl::string_view kCheckPermissiveBadExpiry = "mtls.permissive_bad_expiry";
inline constexpr absl::string_view kCheckPermissiveExpired = "mtls.permissive_expired";
inline constexpr absl::string_view kCheckNoDefaultDeny = "authz.no_default_deny";
inline constexpr absl::string_view kCheckPrincipalTrustDomain = "authz.principal_trust_domain";
inline constexpr absl::string_view kCheckPrincipalWildcard = "authz.principal_wildcard";
inline constexpr absl::string_view kCheckDenyHttpNoPorts = "authz.deny_http_without_ports";
inline constexpr absl::string_view kCheckSelectorNoMatch = "selector.no_match";
inline constexpr absl::string_view kCheckDuplicate = "load.duplicate";
inline constexpr absl::string_view kCheckLoadNote = "load.note";

// Finding is one thing to fix (or, as info, to know).
struct Finding {
  Severity severity = Severity::kWarning;
  std::string check;    // one of the kCheck* ids
  std::string source;   // "authz.yaml doc 2" (ObjectMeta::source), the pods file, or empty
  std::string kind;     // "PeerAuthentication", "AuthorizationPolicy", "DestinationRule",
                        // "Namespace", or empty for a loader note
  std::string object;   // "namespace/name" of the policy, or the namespace for kind Namespace
  std::string related;  // another object involved ("namespace/name"), or empty
  std::string message;  // one line: what is wrong and what to do
};

struct LintOptions {
  // trust_domains are the mesh's trust domain and its aliases; principals outside them are
  // reported.
  std::vector<std::string> trust_domains = {"cluster.local"};
  std::string root_namespace = std::string(kDefaultRootNamespace);
  std::string domain_suffix = "cluster.local";  // of service host names
  absl::Time now = absl::UnixEpoch();           // expiry annotations are compared with this
  // pods, when given (`--pods`), enable the selector check and count as workloads for the
  // default-deny check. Not owned; must outlive the Lint call.
  const std::vector<Pod>* pods = nullptr;
  std::string pods_source;  // the pods file, for findings about pods
};

// Lint checks `set`; `loader_notes` (LoadResult::notes) become info findings. Findings come
// errors first, then warnings, then info; within a severity, check by check, and for each
// check in the order of the objects (oldest first).
std::vector<Finding> Lint(const PolicySet& set, const std::vector<std::string>& loader_notes,
                          const LintOptions& options);

// MaxSeverity returns the highest severity of `findings`, or kInfo when there are none.
Severity MaxSeverity(const std::vector<Finding>& findings);

}  // namespace meshid::policy
