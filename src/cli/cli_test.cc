#include "meshid/cli/cli.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/stat.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/pki/bundle.h"
#include "meshid/pki/key.h"
#include "meshid/testing/fake_clock.h"
#include "meshid/testing/temp_dir.h"
#include "meshid/testing/test_pki.h"
#include "nlohmann/json.hpp"

namespace meshid::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
namespace fs = std::filesystem;

constexpr absl::Duration kDay = absl::Hours(24);

long LineCount(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

class CliTest : public ::testing::Test {
 protected:
  int Run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    args.insert(args.begin(), "meshid");
    return RunCli(args, out_, err_, clock_);
  }

  std::string Path(const std::string& name) const { return (fs::path(dir_) / name).string(); }

  testing::FakeClock clock_{testing::kTestEpoch};
  testing::TempDir temp_;
  std::string dir_ = temp_.path();
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(CliTest, HelpHasExamplesAndExitsZero) {
  for (std::vector<std::string> cmd : {std::vector<std::string>{"pki", "init"},
                                       {"pki", "intermediate"},
                                       {"pki", "csr"},
                                       {"pki", "sign"},
                                       {"x509", "inspect"},
                                       {"x509", "verify"},
                                       {"policy", "eval"},
                                       {"policy", "lint"},
                                       {"audit", "pods"},
                                       {"check"}}) {
    cmd.push_back("--help");
    EXPECT_EQ(Run(cmd), kExitOk) << cmd[0];
    EXPECT_THAT(out_.str(), HasSubstr("Examples:")) << cmd[0];
  }
}

TEST_F(CliTest, ParseErrorsAreOneLineWithExitTwo) {
  EXPECT_EQ(Run({"nonsense"}), kExitError);
  EXPECT_EQ(err_.str(), "meshid: unknown command \"nonsense\". Run 'meshid --help' for usage.\n");
  EXPECT_EQ(Run({"pki", "init", "--trust-domain", "example.org"}), kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("--out is required"));
  EXPECT_THAT(err_.str(), HasSubstr("meshid pki init --help"));
  EXPECT_EQ(Run({}), kExitError);
  EXPECT_EQ(Run({"--version"}), kExitOk);
  EXPECT_EQ(out_.str(), "meshid 0.1.0\n");
}

TEST_F(CliTest, InitSignVerifyAndCheckWithInjectedTime) {
  ASSERT_EQ(Run({"pki", "init", "--trust-domain", "example.org", "--out", Path("pki")}), kExitOk)
      << err_.str();
  EXPECT_THAT(err_.str(), HasSubstr("offline"));
  struct stat st;
  ASSERT_EQ(stat(Path("pki/intermediate/ca.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  ASSERT_EQ(Run({"pki", "csr", "--spiffe-id", "spiffe://example.org/web", "--key-out",
                 Path("web.key"), "--out", Path("web.csr")}),
            kExitOk);
  ASSERT_EQ(
      Run({"pki", "sign", "--ca", Path("pki/intermediate"), "--csr", Path("web.csr"), "--spiffe-id",
           "spiffe://example.org/web", "--out", Path("web.pem"), "-o", "json"}),
      kExitOk)
      << err_.str();
  nlohmann::json signed_doc = nlohmann::json::parse(out_.str());
  EXPECT_EQ(signed_doc["spiffe_id"], "spiffe://example.org/web");
  EXPECT_EQ(signed_doc["chain_length"], 2);

  std::vector<std::string> verify = {"x509",     "verify",
                                     "--bundle", Path("pki/intermediate/bundle.pem"),
                                     "--chain",  Path("web.pem")};
  EXPECT_EQ(Run(verify), kExitOk) << out_.str() << err_.str();
  clock_.Advance(2 * absl::Hours(1));
  EXPECT_EQ(Run(verify), kExitWarning);
  EXPECT_THAT(out_.str(), StartsWith("FAIL expired"));

  // The intermediate lives a year: 20 days before its end the check fails, 100 days before
  // it warns, and --at moves the evaluation without touching the clock.
  clock_.Set(testing::kTestEpoch + 345 * kDay);
  EXPECT_EQ(Run({"check", "--dir", Path("pki/intermediate")}), kExitError);
  EXPECT_THAT(out_.str(), HasSubstr("× intermediate.lifetime"));
  EXPECT_EQ(Run({"check", "--dir", Path("pki/intermediate"), "--at", "2027-03-01T00:00:00Z"}),
            kExitOk)
      << out_.str();
  EXPECT_EQ(Run({"check", "--dir", Path("pki/intermediate"), "--at", "yesterday"}), kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("RFC 3339"));

  clock_.Set(testing::kTestEpoch);
  ASSERT_EQ(Run({"check", "--dir", Path("pki"), "-o", "json"}), kExitWarning) << out_.str();
  nlohmann::json check = nlohmann::json::parse(out_.str());
  EXPECT_EQ(check["status"], "warn");
  EXPECT_EQ(check["summary"]["warn"], 1);
}

TEST_F(CliTest, InitNeverOverwritesWithoutForce) {
  std::vector<std::string> init = {"pki",         "init",  "--trust-domain",
                                   "example.org", "--out", Path("pki")};
  ASSERT_EQ(Run(init), kExitOk);
  std::string before = out_.str();
  EXPECT_EQ(Run(init), kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("already exists; pass --force"));
  init.push_back("--force");
  EXPECT_EQ(Run(init), kExitOk);
}

TEST_F(CliTest, SpiffeBundleJsonIsABundleEverywhere) {
  testing::TestPki pki = testing::TestPki::Create(testing::kTestEpoch);
  pki::TrustBundle bundle = pki.Bundle();
  bundle.set_sequence(3);
  std::ofstream(Path("bundle.json")) << bundle.ToSpiffeJson();
  std::ofstream(Path("svid.pem")) << pki::ToPem(pki.IssueLeaf("/ns/a/sa/b").chain);

  ASSERT_EQ(Run({"x509", "inspect", Path("bundle.json"), "-o", "json"}), kExitOk) << err_.str();
  nlohmann::json doc = nlohmann::json::parse(out_.str());
  ASSERT_EQ(doc["certificates"].size(), 1u);
  EXPECT_EQ(doc["certificates"][0]["self_signed"], true);

  EXPECT_EQ(Run({"x509", "verify", "--bundle", Path("bundle.json"), "--chain", Path("svid.pem")}),
            kExitOk)
      << out_.str() << err_.str();
  EXPECT_EQ(out_.str().rfind("OK: spiffe://example.org/ns/a/sa/b", 0), 0u);
  // A key the bundle spec says to ignore leaves no authority: the SVID is rejected, and
  // the operator is told why the bundle was empty.
  std::ofstream(Path("broken.json")) << R"({"keys": [{"use": "x509-svid"}]})";
  EXPECT_EQ(Run({"x509", "verify", "--bundle", Path("broken.json"), "--chain", Path("svid.pem"),
                 "--expect-td", "example.org"}),
            kExitWarning);
  EXPECT_THAT(err_.str(), HasSubstr("note: " + Path("broken.json") +
                                    ": keys[0] ignored: no \"x5c\" certificate"));
  EXPECT_THAT(out_.str(), StartsWith("FAIL unknown_authority"));
  std::ofstream(Path("not-a-set.json")) << R"({"keys": 3})";
  EXPECT_EQ(Run({"x509", "verify", "--bundle", Path("not-a-set.json"), "--chain", Path("svid.pem"),
                 "--expect-td", "example.org"}),
            kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("not-a-set.json: SPIFFE bundle: \"keys\" must be an array"));
}

TEST_F(CliTest, SignNamesTheFlagThatIsWrong) {
  ASSERT_EQ(Run({"pki", "init", "--trust-domain", "example.org", "--out", Path("pki")}), kExitOk);
  ASSERT_EQ(Run({"pki", "csr", "--spiffe-id", "spiffe://example.org/web", "--key-out",
                 Path("web.key"), "--out", Path("web.csr")}),
            kExitOk);
  std::vector<std::string> sign = {"pki",        "sign",          "--ca",  Path("pki/intermediate"),
                                   "--csr",      Path("web.csr"), "--out", Path("web.pem"),
                                   "--spiffe-id"};
  auto with = [&sign](std::vector<std::string> extra) {
    std::vector<std::string> args = sign;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  EXPECT_EQ(Run(with({"spiffe://example.org/web", "--dns", "bad!"})), kExitError);
  EXPECT_THAT(err_.str(), StartsWith("meshid: --dns: invalid DNS name \"bad!\""));
  EXPECT_EQ(Run(with({"spiffe://example.org"})), kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("--spiffe-id spiffe://example.org has no path"));
  EXPECT_EQ(Run(with({"spiffe://other.org/web"})), kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("is not the signing CA's"));
  EXPECT_EQ(Run(with({"spiffe://example.org/web", "--ttl", "0s"})), kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("--ttl"));
  EXPECT_FALSE(fs::exists(Path("web.pem")));
}

TEST_F(CliTest, OneFileForKeyAndCsrIsRefused) {
  fs::path previous = fs::current_path();
  fs::current_path(dir_);
  int code = Run(
      {"pki", "csr", "--spiffe-id", "spiffe://example.org/a", "--key-out", "x", "--out", "./x"});
  fs::current_path(previous);
  EXPECT_EQ(code, kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("are the same file"));
  EXPECT_FALSE(fs::exists(Path("x")));
}

// Certificate fields are bytes chosen by whoever made the certificate: they must neither
// crash JSON output (invalid UTF-8) nor reach the terminal raw (escape sequences, newlines).
TEST_F(CliTest, HostileCertificateFieldsAreEscapedNotFatal) {
  testing::TestPki pki = testing::TestPki::Create(testing::kTestEpoch);
  pki::PrivateKey key = *pki::PrivateKey::Generate(pki::KeyType::kEcP256);
  testing::CertSpec spec = testing::LeafSpec("spiffe://example.org/\xff", testing::kTestEpoch);
  spec.dns = {"evil\x1b[31mRED"};
  absl::StatusOr<pki::Certificate> leaf = testing::BuildCertificate(spec, key, &pki.intermediate);
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  std::ofstream(Path("evil.pem")) << pki::ToPem({*leaf, pki.intermediate.certificate});
  std::ofstream(Path("bundle.pem")) << pki.root.certificate.ToPem();

  ASSERT_EQ(Run({"x509", "inspect", Path("evil.pem")}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("evil\\x1b[31mRED"));
  EXPECT_EQ(out_.str().find('\x1b'), std::string::npos);
  EXPECT_EQ(out_.str().find('\xff'), std::string::npos);

  for (std::vector<std::string> cmd :
       {std::vector<std::string>{"x509", "inspect", Path("evil.pem"), "-o", "json"},
        {"x509", "verify", "--bundle", Path("bundle.pem"), "--chain", Path("evil.pem"), "-o",
         "json"},
        {"check", "--bundle", Path("bundle.pem"), "--leaf", Path("evil.pem"), "-o", "json"}}) {
    Run(cmd);  // inspect 0, verify 1 (rejected), check 2 (a failed check): all report
    EXPECT_EQ(err_.str(), "") << cmd[0];
    nlohmann::json doc = nlohmann::json::parse(out_.str(), nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << cmd[0] << ": " << out_.str();
  }
  EXPECT_EQ(Run({"x509", "verify", "--bundle", Path("bundle.pem"), "--chain", Path("evil.pem")}),
            kExitWarning);
  EXPECT_THAT(out_.str(), HasSubstr("\\xff"));
}

TEST_F(CliTest, CheckSkipsFifosAndNamesAnUnusableLayoutFile) {
  ASSERT_EQ(Run({"pki", "init", "--trust-domain", "example.org", "--out", Path("pki")}), kExitOk);
  // A FIFO nobody writes to would block a reader forever.
  ASSERT_EQ(mkfifo(Path("pki/intermediate/notes").c_str(), 0600), 0);
  EXPECT_EQ(Run({"check", "--dir", Path("pki/intermediate")}), kExitOk) << out_.str() << err_.str();
  fs::remove(Path("pki/intermediate/ca.crt"));
  fs::create_directory(Path("pki/intermediate/ca.crt"));
  EXPECT_EQ(Run({"check", "--dir", Path("pki/intermediate")}), kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("ca.crt: is a directory"));
}

TEST_F(CliTest, InitNotesATtlCutByItsIssuer) {
  EXPECT_EQ(Run({"pki", "init", "--trust-domain", "example.org", "--out", Path("pki"), "--root-ttl",
                 "100d", "--intermediate-ttl", "365d"}),
            kExitOk);
  EXPECT_THAT(err_.str(), HasSubstr("note: the intermediate CA's TTL was cut"));
}

TEST_F(CliTest, BadTrustDomainWritesNothing) {
  EXPECT_EQ(Run({"pki", "init", "--trust-domain", "Example.org", "--out", Path("pki")}),
            kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("lowercase"));
  EXPECT_FALSE(fs::exists(Path("pki")));
}

TEST_F(CliTest, PolicyEvalExitCodesAndJson) {
  std::ofstream(Path("authz.yaml")) << R"(apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: httpbin, namespace: foo}
spec:
  rules:
  - from: [{source: {namespaces: [bar]}}]
    to: [{operation: {methods: [GET]}}]
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: foo}
spec: {mtls: {mode: STRICT}}
)";
  std::vector<std::string> base = {"policy",      "eval", "-f",     Path("authz.yaml"),
                                   "--namespace", "foo",  "--port", "8000",
                                   "-o",          "json"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  ASSERT_EQ(Run(with({"--peer-principal", "cluster.local/ns/bar/sa/sleep", "--method", "GET"})),
            kExitOk)
      << err_.str();
  nlohmann::json doc = nlohmann::json::parse(out_.str());
  EXPECT_EQ(doc["decision"], "ALLOW");
  EXPECT_EQ(doc["policy"], "foo/httpbin");
  EXPECT_EQ(doc["reason"], "allowed_by_policy");
  EXPECT_EQ(doc["mtls_mode"], "STRICT");
  EXPECT_EQ(doc["protocol"], "http");
  EXPECT_EQ(doc["path"], "/");
  EXPECT_TRUE(doc["audit"].is_array());

  ASSERT_EQ(Run(with({"--peer-principal", "cluster.local/ns/bar/sa/sleep"})), kExitWarning);
  doc = nlohmann::json::parse(out_.str());
  EXPECT_EQ(doc["decision"], "DENY");
  EXPECT_EQ(doc["reason"], "no_allow_match");
  EXPECT_EQ(doc["protocol"], "tcp");

  ASSERT_EQ(Run(with({})), kExitWarning);
  doc = nlohmann::json::parse(out_.str());
  EXPECT_EQ(doc["reason"], "plaintext_rejected");
  EXPECT_EQ(doc["policy"], "foo/default");

  EXPECT_EQ(Run(with({"--plaintext", "--peer-principal", "a/b"})), kExitError);
  EXPECT_EQ(err_.str(), "meshid: give --peer-principal or --plaintext, not both\n");
  EXPECT_TRUE(out_.str().empty());
}

TEST_F(CliTest, PolicyLintExitCodesJsonAndInjectedTime) {
  std::ofstream(Path("pa.yaml")) << R"(apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: migration
  namespace: legacy
  annotations: {meshid.io/expires: "2027-02-01T00:00:00Z"}
spec: {mtls: {mode: PERMISSIVE}}
)";
  std::ofstream(Path("ap.yaml")) << R"(apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: get, namespace: shop}
spec:
  rules: [{from: [{source: {principals: [partner.example/ns/a/sa/b]}}]}]
)";
  std::ofstream(Path("pods.json")) << R"({"kind": "List", "items": [{"metadata": {"name": "p",
      "namespace": "legacy"}, "spec": {"containers": [{"name": "c",
      "securityContext": {"capabilities": {"add": "NET_ADMIN"}}}]}}]})";

  // The clock is at 2027-01-15: not expired yet; --at moves past the date.
  EXPECT_EQ(Run({"policy", "lint", "-f", Path("pa.yaml")}), kExitOk) << out_.str() << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("0 errors, 0 warnings, 0 info"));
  ASSERT_EQ(
      Run({"policy", "lint", "-f", Path("pa.yaml"), "--at", "2027-03-01T00:00:00Z", "-o", "json"}),
      kExitError)
      << err_.str();
  nlohmann::json doc = nlohmann::json::parse(out_.str());
  ASSERT_EQ(doc["findings"].size(), 1u);
  EXPECT_EQ(doc["errors"], 1);
  const nlohmann::json& f = doc["findings"][0];
  EXPECT_EQ(f["severity"], "error");
  EXPECT_EQ(f["check"], "mtls.permissive_expired");
  EXPECT_EQ(f["file"], Path("pa.yaml") + " doc 1");
  EXPECT_EQ(f["policy"], "legacy/migration");
  EXPECT_EQ(f["namespace"], "legacy");

  // Warnings only: exit 1, one line per finding in text.
  EXPECT_EQ(Run({"policy", "lint", "-f", Path("ap.yaml")}), kExitWarning) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("warning authz.principal_trust_domain AuthorizationPolicy "
                                    "shop/get"));
  EXPECT_THAT(out_.str(), HasSubstr("warning authz.no_default_deny Namespace shop"));
  EXPECT_EQ(Run({"policy", "lint", "-f", Path("ap.yaml"), "--trust-domain", "cluster.local",
                 "--trust-domain", "partner.example", "-o", "json"}),
            kExitWarning);
  doc = nlohmann::json::parse(out_.str());
  ASSERT_EQ(doc["findings"].size(), 1u);
  EXPECT_EQ(doc["findings"][0]["check"], "authz.no_default_deny");
  EXPECT_EQ(doc["findings"][0]["policy"], "shop/get");

  // Input that does not load: exit 2, one line.
  EXPECT_EQ(Run({"policy", "lint", "-f", Path("missing.yaml")}), kExitError);
  EXPECT_THAT(err_.str(), StartsWith("meshid: "));
  EXPECT_EQ(LineCount(err_.str()), 1);
  EXPECT_EQ(Run({"policy", "lint", "-f", Path("pa.yaml"), "--pods", Path("pods.json")}),
            kExitError);
  EXPECT_EQ(err_.str(), "meshid: " + Path("pods.json") +
                            ": items[0].spec.containers[0].securityContext.capabilities.add: "
                            "expected a list of strings\n");
  EXPECT_EQ(Run({"policy", "lint", "-f", Path("pa.yaml"), "--trust-domain", "Bad Domain"}),
            kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("--trust-domain"));
}

TEST_F(CliTest, AuditPodsExitCodesAndJson) {
  std::ofstream(Path("pods.json")) << R"({"kind": "List", "items": [
    {"metadata": {"name": "plain", "namespace": "pay", "labels": {"app": "plain"}},
     "spec": {"containers": [{"name": "app"}]}},
    {"metadata": {"name": "meshed", "namespace": "pay"},
     "spec": {"containers": [{"name": "app"}, {"name": "meshid-proxy"}]}}]})";
  std::ofstream(Path("pa.yaml")) << R"(apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: pay}
spec: {mtls: {mode: STRICT}}
)";
  EXPECT_EQ(Run({"audit", "pods", "-f", Path("pods.json")}), kExitOk) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("0 findings in 2 pods"));
  ASSERT_EQ(Run({"audit", "pods", "-f", Path("pods.json"), "-f", Path("pa.yaml"), "-o", "json"}),
            kExitWarning)
      << err_.str();
  nlohmann::json doc = nlohmann::json::parse(out_.str());
  ASSERT_EQ(doc["findings"].size(), 1u);
  EXPECT_EQ(doc["pods"], 2);
  EXPECT_EQ(doc["findings"][0]["check"], "pod.no_proxy_under_strict");
  EXPECT_EQ(doc["findings"][0]["namespace"], "pay");
  EXPECT_EQ(doc["findings"][0]["pod"], "plain");
  EXPECT_EQ(doc["findings"][0]["policy"], "pay/default");
  EXPECT_EQ(Run({"audit", "pods", "-f", Path("pods.json"), "-f", Path("pa.yaml"),
                 "--proxy-container", "app"}),
            kExitOk)
      << out_.str();

  // Bad input: exit 2 with one line naming the file.
  EXPECT_EQ(Run({"audit", "pods", "-f", Path("pa.yaml")}), kExitError);
  EXPECT_THAT(err_.str(), StartsWith("meshid: " + Path("pa.yaml") + ": not JSON: "));
  EXPECT_EQ(LineCount(err_.str()), 1);
  std::ofstream(Path("pod.json")) << R"({"kind": "Pod", "metadata": {"name": "p"}})";
  EXPECT_EQ(Run({"audit", "pods", "-f", Path("pod.json")}), kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("expected List or PodList"));
}

}  // namespace
}  // namespace meshid::cli
