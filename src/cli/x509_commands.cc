// meshid x509: look at certificates and verify chains.

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "commands.h"
#include "describe.h"
#include "material.h"
#include "meshid/base/duration.h"
#include "meshid/base/files.h"
#include "meshid/base/status.h"
#include "meshid/base/text.h"
#include "meshid/pki/verify.h"
#include "secret_yaml.h"

namespace meshid::cli {
namespace {

using nlohmann::json;

// Labeled is a certificate or a key found in an input, with where it came from.
struct Found {
  std::string source;  // "file" or "file:key" for a Secret entry
  std::vector<pki::Certificate> certificates;
  std::string private_key;  // description when the entry is a private key (never shown)
};

// LooksLikeCertificateEntry reports whether a Secret entry is meant to hold certificates:
// PEM text, or a name like "tls.crt" or "ca-cert.pem". Other entries (configuration, notes)
// are not certificate material and are skipped.
bool LooksLikeCertificateEntry(absl::string_view name, absl::string_view value) {
  return absl::StrContains(value, "-----BEGIN") || absl::EndsWith(name, ".crt") ||
         absl::EndsWith(name, ".pem") || absl::EndsWith(name, ".cer");
}

absl::StatusOr<std::vector<Found>> ReadInspectInput(const std::string& path, std::ostream& err) {
  MESHID_ASSIGN_OR_RETURN(base::SecretString data, base::ReadSecretFile(path));
  if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(data.view()), "{")) {
    // A SPIFFE bundle: its trust domain is not in the document and does not matter here.
    MESHID_ASSIGN_OR_RETURN(pki::TrustDomain any, pki::TrustDomain::Parse("unknown"));
    MESHID_ASSIGN_OR_RETURN(pki::TrustBundle bundle, ParseBundle(path, data.view(), any, err));
    if (bundle.x509_authorities().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": the SPIFFE bundle holds no X.509 authority"));
    }
    return std::vector<Found>{{path, bundle.x509_authorities(), ""}};
  }
  if (!LooksLikeKubernetesYaml(data.view())) {
    absl::StatusOr<std::vector<pki::Certificate>> certs = pki::ParseCertificates(data.view());
    if (!certs.ok()) return base::Annotate(certs.status(), path);
    return std::vector<Found>{{path, *std::move(certs), ""}};
  }
  absl::StatusOr<KubernetesSecret> secret = ParseKubernetesSecret(data.view());
  if (!secret.ok()) return base::Annotate(secret.status(), path);
  std::vector<Found> found;
  bool any_certificate = false;
  for (const auto& [key, value] : secret->entries) {
    std::string source = absl::StrCat(path, ":", key);
    absl::StatusOr<std::vector<pki::Certificate>> certs = pki::ParseCertificates(value.view());
    if (certs.ok()) {
      any_certificate = true;
      found.push_back({source, *std::move(certs), ""});
      continue;
    }
    absl::StatusOr<pki::PrivateKey> key_value = pki::PrivateKey::Parse(value.view());
    if (key_value.ok()) {
      found.push_back({source, {}, key_value->public_key().info().Describe()});
    } else if (pki::PrivateKey::IsEncryptedPem(value.view())) {
      found.push_back({source, {}, "encrypted"});
    } else if (LooksLikeCertificateEntry(key, value.view())) {
      // An entry meant to hold certificates that does not: never drop it silently.
      return base::Annotate(certs.status(), source);
    }
  }
  if (!any_certificate) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": the Secret holds no certificate"));
  }
  return found;
}

struct InspectOptions {
  std::vector<std::string> files;
  std::string at;
  bool json = false;
};

absl::Status RunInspect(Io& io, const InspectOptions& o) {
  MESHID_ASSIGN_OR_RETURN(absl::Time now, ResolveTime(io, o.at));
  // Read everything first, so that a bad file prints nothing but its error.
  std::vector<Found> all;
  for (const std::string& file : o.files) {
    MESHID_ASSIGN_OR_RETURN(std::vector<Found> found, ReadInspectInput(file, io.err));
    for (Found& f : found) all.push_back(std::move(f));
  }
  if (o.json) {
    json certs = json::array();
    json keys = json::array();
    for (const Found& f : all) {
      if (!f.private_key.empty()) keys.push_back({{"source", f.source}, {"key", f.private_key}});
      for (size_t i = 0; i < f.certificates.size(); ++i) {
        json doc = DescribeJson(f.certificates[i], now);
        doc["source"] = f.source;
        doc["index"] = i;
        certs.push_back(std::move(doc));
      }
    }
    PrintJson(io, {{"certificates", certs}, {"private_keys", keys}});
    return absl::OkStatus();
  }
  bool first = true;
  for (const Found& f : all) {
    if (!f.private_key.empty()) {
      io.out << (first ? "" : "\n") << base::Printable(f.source) << ": private key ("
             << f.private_key << "), not shown\n";
      first = false;
    }
    for (size_t i = 0; i < f.certificates.size(); ++i) {
      io.out << (first ? "" : "\n") << base::Printable(f.source) << " [" << i + 1 << "/"
             << f.certificates.size() << "]\n";
      DescribeText(io.out, f.certificates[i], now);
      first = false;
    }
  }
  return absl::OkStatus();
}

struct VerifyOptions {
  std::string bundle;
  std::string chain;
  std::string expect_id;
  std::string expect_td;
  std::string usage = "both";
  std::string at;
  bool json = false;
};

// BundleTrustDomain picks the trust domain to verify against: --expect-td, the one of
// --expect-id, or the one the bundle's roots name in their URI SAN.
absl::StatusOr<pki::TrustDomain> BundleTrustDomain(const VerifyOptions& o,
                                                   const std::vector<pki::Certificate>& roots) {
  if (!o.expect_td.empty()) return pki::TrustDomain::Parse(o.expect_td);
  if (!o.expect_id.empty()) {
    MESHID_ASSIGN_OR_RETURN(pki::SpiffeId id, pki::SpiffeId::Parse(o.expect_id));
    return id.trust_domain();
  }
  std::set<std::string> names;
  for (const pki::Certificate& root : roots) {
    absl::StatusOr<pki::SpiffeId> id = root.spiffe_id();
    if (id.ok()) names.insert(id->trust_domain().name());
  }
  if (names.size() == 1) return pki::TrustDomain::Parse(*names.begin());
  return absl::InvalidArgumentError(
      absl::StrCat(o.bundle, ": cannot tell the bundle's trust domain (",
                   names.empty() ? "its roots carry no SPIFFE ID" : "its roots name several",
                   "); pass --expect-td TD or --expect-id ID"));
}

absl::StatusOr<int> RunVerify(Io& io, const VerifyOptions& o) {
  if (!o.expect_id.empty() && !o.expect_td.empty()) {
    return absl::InvalidArgumentError("give --expect-id or --expect-td, not both");
  }
  MESHID_ASSIGN_OR_RETURN(absl::Time now, ResolveTime(io, o.at));
  MESHID_ASSIGN_OR_RETURN(std::string bundle_data, base::ReadFile(o.bundle));
  // The bundle file does not say its trust domain: read the roots, then decide it.
  MESHID_ASSIGN_OR_RETURN(pki::TrustDomain placeholder, pki::TrustDomain::Parse("unknown"));
  MESHID_ASSIGN_OR_RETURN(pki::TrustBundle parsed,
                          ParseBundle(o.bundle, bundle_data, placeholder, io.err));
  MESHID_ASSIGN_OR_RETURN(pki::TrustDomain td, BundleTrustDomain(o, parsed.x509_authorities()));
  pki::TrustBundle bundle(td);
  for (const pki::Certificate& root : parsed.x509_authorities()) {
    (void)bundle.AddX509Authority(root);  // already de-duplicated
  }
  MESHID_ASSIGN_OR_RETURN(std::vector<pki::Certificate> chain, LoadCertificates(o.chain));

  pki::VerifyOptions options{now};
  options.usage = o.usage == "client"   ? pki::Usage::kClient
                  : o.usage == "server" ? pki::Usage::kServer
                  : o.usage == "any"    ? pki::Usage::kAny
                                        : pki::Usage::kClientAndServer;
  if (!o.expect_id.empty()) {
    MESHID_ASSIGN_OR_RETURN(options.expected_id, pki::SpiffeId::Parse(o.expect_id));
  }
  pki::VerifyResult result = pki::VerifyX509Svid(chain, bundle, options);

  if (o.json) {
    json doc = {{"verified", result.ok()}};
    if (result.ok()) {
      doc["spiffe_id"] = result.chain().spiffe_id->ToString();
      doc["chain"] = json::array();
      for (const pki::Certificate& c : result.chain().certificates) {
        doc["chain"].push_back({{"name", ShortName(c)},
                                {"serial", c.serial_hex()},
                                {"not_after", base::Rfc3339(c.not_after())}});
      }
    } else {
      doc["reason"] = pki::ChainErrorName(result.error());
      doc["detail"] = result.detail();
    }
    PrintJson(io, doc);
  } else if (result.ok()) {
    io.out << "OK: " << result.chain().spiffe_id->ToString() << "\n";  // a valid ID is ASCII
    const std::vector<pki::Certificate>& certs = result.chain().certificates;
    for (size_t i = 0; i < certs.size(); ++i) {
      std::string role = i == 0 ? "leaf" : i + 1 == certs.size() ? "trust anchor" : "CA";
      io.out << "  [" << i << "] " << ShortName(certs[i]) << "  (" << role << ", "
             << Remaining(certs[i], now) << ")\n";
    }
  } else {
    io.out << "FAIL " << pki::ChainErrorName(result.error()) << ": "
           << base::Printable(result.detail()) << "\n";
  }
  return result.ok() ? kExitOk : kExitWarning;
}

}  // namespace

void AddX509Commands(CLI::App& app, Io& io) {
  CLI::App* x509 = app.add_subcommand("x509", "Inspect certificates and verify SVID chains");
  x509->require_subcommand(1);

  auto inspect_opts = std::make_shared<InspectOptions>();
  CLI::App* inspect = x509->add_subcommand(
      "inspect", "Show certificates from PEM, DER, chains, bundles or Kubernetes Secret YAML");
  inspect->add_option("files", inspect_opts->files, "Files to inspect")->required();
  AddAtFlag(inspect, &inspect_opts->at);
  AddOutputFlag(inspect, &inspect_opts->json);
  inspect->footer(Examples({"meshid x509 inspect ./pki/intermediate/chain.pem",
                            "kubectl -n istio-system get secret cacerts -o yaml > cacerts.yaml && "
                            "meshid x509 inspect cacerts.yaml -o json"}));
  inspect->callback([&io, inspect_opts] {
    if (absl::Status s = RunInspect(io, *inspect_opts); !s.ok()) io.exit_code = Fail(io, s);
  });

  auto verify_opts = std::make_shared<VerifyOptions>();
  CLI::App* verify = x509->add_subcommand(
      "verify", "Verify an X509-SVID chain against a trust bundle (exit 0 valid, 1 rejected)");
  verify->add_option("--bundle", verify_opts->bundle, "Roots: PEM, DER or SPIFFE bundle JSON")
      ->required();
  verify->add_option("--chain", verify_opts->chain, "Leaf first, then intermediates")->required();
  verify->add_option("--expect-id", verify_opts->expect_id, "Require exactly this SPIFFE ID");
  verify->add_option("--expect-td", verify_opts->expect_td,
                     "Trust domain of the bundle (default: from the roots' SPIFFE IDs)");
  verify
      ->add_option("--usage", verify_opts->usage,
                   "What the leaf must serve: both (mTLS, default), client, server, any")
      ->check(CLI::IsMember({"both", "client", "server", "any"}));
  AddAtFlag(verify, &verify_opts->at);
  AddOutputFlag(verify, &verify_opts->json);
  verify->footer(
      Examples({"meshid x509 verify --bundle ./pki/intermediate/bundle.pem --chain web.pem",
                "meshid x509 verify --bundle bundle.json --chain svid.pem "
                "--expect-id spiffe://example.org/ns/default/sa/web -o json"}));
  verify->callback([&io, verify_opts] {
    absl::StatusOr<int> code = RunVerify(io, *verify_opts);
    io.exit_code = code.ok() ? *code : Fail(io, code.status());
  });
}

}  // namespace meshid::cli
