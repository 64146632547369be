#include "meshid/policy/lint.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/policy/loader.h"
#include "meshid/testing/fake_clock.h"
#include "policy_test_util.h"

namespace meshid::policy {
namespace {

using testing::Ap;
using testing::Dr;
using ::testing::HasSubstr;
using testing::MustLoad;
using testing::Pa;
using ::testing::UnorderedElementsAreArray;

// PaExpires returns a PeerAuthentication with a meshid.io/expires annotation.
std::string PaExpires(absl::string_view name, absl::string_view ns, absl::string_view expires,
                      absl::string_view spec) {
  return absl::StrCat("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n",
                      "metadata: {name: ", name, ", namespace: ", ns,
                      ", annotations: {meshid.io/expires: \"", expires, "\"}}\n", "spec: ", spec,
                      "\n---\n");
}

constexpr const char* kStrict = "{mtls: {mode: STRICT}}";
constexpr const char* kPermissive = "{mtls: {mode: PERMISSIVE}}";
constexpr const char* kAllowNothing = "{}";
constexpr const char* kAllowGet =
    "{selector: {matchLabels: {app: web}}, rules: [{to: [{operation: {methods: [GET]}}]}]}";

std::string DrTls(absl::string_view host, absl::string_view mode) {
  return absl::StrCat("{host: \"", host, "\", trafficPolicy: {tls: {mode: ", mode, "}}}");
}

// Pods builds a pods.json with one pod per "ns/name app=label".
std::string PodsJson(const std::vector<std::pair<std::string, std::string>>& pods) {
  std::string items;
  for (const auto& [full, app] : pods) {
    std::string ns = full.substr(0, full.find('/'));
    std::string name = full.substr(full.find('/') + 1);
    if (!items.empty()) items += ",";
    items += absl::StrCat(R"({"metadata": {"name": ")", name, R"(", "namespace": ")", ns,
                          R"(", "labels": {"app": ")", app, R"("}}})");
  }
  return absl::StrCat(R"({"kind": "List", "items": [)", items, "]}");
}

struct LintCase {
  const char* name;
  std::string yaml;
  std::vector<std::string> expect;  // "severity check object", all of them; load.* excluded
  std::string pods;                 // pods.json text, or empty for no --pods
  std::vector<std::string> trust_domains = {"cluster.local"};
};

class LintTableTest : public ::testing::TestWithParam<LintCase> {};

TEST_P(LintTableTest, ReportsExactlyTheExpectedFindings) {
  const LintCase& c = GetParam();
  PolicySet set = MustLoad(c.yaml);
  LintOptions options;
  options.now = meshid::testing::kTestEpoch;
  options.trust_domains = c.trust_domains;
  PodList pods;
  if (!c.pods.empty()) {
    absl::StatusOr<PodList> parsed = ParsePodList(c.pods, "pods.json");
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    pods = *std::move(parsed);
    options.pods = &pods.pods;
    options.pods_source = "pods.json";
  }
  std::vector<std::string> got;
  for (const Finding& f : Lint(set, {}, options)) {
    EXPECT_FALSE(f.message.empty());
    EXPECT_EQ(f.message.find('\n'), std::string::npos) << f.message;
    got.push_back(absl::StrCat(SeverityName(f.severity), " ", f.check, " ", f.object));
  }
  EXPECT_THAT(got, UnorderedElementsAreArray(c.expect)) << c.yaml;
}

// A namespace-wide PeerAuthentication without selector: the DR cases need no other finding.
const std::string kPaymentsStrict = Pa("strict", kStrict, "payments");

INSTANTIATE_TEST_SUITE_P(
    StrictPlaintextClient, LintTableTest,
    ::testing::Values(
        LintCase{
            "DisableFqdn",
            kPaymentsStrict +
                Dr("ledger", DrTls("ledger.payments.svc.cluster.local", "DISABLE"), "payments"),
            {"error mtls.strict_plaintext_client payments/ledger"}},
        LintCase{"SimpleNamespaceWildcard",
                 kPaymentsStrict +
                     Dr("all", DrTls("*.payments.svc.cluster.local", "SIMPLE"), "payments"),
                 {"error mtls.strict_plaintext_client payments/all"}},
        LintCase{"ShortNameIsInTheRulesNamespace",
                 kPaymentsStrict + Dr("ledger", DrTls("ledger", "DISABLE"), "payments"),
                 {"error mtls.strict_plaintext_client payments/ledger"}},
        LintCase{"ShortNameInAnotherNamespaceIsNotTheServer",
                 kPaymentsStrict + Dr("ledger", DrTls("ledger", "DISABLE"), "shop"),
                 {}},
        LintCase{"MeshStrictFromTheRootNamespace",
                 Pa("default", kStrict, "istio-system") +
                     Dr("legacy", DrTls("httpbin.legacy.svc.cluster.local", "DISABLE"), "legacy"),
                 {"error mtls.strict_plaintext_client legacy/legacy"}},
        LintCase{"EveryHostCoversEveryStrictNamespace",
                 kPaymentsStrict + Dr("everything", DrTls("*", "DISABLE"), "istio-system"),
                 {"error mtls.strict_plaintext_client istio-system/everything"}},
        LintCase{"SvcDotNamespaceIsAGuess",
                 kPaymentsStrict + Dr("ledger", DrTls("ledger.payments", "DISABLE"), "shop"),
                 {"warning mtls.strict_plaintext_client shop/ledger"}},
        LintCase{
            "WorkloadStrictMatchedThroughAppLabelIsAGuess",
            Pa("ledger-strict", "{selector: {matchLabels: {app: ledger}}, mtls: {mode: STRICT}}",
               "payments") +
                Dr("ledger", DrTls("ledger.payments.svc.cluster.local", "DISABLE"), "payments"),
            {"warning mtls.strict_plaintext_client payments/ledger"}},
        LintCase{
            "WorkloadStrictMatchedThroughPodsIsKnown",
            Pa("ledger-strict", "{selector: {matchLabels: {app: ledger}}, mtls: {mode: STRICT}}",
               "payments") +
                Ap("deny-all", kAllowNothing, "payments") +
                Dr("ledger", DrTls("ledger.payments.svc.cluster.local", "DISABLE"), "payments"),
            {"error mtls.strict_plaintext_client payments/ledger"},
            PodsJson({{"payments/ledger-1", "ledger"}})},
        LintCase{"PortLevelDisableOnAServerPortThatIsDisabled",
                 kPaymentsStrict +
                     Pa("ledger",
                        "{selector: {matchLabels: {app: ledger}}, portLevelMtls: {8080: "
                        "{mode: DISABLE}}}",
                        "payments") +
                     Dr("ledger",
                        "{host: ledger.payments.svc.cluster.local, trafficPolicy: "
                        "{portLevelSettings: [{port: {number: 8080}, tls: {mode: DISABLE}}]}}",
                        "payments"),
                 {}},
        LintCase{"PortLevelSimpleOnAStrictPort",
                 kPaymentsStrict +
                     Dr("ledger",
                        "{host: ledger.payments.svc.cluster.local, trafficPolicy: "
                        "{portLevelSettings: [{port: {number: 8080}, tls: {mode: SIMPLE}}]}}",
                        "payments"),
                 {"error mtls.strict_plaintext_client payments/ledger"}},
        LintCase{"IstioMutualIsFine",
                 kPaymentsStrict + Dr("ledger",
                                      DrTls("ledger.payments.svc.cluster.local", "ISTIO_MUTUAL"),
                                      "payments"),
                 {}},
        LintCase{"MutualIsFine",
                 kPaymentsStrict +
                     Dr("ledger", DrTls("ledger.payments.svc.cluster.local", "MUTUAL"), "payments"),
                 {}},
        LintCase{
            "DisableTowardANonStrictServer",
            kPaymentsStrict +
                Dr("reviews", DrTls("reviews.bookinfo.svc.cluster.local", "DISABLE"), "bookinfo"),
            {}},
        LintCase{"ExternalHostIsNotAMeshServer",
                 Pa("default", kStrict, "istio-system") +
                     Dr("api", DrTls("api.example.com", "DISABLE"), "payments"),
                 {}}),
    testing::CaseName());

INSTANTIATE_TEST_SUITE_P(
    PermissiveExpiry, LintTableTest,
    ::testing::Values(
        LintCase{"MeshWithoutExpiry",
                 Pa("mesh", kPermissive, "istio-system"),
                 {"warning mtls.permissive_no_expiry istio-system/mesh"}},
        LintCase{"NamespaceWithoutExpiry",
                 Pa("ns", kPermissive, "legacy"),
                 {"warning mtls.permissive_no_expiry legacy/ns"}},
        LintCase{"WorkloadWithoutExpiry",
                 Pa("wl", "{selector: {matchLabels: {app: a}}, mtls: {mode: PERMISSIVE}}", "shop"),
                 {"warning mtls.permissive_no_expiry shop/wl"}},
        LintCase{"PortWithoutExpiry",
                 Pa("port",
                    "{selector: {matchLabels: {app: a}}, mtls: {mode: STRICT}, "
                    "portLevelMtls: {9090: {mode: PERMISSIVE}}}",
                    "shop"),
                 {"warning mtls.permissive_no_expiry shop/port"}},
        LintCase{"Expired",
                 PaExpires("old", "legacy", "2020-01-01T00:00:00Z", kPermissive),
                 {"error mtls.permissive_expired legacy/old"}},
        LintCase{"ExpiresExactlyNow",
                 PaExpires("now", "legacy", "2027-01-15T08:00:00Z", kPermissive),
                 {"error mtls.permissive_expired legacy/now"}},
        LintCase{"ExpiresInTheFuture",
                 PaExpires("later", "legacy", "2027-01-15T08:00:01Z", kPermissive),
                 {}},
        LintCase{"ExpiryWithOffset",
                 PaExpires("later", "legacy", "2027-01-15T09:00:01+01:00", kPermissive),
                 {}},
        LintCase{"UnparsableExpiry",
                 PaExpires("soon", "legacy", "next week", kPermissive),
                 {"error mtls.permissive_bad_expiry legacy/soon"}},
        LintCase{"DateWithoutTimeIsUnparsable",
                 PaExpires("soon", "legacy", "2030-01-01", kPermissive),
                 {"error mtls.permissive_bad_expiry legacy/soon"}},
        LintCase{"StrictNeedsNoExpiry", Pa("s", kStrict, "legacy"), {}},
        LintCase{"UnsetNeedsNoExpiry", Pa("s", "{}", "legacy"), {}},
        LintCase{"RootSelectorPolicyIsIgnoredByIstio",
                 Pa("root-wl", "{selector: {matchLabels: {app: a}}, mtls: {mode: PERMISSIVE}}",
                    "istio-system"),
                 {}}),
    testing::CaseName());

INSTANTIATE_TEST_SUITE_P(
    DefaultDeny, LintTableTest,
    ::testing::Values(
        LintCase{"AllowWithoutDefaultDeny",
                 Ap("get", kAllowGet, "shop"),
                 {"warning authz.no_default_deny shop"}},
        LintCase{"AllowNothingInTheNamespace",
                 Ap("deny", kAllowNothing, "shop") + Ap("get", kAllowGet, "shop"),
                 {}},
        LintCase{"AllowNothingMeshWide",
                 Ap("deny", kAllowNothing, "istio-system") + Ap("get", kAllowGet, "shop"),
                 {}},
        LintCase{"AllowNothingElsewhereDoesNotCount",
                 Ap("deny", kAllowNothing, "other") + Ap("get", kAllowGet, "shop"),
                 {"warning authz.no_default_deny shop"}},
        LintCase{"AllowNothingWithASelectorDoesNotCount",
                 Ap("deny", "{selector: {matchLabels: {app: db}}}", "shop") +
                     Ap("get", kAllowGet, "shop"),
                 {"warning authz.no_default_deny shop"}},
        LintCase{
            "OnlyDenyPolicies",
            Ap("deny", "{action: DENY, rules: [{from: [{source: {namespaces: [x]}}]}]}", "shop"),
            {}},
        LintCase{"PodsWithoutDefaultDeny",
                 "",
                 {"warning authz.no_default_deny tools"},
                 PodsJson({{"tools/a", "a"}, {"tools/b", "b"}, {"kube-system/dns", "dns"}})},
        LintCase{"PodsUnderAMeshDefaultDeny",
                 Ap("deny", kAllowNothing, "istio-system"),
                 {},
                 PodsJson({{"tools/a", "a"}})}),
    testing::CaseName());

// Principals rules are ALLOW policies next to an allow-nothing, so only they can be reported.
std::string AllowFrom(absl::string_view source, absl::string_view action = "ALLOW") {
  return Ap("deny", kAllowNothing, "shop") +
         Ap("p", absl::StrCat("{action: ", action, ", rules: [{from: [{source: ", source, "}]}]}"),
            "shop");
}

INSTANTIATE_TEST_SUITE_P(
    Principals, LintTableTest,
    ::testing::Values(
        LintCase{"InTrustDomain", AllowFrom("{principals: [cluster.local/ns/a/sa/b]}"), {}},
        LintCase{"OutsideTrustDomain",
                 AllowFrom("{principals: [partner.example/ns/a/sa/b]}"),
                 {"warning authz.principal_trust_domain shop/p"}},
        LintCase{"OutsideTrustDomainInDeny",
                 AllowFrom("{principals: [partner.example/ns/a/sa/b]}", "DENY"),
                 {"warning authz.principal_trust_domain shop/p"}},
        LintCase{"TrustDomainAlias",
                 AllowFrom("{principals: [old.example/ns/a/sa/b]}"),
                 {},
                 "",
                 {"cluster.local", "old.example"}},
        LintCase{"TrustDomainIsCaseInsensitive",
                 AllowFrom("{principals: [Cluster.Local/ns/a/sa/b]}"),
                 {}},
        LintCase{"Star",
                 AllowFrom("{principals: [\"*\"]}"),
                 {"warning authz.principal_wildcard shop/p"}},
        LintCase{"StarInDenyIsDeliberate", AllowFrom("{principals: [\"*\"]}", "DENY"), {}},
        LintCase{"SuffixCrossesTrustDomains",
                 AllowFrom("{principals: [\"*/ns/a/sa/b\"]}"),
                 {"warning authz.principal_wildcard shop/p"}},
        LintCase{"PrefixShortOfTheTrustDomain",
                 AllowFrom("{principals: [\"cluster*\"]}"),
                 {"warning authz.principal_wildcard shop/p"}},
        LintCase{"PrefixWithinTheTrustDomain",
                 AllowFrom("{principals: [\"cluster.local/ns/a/*\"]}"),
                 {}},
        LintCase{"PrefixInAnotherTrustDomain",
                 AllowFrom("{principals: [\"partner.example/*\"]}"),
                 {"warning authz.principal_trust_domain shop/p"}},
        LintCase{"NotPrincipalsAreNotGrants",
                 AllowFrom("{notPrincipals: [\"*\", partner.example/ns/a/sa/b]}"),
                 {}},
        LintCase{
            "WhenSourcePrincipal",
            Ap("deny", kAllowNothing, "shop") +
                Ap("p",
                   "{rules: [{when: [{key: source.principal, values: [other.td/ns/a/sa/b]}]}]}",
                   "shop"),
            {"warning authz.principal_trust_domain shop/p"}},
        LintCase{"ReportedOncePerPattern",
                 AllowFrom("{principals: [x.td/ns/a/sa/b, x.td/ns/a/sa/b]}"),
                 {"warning authz.principal_trust_domain shop/p"}}),
    testing::CaseName());

std::string Deny(absl::string_view rule) {
  return Ap("d", absl::StrCat("{action: DENY, rules: [", rule, "]}"), "shop");
}

INSTANTIATE_TEST_SUITE_P(
    DenyHttpWithoutPorts, LintTableTest,
    ::testing::Values(
        LintCase{"Methods",
                 Deny("{to: [{operation: {methods: [DELETE]}}]}"),
                 {"warning authz.deny_http_without_ports shop/d"}},
        LintCase{"PathsAndPrincipals",
                 Deny("{from: [{source: {principals: [cluster.local/ns/a/sa/b]}}], to: "
                      "[{operation: {paths: [/admin]}}]}"),
                 {"warning authz.deny_http_without_ports shop/d"}},
        LintCase{"RequestPrincipals",
                 Deny("{from: [{source: {requestPrincipals: [\"*\"]}}]}"),
                 {"warning authz.deny_http_without_ports shop/d"}},
        LintCase{"Header",
                 Deny("{when: [{key: \"request.headers[x-token]\", values: [bad]}]}"),
                 {"warning authz.deny_http_without_ports shop/d"}},
        LintCase{
            "WithPorts", Deny("{to: [{operation: {methods: [DELETE], ports: [\"8080\"]}}]}"), {}},
        LintCase{"WithDestinationPortCondition",
                 Deny("{to: [{operation: {methods: [DELETE]}}], when: [{key: destination.port, "
                      "values: [\"8080\"]}]}"),
                 {}},
        LintCase{"OneOperationWithoutPorts",
                 Deny("{to: [{operation: {methods: [DELETE], ports: [\"8080\"]}}, {operation: "
                      "{paths: [/x]}}]}"),
                 {"warning authz.deny_http_without_ports shop/d"}},
        LintCase{"NotPortsDoNotScope",
                 Deny("{to: [{operation: {methods: [DELETE], notPorts: [\"9000\"]}}]}"),
                 {"warning authz.deny_http_without_ports shop/d"}},
        LintCase{"NoHttpFields", Deny("{from: [{source: {namespaces: [x]}}]}"), {}},
        LintCase{"AllowIsNotConcerned",
                 Ap("n", kAllowNothing, "shop") +
                     Ap("a", "{rules: [{to: [{operation: {methods: [GET]}}]}]}", "shop"),
                 {}}),
    testing::CaseName());

const std::string kPods = PodsJson({{"payments/ledger-1", "ledger"}, {"web/site-1", "site"}});
const std::string kDenyAll = Ap("n", kAllowNothing, "istio-system");

INSTANTIATE_TEST_SUITE_P(
    Selectors, LintTableTest,
    ::testing::Values(
        LintCase{"AuthorizationPolicyMatchesNothing",
                 kDenyAll + Ap("ghost", "{selector: {matchLabels: {app: ghost}}}", "payments"),
                 {"warning selector.no_match payments/ghost"},
                 kPods},
        LintCase{"AuthorizationPolicyMatches",
                 kDenyAll + Ap("ledger", "{selector: {matchLabels: {app: ledger}}}", "payments"),
                 {},
                 kPods},
        LintCase{"PodInAnotherNamespaceDoesNotCount",
                 kDenyAll + Ap("site", "{selector: {matchLabels: {app: site}}}", "payments"),
                 {"warning selector.no_match payments/site"},
                 kPods},
        LintCase{"RootNamespaceSelectorLooksEverywhere",
                 kDenyAll + Ap("site", "{selector: {matchLabels: {app: site}}}", "istio-system"),
                 {},
                 kPods},
        LintCase{"PeerAuthenticationMatchesNothing",
                 kDenyAll + Pa("ghost",
                               "{selector: {matchLabels: {app: ghost}}, mtls: {mode: "
                               "STRICT}}",
                               "payments"),
                 {"warning selector.no_match payments/ghost"},
                 kPods},
        LintCase{"DestinationRuleWorkloadSelector",
                 kDenyAll + Dr("ghost", "{host: x, workloadSelector: {matchLabels: {app: ghost}}}",
                               "payments"),
                 {"warning selector.no_match payments/ghost"},
                 kPods},
        LintCase{"WithoutPodsNothingIsChecked",
                 kDenyAll + Ap("ghost", "{selector: {matchLabels: {app: ghost}}}", "payments"),
                 {}}),
    testing::CaseName());

// The notes come from a real Loader, so that lint follows the loader's wording.
TEST(LintTest, LoaderNotesAreInfo) {
  Loader loader;
  ASSERT_TRUE(loader
                  .AddText(Ap("x", "{}") + Ap("x", "{}") +
                               "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n",
                           "a.yaml")
                  .ok());
  std::vector<std::string> notes = std::move(loader).Finish().notes;
  ASSERT_EQ(notes.size(), 2u);
  std::sort(notes.begin(), notes.end());  // "a.yaml doc 2: ..." before "a.yaml doc 3: ..."
  LintOptions options;
  std::vector<Finding> findings = Lint({}, notes, options);
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_EQ(findings[0].check, kCheckDuplicate);
  EXPECT_EQ(findings[0].source, "a.yaml doc 2");
  EXPECT_THAT(findings[0].message, HasSubstr("also defined in a.yaml doc 1"));
  EXPECT_EQ(findings[1].check, kCheckLoadNote);
  EXPECT_EQ(findings[1].severity, Severity::kInfo);
  EXPECT_EQ(MaxSeverity(findings), Severity::kInfo);
}

TEST(LintTest, ErrorsComeFirstAndNameTheirSourceAndRelatedPolicy) {
  PolicySet set = MustLoad(Pa("mesh", kPermissive, "istio-system") + kPaymentsStrict +
                           Dr("ledger", DrTls("ledger", "DISABLE"), "payments"));
  LintOptions options;
  options.now = meshid::testing::kTestEpoch;
  std::vector<Finding> findings = Lint(set, {}, options);
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_EQ(findings[0].severity, Severity::kError);
  EXPECT_EQ(findings[0].source, "test.yaml doc 3");
  EXPECT_EQ(findings[0].kind, "DestinationRule");
  EXPECT_EQ(findings[0].related, "payments/strict");
  EXPECT_THAT(findings[0].message, HasSubstr("DISABLE"));
  EXPECT_THAT(findings[0].message, HasSubstr("ledger.payments.svc.cluster.local"));
  EXPECT_EQ(findings[1].check, kCheckPermissiveNoExpiry);
  EXPECT_THAT(findings[1].message, HasSubstr("2027-02-14T00:00:00Z"));  // now + 30 days
  EXPECT_EQ(MaxSeverity(findings), Severity::kError);
  EXPECT_EQ(MaxSeverity({}), Severity::kInfo);
}

TEST(LintTest, GuessesSayHowTheyMatched) {
  PolicySet set =
      MustLoad(Pa("ledger-strict", "{selector: {matchLabels: {app: ledger}}, mtls: {mode: STRICT}}",
                  "payments") +
               Dr("ledger", DrTls("ledger", "SIMPLE"), "payments"));
  std::vector<Finding> findings = Lint(set, {}, LintOptions{});
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_THAT(findings[0].message, HasSubstr("matched by namespace"));
  EXPECT_THAT(findings[0].message, HasSubstr("app=ledger"));
}

}  // namespace
}  // namespace meshid::policy
