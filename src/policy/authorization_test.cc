// The decision table: each case is a set of policies, a request and Istio's documented answer
// (istio.io reference "Authorization Policy", "Authorization Policy Conditions", the security
// concepts page and the security best practices on path normalization).

#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/policy/evaluate.h"
#include "policy_test_util.h"

namespace meshid::policy {
namespace {

using testing::Ap;
using ::testing::HasSubstr;
using testing::Pa;
using testing::Req;

struct Case {
  const char* name;
  std::string yaml;
  Request request;
  bool allow;
  const char* reason;
  const char* policy = nullptr;  // deciding policy when it matters
  std::vector<std::string> audit = {};
  const char* note = nullptr;  // a substring one note must contain
  const char* root_namespace = "istio-system";
};

constexpr bool kAllow = true;
constexpr bool kDeny = false;

// Shorthands for the common one-rule ALLOW and DENY policies.
std::string Allow(absl::string_view rule) {
  return Ap("allow", absl::StrCat("{action: ALLOW, rules: [", rule, "]}"));
}
std::string Deny(absl::string_view rule) {
  return Ap("deny", absl::StrCat("{action: DENY, rules: [", rule, "]}"));
}
std::string From(absl::string_view source) {
  return absl::StrCat("{from: [{source: {", source, "}}]}");
}
std::string To(absl::string_view operation) {
  return absl::StrCat("{to: [{operation: {", operation, "}}]}");
}
std::string When(absl::string_view key, absl::string_view values,
                 absl::string_view field = "values") {
  return absl::StrCat("{when: [{key: \"", key, "\", ", field, ": ", values, "}]}");
}

const std::string kStrict = Pa("default", "{mtls: {mode: STRICT}}");

std::vector<Case> Cases() {
  return {
      // --- Actions and the edge cases of REFERENCE.md ---
      {"NoPolicyAllows", "", Req().Plaintext(), kAllow, "no_allow_policies", "default"},
      {"EmptySpecDeniesAll", Ap("deny-all", "{}"), Req(), kDeny, "no_allow_match", "default"},
      {"MissingSpecDeniesAll",
       "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
       "metadata: {name: x, namespace: foo}\n",
       Req(), kDeny, "no_allow_match"},
      {"EmptyRuleAllowsAll", Ap("allow-all", "{rules: [{}]}"), Req().Plaintext(), kAllow,
       "allowed_by_policy", "foo/allow-all"},
      {"DenyWithoutRulesHasNoEffect", Ap("d", "{action: DENY}"), Req(), kAllow,
       "no_allow_policies"},
      {"DenyWithEmptyRuleDeniesAll", Ap("d", "{action: DENY, rules: [{}]}"), Req(), kDeny,
       "denied_by_policy", "foo/d"},
      {"AuditIsRecordedNotDecisive",
       Ap("a", "{action: AUDIT, rules: [{}]}"),
       Req(),
       kAllow,
       "no_allow_policies",
       "default",
       {"foo/a"}},
      {"AuditRecordedWhenDenyDecides",
       Ap("a", "{action: AUDIT, rules: [{}]}") + Ap("d", "{action: DENY, rules: [{}]}"),
       Req(),
       kDeny,
       "denied_by_policy",
       "foo/d",
       {"foo/a"}},
      {"AuditNotMatchingIsNotRecorded",
       Ap("a", absl::StrCat("{action: AUDIT, rules: [", To("ports: [\"9\"]"), "]}")),
       Req(),
       kAllow,
       "no_allow_policies",
       "default",
       {}},
      {"AuditDoesNotCountAsAllowPolicy",
       Ap("a", "{action: AUDIT, rules: [{}]}") + Ap("none", "{}", "bar"),
       Req(),
       kAllow,
       "no_allow_policies",
       "default",
       {"foo/a"}},
      {"DenyBeatsAllow", Ap("allow-all", "{rules: [{}]}") + Ap("d", "{action: DENY, rules: [{}]}"),
       Req(), kDeny, "denied_by_policy", "foo/d"},
      {"SecondAllowPolicyMatches",
       Ap("a1", absl::StrCat("{rules: [", To("ports: [\"9\"]"), "]}")) +
           Ap("a2", absl::StrCat("{rules: [", To("ports: [\"8000\"]"), "]}")),
       Req(), kAllow, "allowed_by_policy", "foo/a2"},
      {"NonMatchingDenyThenAllow", Deny(To("ports: [\"9\"]")) + Ap("allow-all", "{rules: [{}]}"),
       Req(), kAllow, "allowed_by_policy", "foo/allow-all"},
      {"RulesAreOred",
       Ap("a",
          absl::StrCat("{rules: [", To("ports: [\"1\"]"), ", ", To("ports: [\"8000\"]"), "]}")),
       Req(), kAllow, "allowed_by_policy"},

      // --- Which workloads a policy applies to ---
      {"OtherNamespacePolicyDoesNotApply", Ap("deny-all", "{}", "bar"), Req(), kAllow,
       "no_allow_policies"},
      {"RootNamespacePolicyAppliesMeshWide", Ap("deny-all", "{}", "istio-system"), Req(), kDeny,
       "no_allow_match"},
      {"RootNamespaceSelectorAppliesInEveryNamespace",
       Ap("r", "{selector: {matchLabels: {app: httpbin}}}", "istio-system"), Req(), kDeny,
       "no_allow_match"},
      {"RootNamespaceSelectorNotMatching",
       Ap("r", "{selector: {matchLabels: {app: other}}}", "istio-system"), Req(), kAllow,
       "no_allow_policies"},
      {"SelectorMatches", Ap("s", "{selector: {matchLabels: {app: httpbin, version: v1}}}"), Req(),
       kDeny, "no_allow_match"},
      {"SelectorNeedsEveryLabel", Ap("s", "{selector: {matchLabels: {app: httpbin, version: v2}}}"),
       Req(), kAllow, "no_allow_policies"},
      {"EmptyMatchLabelsSelectsAll", Ap("s", "{selector: {matchLabels: {}}}"), Req(), kDeny,
       "no_allow_match"},
      {"TargetRefPolicyNotOnSidecar",
       Ap("t", "{targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}]}"),
       Req(),
       kAllow,
       "no_allow_policies",
       "default",
       {},
       "targetRef"},
      {"ConfigurableRootNamespace",
       Ap("deny-all", "{}", "mesh-root"),
       Req(),
       kDeny,
       "no_allow_match",
       "default",
       {},
       nullptr,
       "mesh-root"},
      {"IstioSystemNotRootWhenConfigured",
       Ap("deny-all", "{}", "istio-system"),
       Req(),
       kAllow,
       "no_allow_policies",
       "default",
       {},
       nullptr,
       "mesh-root"},

      // --- source.principals / notPrincipals ---
      {"PrincipalExact", Allow(From("principals: [cluster.local/ns/bar/sa/sleep]")), Req(), kAllow,
       "allowed_by_policy"},
      {"PrincipalExactMismatch", Allow(From("principals: [cluster.local/ns/bar/sa/other]")), Req(),
       kDeny, "no_allow_match"},
      {"PrincipalPrefix", Allow(From("principals: [\"cluster.local/ns/bar/*\"]")), Req(), kAllow,
       "allowed_by_policy"},
      {"PrincipalSuffix", Allow(From("principals: [\"*/sa/sleep\"]")), Req(), kAllow,
       "allowed_by_policy"},
      {"PrincipalPresenceWithMtls", Allow(From("principals: [\"*\"]")), Req(), kAllow,
       "allowed_by_policy"},
      {"PrincipalPresenceNeedsMtls", Allow(From("principals: [\"*\"]")), Req().Plaintext(), kDeny,
       "no_allow_match"},
      {"PrincipalWithSpiffeSchemeFromPeer",
       Allow(From("principals: [cluster.local/ns/bar/sa/sleep]")),
       Req().Peer("spiffe://cluster.local/ns/bar/sa/sleep"), kAllow, "allowed_by_policy"},
      {"PrincipalIsCaseSensitive", Allow(From("principals: [cluster.local/ns/bar/sa/Sleep]")),
       Req(), kDeny, "no_allow_match"},
      {"NotPrincipalsExcludes", Allow(From("notPrincipals: [cluster.local/ns/bar/sa/sleep]")),
       Req(), kDeny, "no_allow_match"},
      {"NotPrincipalsOthersAllowed", Allow(From("notPrincipals: [cluster.local/ns/x/sa/y]")), Req(),
       kAllow, "allowed_by_policy"},
      {"DenyNotPrincipalsStarRejectsPlaintext", Deny(From("notPrincipals: [\"*\"]")),
       Req().Plaintext(), kDeny, "denied_by_policy", "foo/deny"},
      {"DenyNotPrincipalsStarPassesMtls", Deny(From("notPrincipals: [\"*\"]")), Req(), kAllow,
       "no_allow_policies"},

      // --- source.namespaces / notNamespaces (from the mTLS principal) ---
      {"NamespaceMatches", Allow(From("namespaces: [bar]")), Req(), kAllow, "allowed_by_policy"},
      {"NamespaceNeedsMtls", Allow(From("namespaces: [bar]")), Req().Plaintext(), kDeny,
       "no_allow_match"},
      {"NamespacePrefix", Allow(From("namespaces: [\"ba*\"]")), Req(), kAllow, "allowed_by_policy"},
      {"NamespaceSuffix", Allow(From("namespaces: [\"*ar\"]")), Req(), kAllow, "allowed_by_policy"},
      {"NamespacePresenceNeedsMtls", Allow(From("namespaces: [\"*\"]")), Req().Plaintext(), kDeny,
       "no_allow_match"},
      {"NamespaceNotInNonK8sIdentity", Allow(From("namespaces: [\"*\"]")),
       Req().Peer("example.org/web"), kDeny, "no_allow_match"},
      {"NotNamespacesExcludes", Allow(From("notNamespaces: [bar]")), Req(), kDeny,
       "no_allow_match"},
      {"DenyNotNamespacesFromOther", Deny(From("notNamespaces: [foo]")), Req(), kDeny,
       "denied_by_policy"},
      {"DenyNotNamespacesFromSame", Deny(From("notNamespaces: [foo]")),
       Req().Peer("cluster.local/ns/foo/sa/x"), kAllow, "no_allow_policies"},
      {"DisabledMtlsHidesPrincipal",
       Pa("default", "{mtls: {mode: DISABLE}}") + Allow(From("namespaces: [bar]")),
       Req(),
       kDeny,
       "no_allow_match",
       "default",
       {},
       "DISABLE"},

      // --- source.serviceAccounts ---
      {"ServiceAccountMatches", Allow(From("serviceAccounts: [bar/sleep]")), Req(), kAllow,
       "allowed_by_policy"},
      {"ServiceAccountAnyTrustDomain", Allow(From("serviceAccounts: [bar/sleep]")),
       Req().Peer("other.td/ns/bar/sa/sleep"), kAllow, "allowed_by_policy"},
      {"ServiceAccountMismatch", Allow(From("serviceAccounts: [bar/other]")), Req(), kDeny,
       "no_allow_match"},
      {"NotServiceAccountsExcludes", Allow(From("notServiceAccounts: [bar/sleep]")), Req(), kDeny,
       "no_allow_match"},

      // --- source.ipBlocks / notIpBlocks / remoteIpBlocks ---
      {"IpBlockCidr", Allow(From("ipBlocks: [10.0.0.0/8]")), Req(), kAllow, "allowed_by_policy"},
      {"IpBlockCidrMismatch", Allow(From("ipBlocks: [192.168.0.0/16]")), Req(), kDeny,
       "no_allow_match"},
      {"IpBlockSingleAddress", Allow(From("ipBlocks: [10.0.0.1]")), Req(), kAllow,
       "allowed_by_policy"},
      {"IpBlockSingleAddressMismatch", Allow(From("ipBlocks: [10.0.0.2]")), Req(), kDeny,
       "no_allow_match"},
      {"NotIpBlocksExcludes", Allow(From("notIpBlocks: [10.0.0.0/24]")), Req(), kDeny,
       "no_allow_match"},
      {"DenyIpBlock", Deny(From("ipBlocks: [10.0.0.0/8]")), Req(), kDeny, "denied_by_policy"},
      {"IpBlockIpv6", Allow(From("ipBlocks: [\"2001:db8::/32\"]")), Req().Ip("2001:db8::5"), kAllow,
       "allowed_by_policy"},
      {"IpBlockV4DoesNotMatchV6", Allow(From("ipBlocks: [0.0.0.0/0]")), Req().Ip("2001:db8::5"),
       kDeny, "no_allow_match"},
      {"IpBlockUnknownSourceNeverMatches",
       Allow(From("ipBlocks: [0.0.0.0/0]")),
       Req().NoIp(),
       kDeny,
       "no_allow_match",
       "default",
       {},
       "source IP not given"},
      {"RemoteIpBlockIsSourceWithoutXff", Allow(From("remoteIpBlocks: [10.0.0.0/8]")), Req(),
       kAllow, "allowed_by_policy"},
      {"NotRemoteIpBlocks", Allow(From("notRemoteIpBlocks: [10.0.0.0/8]")), Req(), kDeny,
       "no_allow_match"},

      // --- source.requestPrincipals (JWT; HTTP only) ---
      {"RequestPrincipalPresenceWithoutJwt", Allow(From("requestPrincipals: [\"*\"]")),
       Req().Http("GET", "/"), kDeny, "no_allow_match"},
      {"RequestPrincipalExact", Allow(From("requestPrincipals: [issuer.example.com/alice]")),
       Req().Http("GET", "/").Jwt("issuer.example.com/alice"), kAllow, "allowed_by_policy"},
      {"RequestPrincipalAllowRuleNeverMatchesTcp",
       Allow(From("requestPrincipals: [\"*\"]")),
       Req().Jwt("a/b"),
       kDeny,
       "no_allow_match",
       "default",
       {},
       "never matches a TCP"},
      {"DenyNotRequestPrincipalsRequiresJwt", Deny(From("notRequestPrincipals: [\"*\"]")),
       Req().Http("GET", "/"), kDeny, "denied_by_policy"},
      {"DenyNotRequestPrincipalsWithJwt", Deny(From("notRequestPrincipals: [\"*\"]")),
       Req().Http("GET", "/").Jwt("a/b"), kAllow, "no_allow_policies"},
      {"DenyRequestPrincipalsIgnoredOnTcpDeniesAll",
       Deny(From("notRequestPrincipals: [\"*\"]")),
       Req(),
       kDeny,
       "denied_by_policy",
       "foo/deny",
       {},
       "ignored on a TCP"},

      // --- to.operation.ports / notPorts ---
      {"PortMatches", Allow(To("ports: [\"8000\"]")), Req(), kAllow, "allowed_by_policy"},
      {"PortMismatch", Allow(To("ports: [\"9000\"]")), Req(), kDeny, "no_allow_match"},
      {"NotPortsExcludes", Allow(To("notPorts: [\"8000\"]")), Req(), kDeny, "no_allow_match"},
      {"PortAsYamlInteger", Allow(To("ports: [8000]")), Req(), kAllow, "allowed_by_policy"},

      // --- methods / notMethods ---
      {"MethodMatches", Allow(To("methods: [GET]")), Req().Http("GET", "/"), kAllow,
       "allowed_by_policy"},
      {"MethodMismatch", Allow(To("methods: [GET]")), Req().Http("POST", "/"), kDeny,
       "no_allow_match"},
      {"MethodIsCaseSensitive", Allow(To("methods: [get]")), Req().Http("GET", "/"), kDeny,
       "no_allow_match"},
      {"MethodPrefix", Allow(To("methods: [\"P*\"]")), Req().Http("PUT", "/"), kAllow,
       "allowed_by_policy"},
      {"NotMethods", Allow(To("notMethods: [DELETE]")), Req().Http("GET", "/"), kAllow,
       "allowed_by_policy"},
      {"NotMethodsExcludes", Allow(To("notMethods: [DELETE]")), Req().Http("DELETE", "/"), kDeny,
       "no_allow_match"},

      // --- paths / notPaths, with normalization ---
      {"PathExact", Allow(To("paths: [/info]")), Req().Http("GET", "/info"), kAllow,
       "allowed_by_policy"},
      {"PathExactIsNotPrefix", Allow(To("paths: [/info]")), Req().Http("GET", "/info/x"), kDeny,
       "no_allow_match"},
      {"PathPrefix", Allow(To("paths: [\"/info*\"]")), Req().Http("GET", "/info/x"), kAllow,
       "allowed_by_policy"},
      {"PathSuffix", Allow(To("paths: [\"*.html\"]")), Req().Http("GET", "/a/b.html"), kAllow,
       "allowed_by_policy"},
      {"PathPresence", Allow(To("paths: [\"*\"]")), Req().Http("GET", "/"), kAllow,
       "allowed_by_policy"},
      {"PathIgnoresQuery", Allow(To("paths: [/info]")), Req().Http("GET", "/info?x=/admin"), kAllow,
       "allowed_by_policy"},
      {"NotPathsExcludes", Allow(To("notPaths: [\"/admin*\"]")), Req().Http("GET", "/admin/x"),
       kDeny, "no_allow_match"},
      {"DotDotEncodedIsNormalized", Deny(To("paths: [\"/private*\"]")),
       Req().Http("GET", "/public/%2E%2E/private/key"), kDeny, "denied_by_policy"},
      {"DotSegmentsResolved", Allow(To("paths: [/public/page]")),
       Req().Http("GET", "/public/./x/../page"), kAllow, "allowed_by_policy"},
      {"RepeatedSlashesMerged", Deny(To("paths: [\"/admin*\"]")), Req().Http("GET", "//admin//x"),
       kDeny, "denied_by_policy"},
      {"UnreservedEscapeDecoded", Deny(To("paths: [/admin]")), Req().Http("GET", "/%61dmin"), kDeny,
       "denied_by_policy"},
      {"EscapedSlashStaysEscaped", Deny(To("paths: [/a/b]")), Req().Http("GET", "/a%2Fb"), kAllow,
       "no_allow_policies"},
      {"PathAboveRootDenied", "", Req().Http("GET", "/../etc/passwd"), kDeny, "path_escapes_root"},
      {"EncodedPathAboveRootDenied", Ap("allow-all", "{rules: [{}]}"),
       Req().Http("GET", "/a/%2e%2e/%2E%2E/etc"), kDeny, "path_escapes_root"},
      {"InvalidEscapeDenied", "", Req().Http("GET", "/a%zz"), kDeny, "invalid_path"},
      {"RelativePathDenied", "", Req().Http("GET", "a/b"), kDeny, "invalid_path"},

      // --- hosts / notHosts ---
      {"HostExact", Allow(To("hosts: [httpbin.foo]")), Req().Http("GET", "/"), kAllow,
       "allowed_by_policy"},
      {"HostIsCaseInsensitive", Allow(To("hosts: [httpbin.foo]")),
       Req().Http("GET", "/", "HTTPBIN.Foo"), kAllow, "allowed_by_policy"},
      {"HostWithPortIsNotExact", Allow(To("hosts: [httpbin.foo]")),
       Req().Http("GET", "/", "httpbin.foo:8000"), kDeny, "no_allow_match"},
      {"HostPortWildcard", Allow(To("hosts: [\"httpbin.foo:*\"]")),
       Req().Http("GET", "/", "httpbin.foo:8000"), kAllow, "allowed_by_policy"},
      {"HostSuffix", Allow(To("hosts: [\"*.foo\"]")), Req().Http("GET", "/"), kAllow,
       "allowed_by_policy"},
      {"DenyNotHosts", Deny(To("notHosts: [httpbin.foo]")), Req().Http("GET", "/", "evil.com"),
       kDeny, "denied_by_policy"},

      // --- HTTP-only fields on TCP ---
      {"AllowHttpFieldOnTcpNeverMatches",
       Allow(To("methods: [GET]")),
       Req(),
       kDeny,
       "no_allow_match",
       "default",
       {},
       "never matches a TCP"},
      {"AllowHttpFieldAndPortOnTcpNeverMatches", Allow(To("ports: [\"8000\"], methods: [GET]")),
       Req(), kDeny, "no_allow_match"},
      {"AllowOtherRuleStillMatchesTcp",
       Ap("a",
          absl::StrCat("{rules: [", To("methods: [GET]"), ", ", To("ports: [\"8000\"]"), "]}")),
       Req(), kAllow, "allowed_by_policy"},
      {"DenyHttpFieldOnTcpIsIgnored", Deny(To("methods: [GET]")), Req(), kDeny, "denied_by_policy"},
      {"DenyHttpFieldIgnoredPortStillChecked", Deny(To("ports: [\"9000\"], methods: [GET]")), Req(),
       kAllow, "no_allow_policies"},
      {"DenyHeaderConditionIgnoredOnTcp", Deny(When("request.headers[x-user]", "[admin]")), Req(),
       kDeny, "denied_by_policy"},

      // --- when conditions ---
      {"WhenHeader", Allow(When("request.headers[x-token]", "[abc]")),
       Req().Http("GET", "/").Header("x-token", "abc"), kAllow, "allowed_by_policy"},
      {"WhenHeaderNameCaseInsensitive", Allow(When("request.headers[X-Token]", "[abc]")),
       Req().Http("GET", "/").Header("x-token", "abc"), kAllow, "allowed_by_policy"},
      {"WhenHeaderValueCaseSensitive", Allow(When("request.headers[x-token]", "[abc]")),
       Req().Http("GET", "/").Header("x-token", "ABC"), kDeny, "no_allow_match"},
      {"WhenHeaderMissing", Allow(When("request.headers[x-token]", "[\"*\"]")),
       Req().Http("GET", "/"), kDeny, "no_allow_match"},
      {"WhenHeaderPrefix", Allow(When("request.headers[User-Agent]", "[\"Mozilla/*\"]")),
       Req().Http("GET", "/").Header("user-agent", "Mozilla/5.0"), kAllow, "allowed_by_policy"},
      {"WhenHeaderNotValuesAbsentMatches",
       Allow(When("request.headers[x-debug]", "[\"1\"]", "notValues")), Req().Http("GET", "/"),
       kAllow, "allowed_by_policy"},
      {"WhenHeaderNotValuesExcludes",
       Allow(When("request.headers[x-debug]", "[\"1\"]", "notValues")),
       Req().Http("GET", "/").Header("x-debug", "1"), kDeny, "no_allow_match"},
      {"WhenSourceIp", Allow(When("source.ip", "[10.0.0.0/16]")), Req(), kAllow,
       "allowed_by_policy"},
      {"WhenSourceIpNotValues", Allow(When("source.ip", "[10.0.0.1]", "notValues")), Req(), kDeny,
       "no_allow_match"},
      {"WhenRemoteIp", Allow(When("remote.ip", "[10.0.0.1]")), Req(), kAllow, "allowed_by_policy"},
      {"WhenSourceNamespace", Allow(When("source.namespace", "[bar]")), Req(), kAllow,
       "allowed_by_policy"},
      {"WhenSourceNamespaceNeedsMtls", Allow(When("source.namespace", "[bar]")), Req().Plaintext(),
       kDeny, "no_allow_match"},
      {"WhenSourcePrincipal", Allow(When("source.principal", "[\"*/sa/sleep\"]")), Req(), kAllow,
       "allowed_by_policy"},
      {"WhenDestinationPort", Allow(When("destination.port", "[\"8000\"]")), Req(), kAllow,
       "allowed_by_policy"},
      {"WhenDestinationPortMismatch", Allow(When("destination.port", "[\"80\", \"443\"]")), Req(),
       kDeny, "no_allow_match"},
      {"WhenSni", Allow(When("connection.sni", "[\"*.foo.svc.cluster.local\"]")),
       Req().Sni("httpbin.foo.svc.cluster.local"), kAllow, "allowed_by_policy"},
      {"WhenSniAbsent", Allow(When("connection.sni", "[\"*\"]")), Req(), kDeny, "no_allow_match"},
      {"WhenClaim", Allow(When("request.auth.claims[groups]", "[admins]")),
       Req().Http("GET", "/").Claim("groups", {"dev", "admins"}), kAllow, "allowed_by_policy"},
      {"WhenClaimMissing", Allow(When("request.auth.claims[groups]", "[admins]")),
       Req().Http("GET", "/"), kDeny, "no_allow_match"},
      {"WhenValuesAndNotValuesBothApply",
       Allow("{when: [{key: \"request.headers[x-env]\", values: [\"prod*\"], notValues: "
             "[prod-eu]}]}"),
       Req().Http("GET", "/").Header("x-env", "prod-eu"), kDeny, "no_allow_match"},
      {"EveryWhenMustMatch",
       Allow("{when: [{key: source.namespace, values: [bar]}, {key: destination.port, values: "
             "[\"1\"]}]}"),
       Req(), kDeny, "no_allow_match"},

      // --- AND within a source/operation, OR across them, AND across from/to/when ---
      {"SourcesAreOred",
       Allow("{from: [{source: {principals: [a/b]}}, {source: {namespaces: [bar]}}]}"), Req(),
       kAllow, "allowed_by_policy"},
      {"SourceFieldsAreAnded", Allow(From("namespaces: [bar], ipBlocks: [192.168.0.0/16]")), Req(),
       kDeny, "no_allow_match"},
      {"OperationsAreOred",
       Allow("{to: [{operation: {ports: [\"1\"]}}, {operation: {ports: [\"8000\"]}}]}"), Req(),
       kAllow, "allowed_by_policy"},
      {"FromAndToAreAnded",
       Allow("{from: [{source: {namespaces: [bar]}}], to: [{operation: {ports: [\"1\"]}}]}"), Req(),
       kDeny, "no_allow_match"},
      {"IstioDocExample",
       Ap("httpbin",
          "{selector: {matchLabels: {app: httpbin, version: v1}}, action: ALLOW, rules: [{from: "
          "[{source: {principals: [cluster.local/ns/default/sa/sleep]}}, {source: {namespaces: "
          "[test]}}], to: [{operation: {methods: [GET], paths: [\"/info*\"]}}, {operation: "
          "{methods: [POST], paths: [/data]}}], when: [{key: \"request.auth.claims[iss]\", "
          "values: [\"https://accounts.google.com\"]}]}]}"),
       Req()
           .Peer("cluster.local/ns/test/sa/any")
           .Http("POST", "/data")
           .Claim("iss", {"https://accounts.google.com"}),
       kAllow, "allowed_by_policy", "foo/httpbin"},
      {"IstioDocExampleWrongPath",
       Ap("httpbin",
          "{rules: [{from: [{source: {namespaces: [test]}}], to: [{operation: {methods: [POST], "
          "paths: [/data]}}]}]}"),
       Req().Peer("cluster.local/ns/test/sa/any").Http("POST", "/info"), kDeny, "no_allow_match"},

      // --- PeerAuthentication before authorization ---
      {"StrictRejectsPlaintext", kStrict, Req().Plaintext(), kDeny, "plaintext_rejected",
       "foo/default"},
      {"StrictAcceptsMtls", kStrict, Req(), kAllow, "no_allow_policies"},
      {"StrictRejectsBeforeAllowAll", kStrict + Ap("allow-all", "{rules: [{}]}"), Req().Plaintext(),
       kDeny, "plaintext_rejected"},
      {"MeshStrictRejectsPlaintext", Pa("default", "{mtls: {mode: STRICT}}", "istio-system"),
       Req().Plaintext(), kDeny, "plaintext_rejected", "istio-system/default"},
      {"PermissiveAcceptsPlaintext", Pa("default", "{mtls: {mode: PERMISSIVE}}"), Req().Plaintext(),
       kAllow, "no_allow_policies"},
      {"PortLevelDisableUnderStrict",
       Pa("p",
          "{selector: {matchLabels: {app: httpbin}}, mtls: {mode: STRICT}, portLevelMtls: "
          "{8080: {mode: DISABLE}}}"),
       Req().Plaintext().Port(8080), kAllow, "no_allow_policies"},
      {"PortLevelStrictOnlyThatPort",
       Pa("p", "{selector: {matchLabels: {app: httpbin}}, portLevelMtls: {8000: {mode: STRICT}}}"),
       Req().Plaintext().Port(9000), kAllow, "no_allow_policies"},
  };
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class DecisionTest : public ::testing::TestWithParam<Case> {};

TEST_P(DecisionTest, MatchesIstio) {
  const Case& c = GetParam();
  PolicySet set = testing::MustLoad(c.yaml);
  EvaluateOptions options;
  options.root_namespace = c.root_namespace;
  Decision d = Evaluate(set, c.request, options);
  std::string explain = absl::StrCat(d.allow ? "ALLOW" : "DENY", " ", d.policy, " ", d.reason, ": ",
                                     d.detail, "\nnotes: ", absl::StrJoin(d.notes, " | "));
  EXPECT_EQ(d.allow, c.allow) << explain;
  EXPECT_EQ(d.reason, c.reason) << explain;
  if (c.policy != nullptr) {
    EXPECT_EQ(d.policy, c.policy) << explain;
  }
  EXPECT_EQ(d.audit, c.audit) << explain;
  if (c.note != nullptr) {
    EXPECT_THAT(absl::StrJoin(d.notes, "\n"), HasSubstr(c.note)) << explain;
  }
}

INSTANTIATE_TEST_SUITE_P(Istio, DecisionTest, ::testing::ValuesIn(Cases()), testing::CaseName());

TEST(DecisionTableTest, HasAtLeastEightyCases) { EXPECT_GE(Cases().size(), 80u); }

TEST(DecisionTableTest, NormalizedPathIsReported) {
  Decision d = Evaluate({}, Req().Http("GET", "/a/./b//c/%7Ed?q=1"));
  EXPECT_TRUE(d.allow);
  EXPECT_EQ(d.path, "/a/b/c/~d");
}

TEST(DecisionTableTest, PlaintextUnderStrictNamesThePolicy) {
  PolicySet set = testing::MustLoad(kStrict);
  Decision d = Evaluate(set, Req().Plaintext());
  EXPECT_EQ(d.mtls.mode, MtlsMode::kStrict);
  EXPECT_EQ(d.mtls.policy, "foo/default");
  EXPECT_THAT(d.detail, HasSubstr("plaintext"));
}

}  // namespace
}  // namespace meshid::policy
