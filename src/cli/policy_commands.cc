// meshid policy: Istio PeerAuthentication / AuthorizationPolicy / DestinationRule YAML.

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
#include "meshid/policy/loader.h"

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
  eval->add_option("--root-namespace", o->root_namespace,
                   "Istio root namespace: mesh-wide policies (default istio-system)");
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
}

}  // namespace meshid::cli
