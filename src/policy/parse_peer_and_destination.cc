// PeerAuthentication and DestinationRule specs.

#include "absl/strings/str_cat.h"
#include "meshid/base/status.h"
#include "parse.h"

namespace meshid::policy::internal {
namespace {

absl::StatusOr<MtlsMode> ParseMtls(const YAML::Node& node, const std::string& path) {
  MESHID_RETURN_IF_ERROR(CheckFields(node, path, {"mode"}));
  if (IsAbsent(node) || IsAbsent(node["mode"])) return MtlsMode::kUnset;
  std::string at = Field(path, "mode");
  MESHID_ASSIGN_OR_RETURN(std::string mode, ReadString(node["mode"], at));
  for (MtlsMode m :
       {MtlsMode::kUnset, MtlsMode::kDisable, MtlsMode::kPermissive, MtlsMode::kStrict}) {
    if (mode == MtlsModeName(m)) return m;
  }
  return FieldError(
      at, absl::StrCat("\"", mode, "\" is not one of UNSET, DISABLE, PERMISSIVE, STRICT"));
}

// ParseTls reads a ClientTLSSettings map; only its mode matters to meshid.
absl::StatusOr<TlsMode> ParseTls(const YAML::Node& node, const std::string& path,
                                 ReadContext& ctx) {
  MESHID_RETURN_IF_ERROR(
      CheckFields(node, path,
                  {"mode", "clientCertificate", "privateKey", "caCertificates", "credentialName",
                   "subjectAltNames", "sni", "insecureSkipVerify", "caCrl"}));
  if (IsAbsent(node)) return TlsMode::kUnset;
  for (const char* key :
       {"clientCertificate", "privateKey", "caCertificates", "credentialName", "sni", "caCrl"}) {
    if (!IsAbsent(node[key])) {
      MESHID_RETURN_IF_ERROR(ReadString(node[key], Field(path, key)).status());
    }
  }
  MESHID_RETURN_IF_ERROR(
      ReadStringList(node["subjectAltNames"], Field(path, "subjectAltNames"), ctx).status());
  if (IsAbsent(node["mode"])) return TlsMode::kUnset;
  std::string at = Field(path, "mode");
  MESHID_ASSIGN_OR_RETURN(std::string mode, ReadString(node["mode"], at));
  for (TlsMode m : {TlsMode::kDisable, TlsMode::kSimple, TlsMode::kMutual, TlsMode::kIstioMutual}) {
    if (mode == TlsModeName(m)) return m;
  }
  return FieldError(
      at, absl::StrCat("\"", mode, "\" is not one of DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL"));
}

// ExpectMapOrAbsent checks a field meshid does not interpret beyond its being a map.
absl::Status ExpectMapOrAbsent(const YAML::Node& node, const std::string& path) {
  if (IsAbsent(node) || node.IsMap()) return absl::OkStatus();
  return FieldError(path, "expected a map");
}

// TrafficPolicy is the part of a trafficPolicy meshid uses.
struct TrafficPolicy {
  TlsMode tls = TlsMode::kUnset;
  std::map<uint32_t, TlsMode> port_tls;
};

absl::StatusOr<TrafficPolicy> ParseTrafficPolicy(const YAML::Node& node, const std::string& path,
                                                 ReadContext& ctx) {
  MESHID_RETURN_IF_ERROR(
      CheckFields(node, path,
                  {"loadBalancer", "connectionPool", "outlierDetection", "tls", "portLevelSettings",
                   "tunnel", "proxyProtocol", "retryBudget"}));
  TrafficPolicy out;
  if (IsAbsent(node)) return out;
  for (const char* key : {"loadBalancer", "connectionPool", "outlierDetection", "tunnel",
                          "proxyProtocol", "retryBudget"}) {
    MESHID_RETURN_IF_ERROR(ExpectMapOrAbsent(node[key], Field(path, key)));
  }
  MESHID_ASSIGN_OR_RETURN(out.tls, ParseTls(node["tls"], Field(path, "tls"), ctx));
  std::string ports_path = Field(path, "portLevelSettings");
  const YAML::Node& ports = node["portLevelSettings"];
  MESHID_RETURN_IF_ERROR(ExpectList(ports, ports_path));
  if (IsAbsent(ports)) return out;
  MESHID_RETURN_IF_ERROR(ctx.Spend(ports.size(), ports_path));
  for (size_t i = 0; i < ports.size(); ++i) {
    std::string at = Index(ports_path, i);
    const YAML::Node& item = ports[i];
    if (IsAbsent(item)) return FieldError(at, "expected a map with port");
    MESHID_RETURN_IF_ERROR(CheckFields(
        item, at, {"port", "loadBalancer", "connectionPool", "outlierDetection", "tls"}));
    for (const char* key : {"loadBalancer", "connectionPool", "outlierDetection"}) {
      MESHID_RETURN_IF_ERROR(ExpectMapOrAbsent(item[key], Field(at, key)));
    }
    std::string port_path = Field(at, "port");
    if (IsAbsent(item["port"])) return FieldError(port_path, "is required");
    MESHID_RETURN_IF_ERROR(CheckFields(item["port"], port_path, {"number"}));
    std::string number_path = Field(port_path, "number");
    if (IsAbsent(item["port"]["number"])) return FieldError(number_path, "is required");
    MESHID_ASSIGN_OR_RETURN(std::string number, ReadString(item["port"]["number"], number_path));
    MESHID_ASSIGN_OR_RETURN(uint32_t port, ReadPortText(number, number_path, 1));
    MESHID_ASSIGN_OR_RETURN(TlsMode tls, ParseTls(item["tls"], Field(at, "tls"), ctx));
    if (tls != TlsMode::kUnset) out.port_tls[port] = tls;
  }
  return out;
}

}  // namespace

absl::Status ParsePeerAuthentication(const YAML::Node& spec, const std::string& path,
                                     ReadContext& ctx, PeerAuthentication& out) {
  MESHID_RETURN_IF_ERROR(CheckFields(spec, path, {"selector", "mtls", "portLevelMtls"}));
  if (IsAbsent(spec)) return absl::OkStatus();
  MESHID_ASSIGN_OR_RETURN(out.selector,
                          ParseSelector(spec["selector"], Field(path, "selector"), ctx));
  MESHID_ASSIGN_OR_RETURN(out.mode, ParseMtls(spec["mtls"], Field(path, "mtls")));
  std::string ports_path = Field(path, "portLevelMtls");
  const YAML::Node& ports = spec["portLevelMtls"];
  if (IsAbsent(ports)) return absl::OkStatus();
  if (!ports.IsMap()) return FieldError(ports_path, "expected a map of port numbers to {mode}");
  MESHID_RETURN_IF_ERROR(ctx.Spend(ports.size(), ports_path));
  std::map<uint32_t, MtlsMode> port_level;
  for (const auto& item : ports) {
    if (!item.first.IsScalar()) return FieldError(ports_path, "keys must be port numbers");
    std::string at = Field(ports_path, item.first.Scalar());
    MESHID_ASSIGN_OR_RETURN(uint32_t port, ReadPortText(item.first.Scalar(), at, 1));
    MESHID_ASSIGN_OR_RETURN(MtlsMode mode, ParseMtls(item.second, at));
    if (!port_level.emplace(port, mode).second) return FieldError(at, "port given twice");
  }
  // Istio honours port-level modes only on a workload policy (a non-empty selector).
  if (out.selector.match_labels.empty()) {
    ctx.Note(absl::StrCat(ports_path,
                          " ignored: port-level mTLS applies only to a policy with a selector"));
    return absl::OkStatus();
  }
  out.port_level = std::move(port_level);
  return absl::OkStatus();
}

absl::Status ParseDestinationRule(const YAML::Node& spec, const std::string& path, ReadContext& ctx,
                                  DestinationRule& out) {
  MESHID_RETURN_IF_ERROR(CheckFields(
      spec, path, {"host", "trafficPolicy", "subsets", "exportTo", "workloadSelector"}));
  std::string host_path = Field(path, "host");
  if (IsAbsent(spec) || IsAbsent(spec["host"])) return FieldError(host_path, "is required");
  MESHID_ASSIGN_OR_RETURN(out.host, ReadString(spec["host"], host_path));
  if (out.host.empty()) return FieldError(host_path, "must not be empty");
  MESHID_ASSIGN_OR_RETURN(
      TrafficPolicy traffic,
      ParseTrafficPolicy(spec["trafficPolicy"], Field(path, "trafficPolicy"), ctx));
  out.tls_mode = traffic.tls;
  out.port_tls = std::move(traffic.port_tls);
  MESHID_ASSIGN_OR_RETURN(out.export_to,
                          ReadStringList(spec["exportTo"], Field(path, "exportTo"), ctx));
  MESHID_ASSIGN_OR_RETURN(
      out.workload_selector,
      ParseSelector(spec["workloadSelector"], Field(path, "workloadSelector"), ctx));
  std::string subsets_path = Field(path, "subsets");
  const YAML::Node& subsets = spec["subsets"];
  MESHID_RETURN_IF_ERROR(ExpectList(subsets, subsets_path));
  if (!IsAbsent(subsets)) {
    MESHID_RETURN_IF_ERROR(ctx.Spend(subsets.size(), subsets_path));
    for (size_t i = 0; i < subsets.size(); ++i) {
      std::string at = Index(subsets_path, i);
      MESHID_RETURN_IF_ERROR(CheckFields(subsets[i], at, {"name", "labels", "trafficPolicy"}));
      if (IsAbsent(subsets[i]) || IsAbsent(subsets[i]["name"])) {
        return FieldError(Field(at, "name"), "is required");
      }
      MESHID_RETURN_IF_ERROR(ReadString(subsets[i]["name"], Field(at, "name")).status());
      MESHID_RETURN_IF_ERROR(
          ReadStringMap(subsets[i]["labels"], Field(at, "labels"), ctx).status());
      MESHID_ASSIGN_OR_RETURN(
          TrafficPolicy subset_traffic,
          ParseTrafficPolicy(subsets[i]["trafficPolicy"], Field(at, "trafficPolicy"), ctx));
      if (subset_traffic.tls != TlsMode::kUnset || !subset_traffic.port_tls.empty()) {
        ctx.Note(absl::StrCat(at, ".trafficPolicy.tls: subset-level TLS is not evaluated"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace meshid::policy::internal
