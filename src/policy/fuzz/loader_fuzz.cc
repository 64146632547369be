// libFuzzer target for the policy YAML loader (scripts/fuzz.sh runs it). Whatever the bytes,
// loading must end in a Status, never a crash, a leak or undefined behaviour; what loads is
// then evaluated for a few requests built from the policies themselves, so that the evaluator
// sees every shape the loader accepts.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "meshid/policy/destination_rule.h"
#include "meshid/policy/evaluate.h"
#include "meshid/policy/loader.h"
#include "meshid/policy/model.h"

namespace meshid::policy {
namespace {

// kMaxWorkloads bounds the evaluation work per input, so that a large policy set spends the
// fuzzer's time in the loader rather than in repeated evaluations.
constexpr size_t kMaxWorkloads = 8;

// FirstPattern returns the first string pattern of `rules` for `attribute`, or `fallback`.
std::string FirstPattern(const std::vector<Rule>& rules, Attribute attribute,
                         absl::string_view fallback) {
  for (const Rule& rule : rules) {
    for (const auto* group : {&rule.from, &rule.to}) {
      for (const std::vector<FieldMatch>& fields : *group) {
        for (const FieldMatch& f : fields) {
          if (f.attribute == attribute && !f.strings.empty()) return f.strings[0].pattern();
        }
      }
    }
    for (const FieldMatch& f : rule.when) {
      if (f.attribute == attribute && !f.strings.empty()) return f.strings[0].pattern();
    }
  }
  return std::string(fallback);
}

void EvaluateFor(const PolicySet& set, const Workload& workload, uint32_t port,
                 const std::vector<Rule>* rules) {
  static const std::vector<Rule> kNoRules;
  const std::vector<Rule>& r = rules ? *rules : kNoRules;
  (void)ResolveMtlsMode(set, workload, port);

  Request request;
  request.workload = workload;
  request.port = port;
  request.mtls = true;
  request.peer_principal = FirstPattern(r, Attribute::kPrincipal, "cluster.local/ns/foo/sa/bar");
  request.source_ip = "10.1.2.3";
  request.destination_ip = "2001:db8::1";
  request.sni = "outbound_.8080_._.httpbin.foo.svc.cluster.local";
  (void)Evaluate(set, request);  // TCP

  request.http = true;
  request.method = FirstPattern(r, Attribute::kMethod, "GET");
  request.path = FirstPattern(r, Attribute::kPath, "/a/./b/../c%2Fd?x=1#f");
  request.host = FirstPattern(r, Attribute::kHost, "Example.COM:8080");
  request.headers.emplace("X-Token", "admin");
  request.headers.emplace(FirstPattern(r, Attribute::kHeader, "version"), "v1");
  request.request_principal = FirstPattern(r, Attribute::kRequestPrincipal, "iss/sub");
  request.claims["groups"] = {"admin", "dev"};
  (void)Evaluate(set, request);  // HTTP, mTLS

  request.mtls = false;
  request.peer_principal.clear();
  request.remote_ip = "::ffff:192.168.0.1";
  (void)Evaluate(set, request);  // HTTP, plaintext
}

void EvaluateLoaded(const PolicySet& set) {
  size_t budget = kMaxWorkloads;
  for (const AuthorizationPolicy& p : set.authorization_policies) {
    if (budget-- == 0) break;
    uint32_t port = 8080;
    for (const Rule& rule : p.rules) {
      for (const std::vector<FieldMatch>& op : rule.to) {
        for (const FieldMatch& f : op) {
          if (!f.ports.empty()) port = f.ports[0];
        }
      }
    }
    EvaluateFor(set, {p.meta.namespace_name, p.selector.match_labels}, port, &p.rules);
  }
  for (const PeerAuthentication& p : set.peer_authentications) {
    if (budget-- == 0) break;
    uint32_t port = p.port_level.empty() ? 80 : p.port_level.begin()->first;
    EvaluateFor(set, {p.meta.namespace_name, p.selector.match_labels}, port, nullptr);
  }
  for (const DestinationRule& d : set.destination_rules) {
    if (budget-- == 0) break;
    ClientTlsQuery query;
    query.host = d.host;
    query.port = d.port_tls.empty() ? 0 : d.port_tls.begin()->first;
    query.client_namespace = d.meta.namespace_name;
    query.client_labels = d.workload_selector.match_labels;
    (void)ResolveClientTls(set, query);
  }
  EvaluateFor(set, {"default", {{"app", "httpbin"}}}, 80, nullptr);
}

}  // namespace
}  // namespace meshid::policy

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using meshid::policy::Loader;
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  // MESHID_FUZZ_VERBOSE=1 prints why an input did not load: for checking that a seed gets past
  // the parser (policy_loader_fuzz SEED...).
  static const bool verbose = std::getenv("MESHID_FUZZ_VERBOSE") != nullptr;
  Loader loader;
  if (absl::Status s = loader.AddText(text, "fuzz.yaml"); !s.ok()) {
    if (verbose) std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 0;
  }
  meshid::policy::EvaluateLoaded(std::move(loader).Finish().policies);
  return 0;
}
