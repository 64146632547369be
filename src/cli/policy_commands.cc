// meshid policy: Istio PeerAuthentication / AuthorizationPolicy / DestinationRule YAML.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "commands.h"
#include "meshid/base/status.h"
#include "meshid/base/text.h"
#include "meshid/pki/spiffe_id.h"
#include "meshid/policy/evaluate.h"
#include "meshid/policy/lint.h"
#include "meshid/policy/loader.h"
#include "meshid/policy/pods.h"

namespace meshid::cli {
namespace {

using nlohmann::json;

struct EvalOptions {
  std::vector<std::string> files;
  std::string namespace_name;
  std::vector<std::string> labels;
  int port = 0;
  std::string peer_principal;
  bool plaintext = false;
  std::string source_ip;
  std::string sni;
  std::string method;
  std::string path;
  std::string host;
  std::vector<std::string> headers;
  std::string request_principal;
  std::string root_namespace = std::string(policy::kDefaultRootNamespace);
  bool json = false;
};

// SplitPair splits "k=v" of `flag`; the key must not be empty.
absl::StatusOr<std::pair<std::string, std::string>> SplitPair(const std::string& text,
                                                              absl::string_view flag) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " \"", text, "\" is not NAME=VALUE"));
  }
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

absl::StatusOr<policy::Request> BuildRequest(const EvalOptions& o) {
  policy::Request r;
  r.workload.namespace_name = o.namespace_name;
  for (const std::string& label : o.labels) {
    MESHID_ASSIGN_OR_RETURN(auto kv, SplitPair(label, "--labels"));
    if (!r.workload.labels.emplace(kv).second) {
      return absl::InvalidArgumentError(absl::StrCat("--labels: \"", kv.first, "\" given twice"));
    }
  }
  r.port = static_cast<uint32_t>(o.port);
  if (!o.peer_principal.empty() && o.plaintext) {
    return absl::InvalidArgumentError("give --peer-principal or --plaintext, not both");
  }
  if (!o.peer_principal.empty()) {
    std::string id = o.peer_principal;
    if (!absl::StartsWith(id, "spiffe://")) id = "spiffe://" + id;
    absl::StatusOr<pki::SpiffeId> parsed = pki::SpiffeId::Parse(id);
    if (!parsed.ok()) return base::Annotate(parsed.status(), "--peer-principal");
    r.mtls = true;
    r.peer_principal = id.substr(std::string("spiffe://").size());
  }
  if (!o.source_ip.empty()) {
    if (!policy::IpAddress::Parse(o.source_ip)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--source-ip \"", o.source_ip, "\" is not an IPv4 or IPv6 address"));
    }
    r.source_ip = o.source_ip;
  }
  r.sni = o.sni;
  r.http = !o.method.empty() || !o.path.empty() || !o.host.empty() || !o.headers.empty() ||
           !o.request_principal.empty();
  if (!r.http) return r;
  r.method = o.method.empty() ? "GET" : o.method;
  r.path = o.path.empty() ? "/" : o.path;
  if (!absl::StartsWith(r.path, "/")) {
    return absl::InvalidArgumentError(
        absl::StrCat("--path \"", o.path, "\" must start with '/' (the request path)"));
  }
  r.host = o.host;
  for (const std::string& header : o.headers) {
    MESHID_ASSIGN_OR_RETURN(auto kv, SplitPair(header, "--header"));
    r.headers.emplace(kv);
  }
  r.request_principal = o.request_principal;
  return r;
}

absl::StatusOr<int> RunEval(Io& io, const EvalOptions& o) {
  MESHID_ASSIGN_OR_RETURN(policy::Request request, BuildRequest(o));
  MESHID_ASSIGN_OR_RETURN(policy::LoadResult loaded, policy::LoadPolicyFiles(o.files));
  policy::EvaluateOptions options;
  options.root_namespace = o.root_namespace;
  policy::Decision d = policy::Evaluate(loaded.policies, request, options);
  std::vector<std::string> notes = loaded.notes;
  notes.insert(notes.end(), d.notes.begin(), d.notes.end());
  std::string decision = d.allow ? "ALLOW" : "DENY";
  std::string mode(policy::MtlsModeName(d.mtls.mode));
  if (o.json) {
    json doc = {{"decision", decision},
                {"policy", d.policy},
                {"reason", d.reason},
                {"detail", d.detail},
                {"mtls_mode", mode},
                {"mtls_policy", d.mtls.policy},
                {"protocol", request.http ? "http" : "tcp"},
                {"audit", d.audit},
                {"notes", notes}};
    if (request.http) doc["path"] = d.path;
    PrintJson(io, doc);
  } else {
    io.out << decision << "\n";
    io.out << "  policy:    " << base::Printable(d.policy) << "\n";
    io.out << "  reason:    " << d.reason << " (" << base::Printable(d.detail) << ")\n";
    io.out << "  mtls mode: " << mode << " (" << base::Printable(d.mtls.policy) << ")\n";
    if (request.http) io.out << "  path:      " << base::Printable(d.path) << "\n";
    if (!d.audit.empty()) {
      io.out << "  audit:     " << base::Printable(absl::StrJoin(d.audit, ", ")) << "\n";
    }
    for (const std::string& note : notes) io.out << "  note: " << base::Printable(note) << "\n";
  }
  return d.allow ? kExitOk : kExitWarning;
}

constexpr const char* kEvalFooter = R"(
Decides one connection (TCP) or request (HTTP) to a workload as Istio would: a plaintext
connection on a STRICT port is refused, then any matching DENY policy denies, then with no
ALLOW policy on the workload it is allowed, with a matching ALLOW it is allowed, and
otherwise denied. AUDIT policies that match are listed. Giving any of --method, --path,
--host, --header or --request-principal makes it an HTTP request (method GET and path / by
default); otherwise it is TCP. Without --peer-principal the connection is plaintext.

Exit status: 0 ALLOW, 1 DENY, 2 bad input (one line on stderr).

JSON output (-o json), keys kept stable:
  decision     "ALLOW" or "DENY"
  policy       deciding policy "namespace/name", or "default" when none decided
  reason       allowed_by_policy | no_allow_policies | denied_by_policy | no_allow_match |
               plaintext_rejected | invalid_path | path_escapes_root
  detail       one sentence saying why
  mtls_mode    PeerAuthentication mode on the port: DISABLE, PERMISSIVE or STRICT
  mtls_policy  the PeerAuthentication that set it, or "default"
  protocol     "tcp" or "http"
  path         the normalized request path (HTTP only)
  audit        AUDIT policies that matched, ["namespace/name", ...]
  notes        what was skipped or could not be evaluated
)";

struct LintCliOptions {
  std::vector<std::string> files;
  std::vector<std::string> trust_domains = {"cluster.local"};
  std::string pods;
  std::string root_namespace = std::string(policy::kDefaultRootNamespace);
  std::string at;
  bool json = false;
};

// FindingJson keeps the keys documented in kLintFooter.
json FindingJson(const policy::Finding& f) {
  bool ns_kind = f.kind == "Namespace";
  std::string policy = ns_kind ? f.related : f.object;
  std::string ns = ns_kind ? f.object : f.object.substr(0, f.object.find('/'));
  return {{"severity", std::string(policy::SeverityName(f.severity))},
          {"check", f.check},
          {"file", f.source},
          {"kind", f.kind},
          {"namespace", ns},
          {"policy", policy},
          {"related", ns_kind ? "" : f.related},
          {"message", f.message}};
}

absl::StatusOr<int> RunLint(Io& io, const LintCliOptions& o) {
  MESHID_ASSIGN_OR_RETURN(absl::Time now, ResolveTime(io, o.at));
  policy::LintOptions options;
  options.now = now;
  options.root_namespace = o.root_namespace;
  options.trust_domains.clear();
  for (const std::string& td : o.trust_domains) {
    absl::StatusOr<pki::TrustDomain> parsed = pki::TrustDomain::Parse(td);
    if (!parsed.ok()) return base::Annotate(parsed.status(), "--trust-domain");
    options.trust_domains.push_back(parsed->name());
  }
  MESHID_ASSIGN_OR_RETURN(policy::LoadResult loaded, policy::LoadPolicyFiles(o.files));
  std::vector<std::string> notes = loaded.notes;
  policy::PodList pods;
  if (!o.pods.empty()) {
    MESHID_ASSIGN_OR_RETURN(pods, policy::LoadPodFile(o.pods));
    options.pods = &pods.pods;
    options.pods_source = o.pods;
    notes.insert(notes.end(), pods.notes.begin(), pods.notes.end());
  }
  std::vector<policy::Finding> findings = policy::Lint(loaded.policies, notes, options);
  std::map<policy::Severity, int> counts;
  for (const policy::Finding& f : findings) ++counts[f.severity];
  if (o.json) {
    json list = json::array();
    for (const policy::Finding& f : findings) list.push_back(FindingJson(f));
    PrintJson(io, {{"findings", list},
                   {"errors", counts[policy::Severity::kError]},
                   {"warnings", counts[policy::Severity::kWarning]},
                   {"info", counts[policy::Severity::kInfo]}});
  } else {
    for (const policy::Finding& f : findings) {
      std::string what = f.kind.empty() ? "" : absl::StrCat(f.kind, " ", f.object, " ");
      std::string where = f.source.empty() ? "" : absl::StrCat("(", f.source, ")");
      io.out << base::Printable(absl::StrCat(policy::SeverityName(f.severity), " ", f.check, " ",
                                             what, where, ": ", f.message))
             << "\n";
    }
    int errors = counts[policy::Severity::kError];
    int warnings = counts[policy::Severity::kWarning];
    io.out << errors << (errors == 1 ? " error, " : " errors, ") << warnings
           << (warnings == 1 ? " warning, " : " warnings, ") << counts[policy::Severity::kInfo]
           << " info\n";
  }
  switch (policy::MaxSeverity(findings)) {
    case policy::Severity::kError:
      return kExitError;
    case policy::Severity::kWarning:
      return kExitWarning;
    case policy::Severity::kInfo:
      break;
  }
  return kExitOk;
}

constexpr const char* kLintFooter = R"(
Reports the policy mistakes behind mesh incidents, each with a stable check id:
  error    mtls.strict_plaintext_client   a DestinationRule sends plaintext (DISABLE) or TLS
                                          without a client certificate (SIMPLE) to a server
                                          PeerAuthentication makes STRICT (a warning when the
                                          server is matched by namespace only, as the message says)
  warning  mtls.permissive_no_expiry      PERMISSIVE (mesh, namespace, workload or port) without
                                          the meshid.io/expires annotation (RFC 3339)
  error    mtls.permissive_bad_expiry     meshid.io/expires is not an RFC 3339 time
  error    mtls.permissive_expired        meshid.io/expires has passed (see --at)
  warning  authz.no_default_deny          a namespace with ALLOW policies, or with pods (--pods),
                                          and no allow-nothing policy there or in the root namespace
  warning  authz.principal_trust_domain   a principal outside the --trust-domain(s)
  warning  authz.principal_wildcard       an ALLOW principal "*" or a wildcard across trust domains
  warning  authz.deny_http_without_ports  a DENY rule with HTTP-only fields and no ports: on TCP
                                          Istio ignores those fields and the rule matches more
  warning  selector.no_match              a selector that matches no pod of --pods
  info     load.duplicate, load.note      an object defined twice; a kind skipped, a field ignored

Exit status: 0 no warning or error, 1 warnings, 2 errors or bad input (one line on stderr).

JSON output (-o json): {"findings": [...], "errors": N, "warnings": N, "info": N}; each finding
has severity, check, file ("authz.yaml doc 2"), kind, namespace, policy ("namespace/name"; for
kind Namespace the ALLOW policy that called for a default-deny, if any), related (the other
policy involved, e.g. the STRICT PeerAuthentication) and message.
)";

}  // namespace

void AddPolicyCommands(CLI::App& app, Io& io) {
  CLI::App* policy = app.add_subcommand(
      "policy", "Istio PeerAuthentication, AuthorizationPolicy and DestinationRule YAML");
  policy->require_subcommand(1);

  auto o = std::make_shared<EvalOptions>();
  CLI::App* eval = policy->add_subcommand(
      "eval", "Decide ALLOW or DENY for a connection or request, as Istio would");
  eval->add_option("-f,--file", o->files, "Policy YAML files or directories (repeatable)")
      ->required();
  eval->add_option("--namespace", o->namespace_name, "Namespace of the destination workload")
      ->required();
  eval->add_option("--labels", o->labels, "Workload labels k=v[,k=v...]")->delimiter(',');
  eval->add_option("--port", o->port, "Destination port on the workload")
      ->required()
      ->check(CLI::Range(1, 65535));
  eval->add_option("--peer-principal", o->peer_principal,
                   "Client identity over mTLS: TD/ns/NS/sa/SA (spiffe:// optional)");
  eval->add_flag("--plaintext", o->plaintext, "The client sends plaintext (the default)");
  eval->add_option("--source-ip", o->source_ip, "Client IP address (ipBlocks, source.ip)");
  eval->add_option("--sni", o->sni, "TLS server name the client sent (connection.sni)");
  eval->add_option("--method", o->method, "HTTP method");
  eval->add_option("--path", o->path, "HTTP path, with query if any (normalized before matching)");
  eval->add_option("--host", o->host, "HTTP Host / :authority");
  eval->add_option("--header", o->headers, "HTTP header NAME=VALUE (repeatable)");
  eval->add_option("--request-principal", o->request_principal,
                   "Validated JWT principal ISS/SUB (requestPrincipals)");
  AddRootNamespaceFlag(eval, &o->root_namespace);
  AddOutputFlag(eval, &o->json);
  eval->footer(absl::StrCat(
      kEvalFooter,
      Examples({"meshid policy eval -f policies/ --namespace foo --labels app=httpbin --port 8000 "
                "--peer-principal cluster.local/ns/bar/sa/sleep --method GET --path /info",
                "meshid policy eval -f pa.yaml -f authz.yaml --namespace foo --port 8000 "
                "--plaintext -o json"})));
  eval->callback([&io, o] {
    absl::StatusOr<int> code = RunEval(io, *o);
    io.exit_code = code.ok() ? *code : Fail(io, code.status());
  });

  auto l = std::make_shared<LintCliOptions>();
  CLI::App* lint =
      policy->add_subcommand("lint", "Report policy mistakes that cause mesh incidents");
  lint->add_option("-f,--file", l->files, "Policy YAML files or directories (repeatable)")
      ->required();
  lint->add_option("--trust-domain", l->trust_domains,
                   "Mesh trust domain; repeat for aliases (default cluster.local)");
  lint->add_option("--pods", l->pods,
                   "Pods as JSON (kubectl get pods -A -o json): checks selectors, and counts "
                   "namespaces with pods for the default-deny check");
  AddRootNamespaceFlag(lint, &l->root_namespace);
  AddAtFlag(lint, &l->at);
  AddOutputFlag(lint, &l->json);
  lint->footer(absl::StrCat(
      kLintFooter,
      Examples({"meshid policy lint -f policies/",
                "meshid policy lint -f policies/ --trust-domain prod.example.com --pods pods.json "
                "-o json"})));
  lint->callback([&io, l] {
    absl::StatusOr<int> code = RunLint(io, *l);
    io.exit_code = code.ok() ? *code : Fail(io, code.status());
  });
}

}  // namespace meshid::cli
