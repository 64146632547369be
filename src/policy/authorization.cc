// AuthorizationPolicy evaluation with the semantics Istio generates for Envoy's RBAC filter.

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "meshid/policy/evaluate.h"
#include "meshid/policy/path.h"

namespace meshid::policy {
namespace {

// Context is the request with what is derived from it once.
struct Context {
  const Request& request;
  bool principal_known = false;  // mTLS terminated by the proxy, so the principal is known
  std::string principal;         // without spiffe://
  std::vector<std::string> principal_path;  // the segments after the trust domain
  std::string principal_namespace;
  std::optional<IpAddress> source_ip;
  std::optional<IpAddress> remote_ip;
  std::optional<IpAddress> destination_ip;
  std::string path;
  std::set<std::string> notes;
};

bool AnyString(const FieldMatch& f, absl::string_view value, bool ignore_case = false) {
  for (const StringMatch& m : f.strings) {
    if (m.Matches(value, ignore_case)) return true;
  }
  return false;
}

bool AnyBlock(const FieldMatch& f, const IpAddress& ip) {
  for (const IpBlock& b : f.ip_blocks) {
    if (b.Contains(ip)) return true;
  }
  return false;
}

// AnyIp notes an unknown address against "`policy` `f.field`".
std::optional<bool> AnyIp(const FieldMatch& f, const std::optional<IpAddress>& ip, const char* what,
                          Context& ctx, const std::string& policy) {
  if (!ip) {
    ctx.notes.insert(absl::StrCat(what, " not given: ", policy, " ", f.field, " cannot match"));
    return std::nullopt;
  }
  return AnyBlock(f, *ip);
}

std::optional<bool> AnyClaim(const FieldMatch& f, const std::string& claim, const Context& ctx) {
  auto it = ctx.request.claims.find(claim);
  if (it == ctx.request.claims.end()) return false;
  for (const std::string& v : it->second) {
    if (AnyString(f, v)) return true;
  }
  return false;
}

// Positive reports whether the attribute matches one of the values, before negation; nullopt
// when the request does not say (the field then matches neither way).
std::optional<bool> Positive(const FieldMatch& f, Context& ctx, const std::string& policy) {
  const Request& r = ctx.request;
  switch (f.attribute) {
    case Attribute::kPrincipal:
      return ctx.principal_known && AnyString(f, ctx.principal);
    case Attribute::kNamespace:
      return ctx.principal_known && !ctx.principal_namespace.empty() &&
             AnyString(f, ctx.principal_namespace);
    case Attribute::kServiceAccount: {
      const std::vector<std::string>& p = ctx.principal_path;
      if (!ctx.principal_known || p.size() != 4 || p[0] != "ns" || p[2] != "sa") return false;
      return AnyString(f, absl::StrCat(p[1], "/", p[3]));
    }
    case Attribute::kSourceIp:
      return AnyIp(f, ctx.source_ip, "source IP", ctx, policy);
    case Attribute::kRemoteIp:
      return AnyIp(f, ctx.remote_ip, "source IP", ctx, policy);
    case Attribute::kDestinationIp:
      return AnyIp(f, ctx.destination_ip, "destination IP", ctx, policy);
    case Attribute::kRequestPrincipal:
      return AnyString(f, r.request_principal);
    case Attribute::kRequestAudience:
      return AnyClaim(f, "aud", ctx);
    case Attribute::kRequestPresenter:
      return AnyClaim(f, "azp", ctx);
    case Attribute::kRequestClaim:
      return AnyClaim(f, f.name, ctx);
    case Attribute::kHost:
      return AnyString(f, r.host, /*ignore_case=*/true);
    case Attribute::kMethod:
      return AnyString(f, r.method);
    case Attribute::kPath:
      return AnyString(f, ctx.path);
    case Attribute::kPort:
      for (uint32_t p : f.ports) {
        if (p == r.port) return true;
      }
      return false;
    case Attribute::kHeader: {
      // Envoy joins repeated headers with ',' before matching.
      std::vector<std::string> values;
      for (const auto& [name, value] : r.headers) {
        if (absl::EqualsIgnoreCase(name, f.name)) values.push_back(value);
      }
      if (values.empty()) return false;
      return AnyString(f, absl::StrJoin(values, ","));
    }
    case Attribute::kSni:
      return AnyString(f, r.sni);
  }
  return false;
}

enum class FieldResult { kMatch, kNoMatch, kIgnored };

FieldResult EvalField(const FieldMatch& f, Context& ctx, const std::string& policy) {
  if (IsHttpOnly(f.attribute) && !ctx.request.http) {
    ctx.notes.insert(
        absl::StrCat(policy, " ", f.field, " ignored on a TCP connection (HTTP-only field)"));
    return FieldResult::kIgnored;
  }
  std::optional<bool> positive = Positive(f, ctx, policy);
  if (!positive) return FieldResult::kNoMatch;
  return *positive != f.negated ? FieldResult::kMatch : FieldResult::kNoMatch;
}

bool AllMatch(const std::vector<FieldMatch>& fields, Context& ctx, const std::string& policy) {
  for (const FieldMatch& f : fields) {
    if (EvalField(f, ctx, policy) == FieldResult::kNoMatch) return false;
  }
  return true;
}

bool HasHttpOnly(const Rule& rule) {
  auto any = [](const std::vector<FieldMatch>& fields) {
    for (const FieldMatch& f : fields) {
      if (IsHttpOnly(f.attribute)) return true;
    }
    return false;
  };
  for (const auto& s : rule.from) {
    if (any(s)) return true;
  }
  for (const auto& o : rule.to) {
    if (any(o)) return true;
  }
  return any(rule.when);
}

bool RuleMatches(const Rule& rule, size_t index, Action action, Context& ctx,
                 const std::string& policy) {
  if (!ctx.request.http && action == Action::kAllow && HasHttpOnly(rule)) {
    // Istio drops the whole rule from the TCP filter: an ALLOW is never widened.
    ctx.notes.insert(absl::StrCat(policy, " rules[", index,
                                  "] has HTTP-only fields: as an ALLOW rule it never matches a "
                                  "TCP connection"));
    return false;
  }
  auto any_of = [&](const std::vector<std::vector<FieldMatch>>& list) {
    if (list.empty()) return true;
    for (const auto& fields : list) {
      if (AllMatch(fields, ctx, policy)) return true;
    }
    return false;
  };
  return any_of(rule.from) && any_of(rule.to) && AllMatch(rule.when, ctx, policy);
}

// MatchingRule returns the index of the first rule of `p` that matches, or -1.
int MatchingRule(const AuthorizationPolicy& p, Context& ctx) {
  std::string name = p.meta.FullName();
  for (size_t i = 0; i < p.rules.size(); ++i) {
    if (RuleMatches(p.rules[i], i, p.action, ctx, name)) return static_cast<int>(i);
  }
  return -1;
}

void ReadPrincipal(Context& ctx) {
  absl::string_view p = ctx.request.peer_principal;
  absl::ConsumePrefix(&p, "spiffe://");
  ctx.principal = std::string(p);
  std::vector<std::string> parts = absl::StrSplit(p, '/');
  if (parts.size() > 1) ctx.principal_path.assign(parts.begin() + 1, parts.end());
  // Istio matches namespaces with the regex ".*/ns/<ns>/.*" on the principal.
  const std::vector<std::string>& path = ctx.principal_path;
  for (size_t i = 0; i + 2 < path.size(); ++i) {
    if (path[i] == "ns") {
      ctx.principal_namespace = path[i + 1];
      break;
    }
  }
}

// InScope: `policy` is in the root namespace (mesh-wide) or in the workload's namespace.
bool InScope(const AuthorizationPolicy& policy, const Workload& workload,
             absl::string_view root_namespace) {
  const std::string& ns = policy.meta.namespace_name;
  return ns == root_namespace || ns == workload.namespace_name;
}

}  // namespace

bool AppliesTo(const AuthorizationPolicy& policy, const Workload& workload,
               absl::string_view root_namespace) {
  if (!policy.target_refs.empty()) return false;
  if (!InScope(policy, workload, root_namespace)) return false;
  return !policy.selector.present || policy.selector.Matches(workload.labels);
}

Decision Evaluate(const PolicySet& set, const Request& request, const EvaluateOptions& options) {
  Decision d;
  d.mtls = ResolveMtlsMode(set, request.workload, request.port, options.root_namespace);
  Context ctx{request};
  auto finish = [&]() {
    d.notes.assign(ctx.notes.begin(), ctx.notes.end());
    return d;
  };
  if (d.mtls.mode == MtlsMode::kStrict && !request.mtls) {
    d.policy = d.mtls.policy;
    d.reason = "plaintext_rejected";
    d.detail = absl::StrCat("port ", request.port, " requires mTLS (STRICT, ", d.mtls.policy,
                            ") and the connection is plaintext");
    return finish();
  }
  ctx.principal_known = request.mtls && d.mtls.mode != MtlsMode::kDisable;
  if (request.mtls && d.mtls.mode == MtlsMode::kDisable) {
    ctx.notes.insert(
        "mTLS is DISABLEd on this port: the proxy does not terminate it, so the peer "
        "principal and namespace are unknown to authorization");
  }
  if (ctx.principal_known) ReadPrincipal(ctx);
  if (request.source_ip) ctx.source_ip = IpAddress::Parse(*request.source_ip);
  ctx.remote_ip = request.remote_ip ? IpAddress::Parse(*request.remote_ip) : ctx.source_ip;
  if (request.destination_ip) ctx.destination_ip = IpAddress::Parse(*request.destination_ip);
  if (request.http) {
    NormalizedPath np = NormalizePath(request.path);
    if (np.status != NormalizedPath::Status::kOk) {
      d.reason =
          np.status == NormalizedPath::Status::kInvalid ? "invalid_path" : "path_escapes_root";
      d.detail = np.detail;
      return finish();
    }
    d.path = np.path;
    ctx.path = np.path;
  }

  std::vector<const AuthorizationPolicy*> applied;
  for (const AuthorizationPolicy& p : set.authorization_policies) {
    if (AppliesTo(p, request.workload, options.root_namespace)) {
      applied.push_back(&p);
    } else if (!p.target_refs.empty() && InScope(p, request.workload, options.root_namespace)) {
      ctx.notes.insert(absl::StrCat(p.meta.FullName(),
                                    " uses targetRef (gateways and waypoints): not applied to a "
                                    "sidecar workload"));
    }
  }
  for (const AuthorizationPolicy* p : applied) {
    if (p->action == Action::kAudit && MatchingRule(*p, ctx) >= 0) {
      d.audit.push_back(p->meta.FullName());
    }
  }
  for (const AuthorizationPolicy* p : applied) {
    if (p->action != Action::kDeny) continue;
    int rule = MatchingRule(*p, ctx);
    if (rule < 0) continue;
    d.policy = p->meta.FullName();
    d.reason = "denied_by_policy";
    d.detail = absl::StrCat("rules[", rule, "] of DENY policy ", d.policy, " matched");
    return finish();
  }
  bool any_allow = false;
  for (const AuthorizationPolicy* p : applied) {
    if (p->action != Action::kAllow) continue;
    any_allow = true;
    int rule = MatchingRule(*p, ctx);
    if (rule < 0) continue;
    d.allow = true;
    d.policy = p->meta.FullName();
    d.reason = "allowed_by_policy";
    d.detail = absl::StrCat("rules[", rule, "] of ALLOW policy ", d.policy, " matched");
    return finish();
  }
  if (!any_allow) {
    d.allow = true;
    d.reason = "no_allow_policies";
    d.detail = "no DENY matched and no ALLOW policy applies to the workload";
    return finish();
  }
  d.reason = "no_allow_match";
  d.detail = "ALLOW policies apply to the workload and none matched";
  return finish();
}

}  // namespace meshid::policy
