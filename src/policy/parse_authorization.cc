// AuthorizationPolicy spec, with the checks Istio's validation applies (a `from` needs a
// non-empty source, a `when` needs a known key and values, addresses and ports must parse).

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "meshid/base/status.h"
#include "parse.h"

namespace meshid::policy::internal {
namespace {

enum class ValueKind { kString, kIp, kPort, kServiceAccount };

ValueKind KindOf(Attribute attribute) {
  switch (attribute) {
    case Attribute::kSourceIp:
    case Attribute::kRemoteIp:
    case Attribute::kDestinationIp:
      return ValueKind::kIp;
    case Attribute::kPort:
      return ValueKind::kPort;
    case Attribute::kServiceAccount:
      return ValueKind::kServiceAccount;
    default:
      return ValueKind::kString;
  }
}

// FillValues parses `values` (read from `path`) into `match` according to its attribute.
absl::Status FillValues(const std::vector<std::string>& values, const std::string& path,
                        FieldMatch& match) {
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string& v = values[i];
    std::string at = Index(path, i);
    switch (KindOf(match.attribute)) {
      case ValueKind::kIp: {
        std::optional<IpBlock> block = IpBlock::Parse(v);
        if (!block) {
          return FieldError(at, absl::StrCat("\"", v, "\" is not an IP address or CIDR block"));
        }
        match.ip_blocks.push_back(*block);
        break;
      }
      case ValueKind::kPort: {
        MESHID_ASSIGN_OR_RETURN(uint32_t port, ReadPortText(v, at, 0));
        match.ports.push_back(port);
        break;
      }
      case ValueKind::kServiceAccount: {
        std::vector<std::string> parts = absl::StrSplit(v, '/');
        if (parts.size() != 2 || parts[0].empty() || parts[1].empty() ||
            absl::StrContains(v, "*")) {
          return FieldError(at, absl::StrCat("\"", v,
                                             "\" is not a service account written "
                                             "\"namespace/name\" (no wildcards)"));
        }
        match.strings.push_back(StringMatch::Parse(v));
        break;
      }
      case ValueKind::kString:
        if (v.empty()) return FieldError(at, "must not be empty");
        if (match.attribute == Attribute::kPath && absl::StrContains(v, "{")) {
          return FieldError(at, absl::StrCat("\"", v,
                                             "\": path templates ({*}, {**}) are not "
                                             "supported by meshid"));
        }
        match.strings.push_back(StringMatch::Parse(v));
        break;
    }
  }
  return absl::OkStatus();
}

struct FieldSpec {
  absl::string_view name;
  Attribute attribute;
  bool negated;
};

// ReadFields reads every listed field of `node` into FieldMatches (empty lists add nothing).
absl::StatusOr<std::vector<FieldMatch>> ReadFields(const YAML::Node& node, const std::string& path,
                                                   std::initializer_list<FieldSpec> specs,
                                                   ReadContext& ctx) {
  std::vector<FieldMatch> out;
  for (const FieldSpec& spec : specs) {
    std::string at = Field(path, spec.name);
    MESHID_ASSIGN_OR_RETURN(std::vector<std::string> values,
                            ReadStringList(node[std::string(spec.name)], at, ctx));
    if (values.empty()) continue;
    FieldMatch match;
    match.attribute = spec.attribute;
    match.negated = spec.negated;
    match.field = at;
    MESHID_RETURN_IF_ERROR(FillValues(values, at, match));
    out.push_back(std::move(match));
  }
  return out;
}

absl::StatusOr<std::vector<FieldMatch>> ParseSource(const YAML::Node& node, const std::string& path,
                                                    ReadContext& ctx) {
  if (IsAbsent(node)) return FieldError(path, "is required");
  MESHID_RETURN_IF_ERROR(
      CheckFields(node, path,
                  {"principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals",
                   "namespaces", "notNamespaces", "serviceAccounts", "notServiceAccounts",
                   "ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"}));
  MESHID_ASSIGN_OR_RETURN(std::vector<FieldMatch> fields,
                          ReadFields(node, path,
                                     {{"principals", Attribute::kPrincipal, false},
                                      {"notPrincipals", Attribute::kPrincipal, true},
                                      {"requestPrincipals", Attribute::kRequestPrincipal, false},
                                      {"notRequestPrincipals", Attribute::kRequestPrincipal, true},
                                      {"namespaces", Attribute::kNamespace, false},
                                      {"notNamespaces", Attribute::kNamespace, true},
                                      {"serviceAccounts", Attribute::kServiceAccount, false},
                                      {"notServiceAccounts", Attribute::kServiceAccount, true},
                                      {"ipBlocks", Attribute::kSourceIp, false},
                                      {"notIpBlocks", Attribute::kSourceIp, true},
                                      {"remoteIpBlocks", Attribute::kRemoteIp, false},
                                      {"notRemoteIpBlocks", Attribute::kRemoteIp, true}},
                                     ctx));
  if (fields.empty()) return FieldError(path, "must not be empty");
  return fields;
}

absl::StatusOr<std::vector<FieldMatch>> ParseOperation(const YAML::Node& node,
                                                       const std::string& path, ReadContext& ctx) {
  if (IsAbsent(node)) return FieldError(path, "is required");
  MESHID_RETURN_IF_ERROR(CheckFields(
      node, path,
      {"hosts", "notHosts", "ports", "notPorts", "methods", "notMethods", "paths", "notPaths"}));
  MESHID_ASSIGN_OR_RETURN(std::vector<FieldMatch> fields,
                          ReadFields(node, path,
                                     {{"hosts", Attribute::kHost, false},
                                      {"notHosts", Attribute::kHost, true},
                                      {"ports", Attribute::kPort, false},
                                      {"notPorts", Attribute::kPort, true},
                                      {"methods", Attribute::kMethod, false},
                                      {"notMethods", Attribute::kMethod, true},
                                      {"paths", Attribute::kPath, false},
                                      {"notPaths", Attribute::kPath, true}},
                                     ctx));
  if (fields.empty()) return FieldError(path, "must not be empty");
  return fields;
}

// BracketName returns the name in "prefix[name]", or nullopt when `key` is not of that form.
std::optional<std::string> BracketName(absl::string_view key, absl::string_view prefix) {
  if (!absl::StartsWith(key, prefix) || !absl::EndsWith(key, "]")) return std::nullopt;
  absl::string_view inner = key.substr(prefix.size(), key.size() - prefix.size() - 1);
  if (inner.empty()) return std::nullopt;
  return std::string(inner);
}

absl::Status ParseConditionKey(const std::string& key, const std::string& path, FieldMatch& match) {
  static const std::vector<std::pair<absl::string_view, Attribute>> kPlain = {
      {"source.ip", Attribute::kSourceIp},
      {"remote.ip", Attribute::kRemoteIp},
      {"source.namespace", Attribute::kNamespace},
      {"source.principal", Attribute::kPrincipal},
      {"request.auth.principal", Attribute::kRequestPrincipal},
      {"request.auth.audiences", Attribute::kRequestAudience},
      {"request.auth.presenter", Attribute::kRequestPresenter},
      {"destination.ip", Attribute::kDestinationIp},
      {"destination.port", Attribute::kPort},
      {"connection.sni", Attribute::kSni},
  };
  for (const auto& [name, attribute] : kPlain) {
    if (key == name) {
      match.attribute = attribute;
      return absl::OkStatus();
    }
  }
  if (std::optional<std::string> header = BracketName(key, "request.headers[")) {
    match.attribute = Attribute::kHeader;
    match.name = *header;
    return absl::OkStatus();
  }
  if (std::optional<std::string> claim = BracketName(key, "request.auth.claims[")) {
    // Nested claims are written request.auth.claims[a][b]; kept as "a.b".
    match.attribute = Attribute::kRequestClaim;
    match.name = absl::StrJoin(absl::StrSplit(*claim, "]["), ".");
    return absl::OkStatus();
  }
  if (absl::StartsWith(key, "experimental.envoy.filters.")) {
    return FieldError(path, absl::StrCat("\"", key, "\" (Envoy filter metadata) is not supported"));
  }
  return FieldError(path, absl::StrCat("unknown condition key \"", key,
                                       "\" (known: request.headers[NAME], source.ip, remote.ip, "
                                       "source.namespace, source.principal, "
                                       "request.auth.principal, request.auth.audiences, "
                                       "request.auth.presenter, request.auth.claims[NAME], "
                                       "destination.ip, destination.port, connection.sni)"));
}

absl::Status ParseCondition(const YAML::Node& node, const std::string& path, ReadContext& ctx,
                            std::vector<FieldMatch>& out) {
  if (IsAbsent(node)) return FieldError(path, "expected a map with key and values");
  MESHID_RETURN_IF_ERROR(CheckFields(node, path, {"key", "values", "notValues"}));
  if (IsAbsent(node["key"])) return FieldError(Field(path, "key"), "is required");
  MESHID_ASSIGN_OR_RETURN(std::string key, ReadString(node["key"], Field(path, "key")));
  FieldMatch base;
  MESHID_RETURN_IF_ERROR(ParseConditionKey(key, Field(path, "key"), base));
  bool any = false;
  for (bool negated : {false, true}) {
    std::string at = Field(path, negated ? "notValues" : "values");
    MESHID_ASSIGN_OR_RETURN(std::vector<std::string> values,
                            ReadStringList(node[negated ? "notValues" : "values"], at, ctx));
    if (values.empty()) continue;
    any = true;
    FieldMatch match = base;
    match.negated = negated;
    match.field = at;
    MESHID_RETURN_IF_ERROR(FillValues(values, at, match));
    out.push_back(std::move(match));
  }
  if (!any) return FieldError(path, "needs values or notValues");
  return absl::OkStatus();
}

absl::StatusOr<Rule> ParseRule(const YAML::Node& node, const std::string& path, ReadContext& ctx) {
  Rule rule;
  if (IsAbsent(node)) return rule;  // `- {}` and a bare `-` are the match-everything rule
  MESHID_RETURN_IF_ERROR(CheckFields(node, path, {"from", "to", "when"}));
  std::string from_path = Field(path, "from");
  MESHID_RETURN_IF_ERROR(ExpectList(node["from"], from_path));
  if (!IsAbsent(node["from"])) {
    MESHID_RETURN_IF_ERROR(ctx.Spend(node["from"].size(), from_path));
    for (size_t i = 0; i < node["from"].size(); ++i) {
      const YAML::Node& item = node["from"][i];
      std::string at = Index(from_path, i);
      if (IsAbsent(item)) return FieldError(Field(at, "source"), "is required");
      MESHID_RETURN_IF_ERROR(CheckFields(item, at, {"source"}));
      MESHID_ASSIGN_OR_RETURN(std::vector<FieldMatch> source,
                              ParseSource(item["source"], Field(at, "source"), ctx));
      rule.from.push_back(std::move(source));
    }
  }
  std::string to_path = Field(path, "to");
  MESHID_RETURN_IF_ERROR(ExpectList(node["to"], to_path));
  if (!IsAbsent(node["to"])) {
    MESHID_RETURN_IF_ERROR(ctx.Spend(node["to"].size(), to_path));
    for (size_t i = 0; i < node["to"].size(); ++i) {
      const YAML::Node& item = node["to"][i];
      std::string at = Index(to_path, i);
      if (IsAbsent(item)) return FieldError(Field(at, "operation"), "is required");
      MESHID_RETURN_IF_ERROR(CheckFields(item, at, {"operation"}));
      MESHID_ASSIGN_OR_RETURN(std::vector<FieldMatch> operation,
                              ParseOperation(item["operation"], Field(at, "operation"), ctx));
      rule.to.push_back(std::move(operation));
    }
  }
  std::string when_path = Field(path, "when");
  MESHID_RETURN_IF_ERROR(ExpectList(node["when"], when_path));
  if (!IsAbsent(node["when"])) {
    MESHID_RETURN_IF_ERROR(ctx.Spend(node["when"].size(), when_path));
    for (size_t i = 0; i < node["when"].size(); ++i) {
      MESHID_RETURN_IF_ERROR(ParseCondition(node["when"][i], Index(when_path, i), ctx, rule.when));
    }
  }
  return rule;
}

absl::StatusOr<TargetRef> ParseTargetRef(const YAML::Node& node, const std::string& path,
                                         const std::string& policy_namespace) {
  if (IsAbsent(node)) return FieldError(path, "expected a map with kind and name");
  MESHID_RETURN_IF_ERROR(CheckFields(node, path, {"group", "kind", "name", "namespace"}));
  TargetRef ref;
  for (auto [key, field] : {std::pair{"group", &ref.group}, std::pair{"kind", &ref.kind},
                            std::pair{"name", &ref.name}}) {
    if (IsAbsent(node[key])) {
      if (std::string(key) == "group") continue;
      return FieldError(Field(path, key), "is required");
    }
    MESHID_ASSIGN_OR_RETURN(*field, ReadString(node[key], Field(path, key)));
  }
  if (!IsAbsent(node["namespace"])) {
    MESHID_ASSIGN_OR_RETURN(std::string ns,
                            ReadString(node["namespace"], Field(path, "namespace")));
    if (ns != policy_namespace) {
      return FieldError(Field(path, "namespace"),
                        "must be the policy's own namespace (cross-namespace references are not "
                        "allowed)");
    }
  }
  return ref;
}

}  // namespace

absl::StatusOr<WorkloadSelector> ParseSelector(const YAML::Node& node, const std::string& path,
                                               ReadContext& ctx) {
  WorkloadSelector selector;
  if (IsAbsent(node)) return selector;
  MESHID_RETURN_IF_ERROR(CheckFields(node, path, {"matchLabels"}));
  selector.present = true;
  MESHID_ASSIGN_OR_RETURN(selector.match_labels,
                          ReadStringMap(node["matchLabels"], Field(path, "matchLabels"), ctx));
  return selector;
}

absl::Status ParseAuthorizationPolicy(const YAML::Node& spec, const std::string& path,
                                      ReadContext& ctx, AuthorizationPolicy& out) {
  MESHID_RETURN_IF_ERROR(CheckFields(
      spec, path, {"selector", "targetRef", "targetRefs", "action", "provider", "rules"}));
  if (IsAbsent(spec)) return absl::OkStatus();  // `spec: {}` or none: ALLOW nothing
  std::string action = "ALLOW";
  if (!IsAbsent(spec["action"])) {
    MESHID_ASSIGN_OR_RETURN(action, ReadString(spec["action"], Field(path, "action")));
  }
  if (action == "ALLOW") {
    out.action = Action::kAllow;
  } else if (action == "DENY") {
    out.action = Action::kDeny;
  } else if (action == "AUDIT") {
    out.action = Action::kAudit;
  } else if (action == "CUSTOM") {
    return FieldError(Field(path, "action"),
                      "CUSTOM is not supported (meshid has no external authorizer); use ALLOW "
                      "or DENY");
  } else {
    return FieldError(Field(path, "action"),
                      absl::StrCat("\"", action, "\" is not one of ALLOW, DENY, AUDIT, CUSTOM"));
  }
  if (!IsAbsent(spec["provider"])) {
    return FieldError(Field(path, "provider"), "is only allowed with action CUSTOM");
  }
  MESHID_ASSIGN_OR_RETURN(out.selector,
                          ParseSelector(spec["selector"], Field(path, "selector"), ctx));
  if (!IsAbsent(spec["targetRef"])) {
    MESHID_ASSIGN_OR_RETURN(
        TargetRef ref,
        ParseTargetRef(spec["targetRef"], Field(path, "targetRef"), out.meta.namespace_name));
    out.target_refs.push_back(std::move(ref));
  }
  std::string refs_path = Field(path, "targetRefs");
  MESHID_RETURN_IF_ERROR(ExpectList(spec["targetRefs"], refs_path));
  if (!IsAbsent(spec["targetRefs"])) {
    if (!out.target_refs.empty()) {
      return FieldError(path, "set only one of targetRef and targetRefs");
    }
    MESHID_RETURN_IF_ERROR(ctx.Spend(spec["targetRefs"].size(), refs_path));
    for (size_t i = 0; i < spec["targetRefs"].size(); ++i) {
      MESHID_ASSIGN_OR_RETURN(
          TargetRef ref,
          ParseTargetRef(spec["targetRefs"][i], Index(refs_path, i), out.meta.namespace_name));
      out.target_refs.push_back(std::move(ref));
    }
  }
  if (out.selector.present && !out.target_refs.empty()) {
    return FieldError(path, "set either selector or targetRef(s), not both");
  }
  std::string rules_path = Field(path, "rules");
  MESHID_RETURN_IF_ERROR(ExpectList(spec["rules"], rules_path));
  if (!IsAbsent(spec["rules"])) {
    MESHID_RETURN_IF_ERROR(ctx.Spend(spec["rules"].size(), rules_path));
    for (size_t i = 0; i < spec["rules"].size(); ++i) {
      MESHID_ASSIGN_OR_RETURN(Rule rule, ParseRule(spec["rules"][i], Index(rules_path, i), ctx));
      out.rules.push_back(std::move(rule));
    }
  }
  return absl::OkStatus();
}

}  // namespace meshid::policy::internal
