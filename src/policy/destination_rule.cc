#include "meshid/policy/destination_rule.h"

#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace meshid::policy {
namespace {

// ServiceNamespace returns <ns> of "<svc>.<ns>.svc.<suffix>", or "".
std::string ServiceNamespace(absl::string_view fqdn, absl::string_view suffix) {
  std::string tail = absl::StrCat(".svc.", suffix);
  if (!absl::EndsWith(fqdn, tail)) return "";
  std::vector<absl::string_view> parts =
      absl::StrSplit(fqdn.substr(0, fqdn.size() - tail.size()), '.');
  return parts.size() == 2 ? std::string(parts[1]) : "";
}

bool Visible(const DestinationRule& dr, absl::string_view client_ns) {
  if (dr.export_to.empty()) return true;
  for (const std::string& to : dr.export_to) {
    if (to == "*" || to == client_ns || (to == "." && dr.meta.namespace_name == client_ns)) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string QualifyHost(absl::string_view host, absl::string_view ns,
                        absl::string_view domain_suffix) {
  std::string h = absl::AsciiStrToLower(host);
  if (absl::StrContains(h, '.') || absl::StrContains(h, '*')) return h;
  return absl::StrCat(h, ".", ns, ".svc.", domain_suffix);
}

bool HostMatches(absl::string_view pattern, absl::string_view host) {
  if (pattern == "*") return true;
  if (absl::StartsWith(pattern, "*.")) {
    return absl::EndsWithIgnoreCase(host, pattern.substr(1)) && host.size() > pattern.size() - 1;
  }
  return absl::EqualsIgnoreCase(pattern, host);
}

ClientTls ResolveClientTls(const PolicySet& set, const ClientTlsQuery& query,
                           absl::string_view root_namespace) {
  std::string host = QualifyHost(query.host, query.client_namespace, query.domain_suffix);
  std::vector<std::string> namespaces = {query.client_namespace};
  std::string service_ns = ServiceNamespace(host, query.domain_suffix);
  if (!service_ns.empty() && service_ns != query.client_namespace) namespaces.push_back(service_ns);
  if (root_namespace != query.client_namespace && root_namespace != service_ns) {
    namespaces.emplace_back(root_namespace);
  }
  for (const std::string& ns : namespaces) {
    const DestinationRule* best = nullptr;
    // Higher is better: exact host, then a longer wildcard, then a matching workloadSelector.
    std::tuple<bool, size_t, bool> best_key;
    for (const DestinationRule& dr : set.destination_rules) {  // oldest first
      if (dr.meta.namespace_name != ns || !Visible(dr, query.client_namespace)) continue;
      if (dr.workload_selector.present &&
          (ns != query.client_namespace || !dr.workload_selector.Matches(query.client_labels))) {
        continue;
      }
      std::string pattern = QualifyHost(dr.host, ns, query.domain_suffix);
      if (!HostMatches(pattern, host)) continue;
      std::tuple<bool, size_t, bool> key{!absl::StrContains(pattern, '*'), pattern.size(),
                                         dr.workload_selector.present};
      if (best == nullptr || key > best_key) {
        best = &dr;
        best_key = key;
      }
    }
    if (best == nullptr) continue;
    ClientTls out;
    out.policy = best->meta.FullName();
    out.mode = best->tls_mode;
    auto it = query.port == 0 ? best->port_tls.end() : best->port_tls.find(query.port);
    if (it != best->port_tls.end()) {
      out.mode = it->second;
      out.port_level = true;
    }
    return out;
  }
  return ClientTls{};
}

}  // namespace meshid::policy
