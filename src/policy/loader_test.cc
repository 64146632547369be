#include "meshid/policy/loader.h"

#include <fstream>
#include <random>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/testing/temp_dir.h"
#include "policy_test_util.h"

namespace meshid::policy {
namespace {

using testing::Ap;
using testing::Dr;
using ::testing::HasSubstr;
using testing::Pa;
using ::testing::StartsWith;

absl::StatusOr<LoadResult> LoadText(const std::string& text,
                                    const std::string& source = "authz.yaml") {
  Loader loader;
  if (absl::Status s = loader.AddText(text, source); !s.ok()) return s;
  return std::move(loader).Finish();
}

// ErrorOf returns the one-line error loading `text` gives ("" when it loads).
std::string ErrorOf(const std::string& text) {
  absl::StatusOr<LoadResult> r = LoadText(text);
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  std::string message(r.status().message());
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  return message;
}

TEST(LoaderTest, ReadsAllKindsAndVersions) {
  std::string text = Ap("a", "{rules: [{}]}") + Pa("p", "{mtls: {mode: STRICT}}") +
                     Dr("d", "{host: reviews, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}");
  text +=
      "apiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\n"
      "metadata: {name: b, namespace: foo}\nspec: {action: DENY}\n---\n";
  text +=
      "apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\n"
      "metadata: {name: old, namespace: foo}\nspec: {host: x}\n---\n";
  text +=
      "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
      "metadata: {name: new, namespace: foo}\nspec: {host: y}\n";
  absl::StatusOr<LoadResult> r = LoadText(text);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->policies.authorization_policies.size(), 2u);
  EXPECT_EQ(r->policies.peer_authentications.size(), 1u);
  EXPECT_EQ(r->policies.destination_rules.size(), 3u);
  EXPECT_EQ(r->policies.authorization_policies[1].action, Action::kDeny);
  EXPECT_EQ(r->policies.authorization_policies[0].meta.source, "authz.yaml doc 1");
  EXPECT_TRUE(r->notes.empty());
}

TEST(LoaderTest, KeepsAnObjectDefinedTwiceWithANote) {
  // The PeerAuthentication reference shows a namespace and a workload policy, both foo/default.
  absl::StatusOr<LoadResult> r = LoadText(
      "apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\n"
      "metadata: {name: default, namespace: foo}\nspec: {mtls: {mode: PERMISSIVE}}\n---\n"
      "apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\n"
      "metadata: {name: default, namespace: foo}\n"
      "spec: {selector: {matchLabels: {app: finance}}, mtls: {mode: STRICT}}\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->policies.peer_authentications.size(), 2u);
  ASSERT_EQ(r->notes.size(), 1u);
  EXPECT_THAT(r->notes[0], HasSubstr("doc 2: PeerAuthentication foo/default is also defined in "
                                     "authz.yaml doc 1"));
}

TEST(LoaderTest, ReadsKindListAndSkipsOtherKinds) {
  std::string text = R"(apiVersion: v1
kind: List
metadata: {resourceVersion: ""}
items:
- apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata: {name: a, namespace: foo, uid: 1234, resourceVersion: "9", generation: 2,
             creationTimestamp: "2024-01-01T00:00:00Z", annotations: {x: y}}
  spec: {}
  status: {}
- apiVersion: v1
  kind: Service
  metadata: {name: web}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
)";
  absl::StatusOr<LoadResult> r = LoadText(text);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->policies.authorization_policies.size(), 1u);
  EXPECT_EQ(r->policies.authorization_policies[0].meta.source, "authz.yaml doc 1 items[0]");
  EXPECT_THAT(r->notes,
              ::testing::ElementsAre("authz.yaml doc 1: items[1]: kind Service (v1) skipped",
                                     "authz.yaml doc 2: kind Deployment (apps/v1) skipped"));
}

TEST(LoaderTest, ReadsTypedList) {
  absl::StatusOr<LoadResult> r = LoadText(
      "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicyList\nitems:\n"
      "- {apiVersion: security.istio.io/v1, kind: AuthorizationPolicy, metadata: {name: a}}\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->policies.authorization_policies.size(), 1u);
}

TEST(LoaderTest, NamespaceDefaultsToDefault) {
  absl::StatusOr<LoadResult> r = LoadText(
      "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a}\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->policies.authorization_policies[0].meta.FullName(), "default/a");
}

TEST(LoaderTest, OrdersByCreationTimestampThenFileOrder) {
  std::string text = Pa("c", "{}") + Pa("b", "{}", "foo", "2024-05-01T00:00:00Z") +
                     Pa("a", "{}", "foo", "2024-01-01T00:00:00Z") + Pa("d", "{}");
  absl::StatusOr<LoadResult> r = LoadText(text);
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<std::string> names;
  for (const auto& p : r->policies.peer_authentications) names.push_back(p.meta.name);
  EXPECT_THAT(names, ::testing::ElementsAre("a", "b", "c", "d"));
}

TEST(LoaderTest, PortLevelWithoutSelectorIsNoted) {
  absl::StatusOr<LoadResult> r =
      LoadText(Pa("p", "{mtls: {mode: STRICT}, portLevelMtls: {8080: {mode: DISABLE}}}"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->policies.peer_authentications[0].port_level.empty());
  ASSERT_EQ(r->notes.size(), 1u);
  EXPECT_THAT(r->notes[0], HasSubstr("spec.portLevelMtls ignored"));
}

TEST(LoaderTest, ExampleErrorFromTheIssue) {
  std::string text =
      Ap("ok", "{}") +
      Ap("bad", "{rules: [{from: [{source: {principals: cluster.local/ns/a/sa/b}}]}]}");
  EXPECT_EQ(
      ErrorOf(text),
      "authz.yaml doc 2: spec.rules[0].from[0].source.principals: expected a list of strings");
}

struct BadCase {
  const char* name;
  std::string text;
  const char* error;  // the whole message after "authz.yaml"
};

std::vector<BadCase> BadCases() {
  const std::string head =
      "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a, "
      "namespace: foo}\n";
  auto ap = [&](const std::string& spec) { return head + "spec: " + spec + "\n"; };
  return {
      {"Empty", "", ": is empty (no YAML document)"},
      {"OnlyComments", "# nothing\n---\n", ": is empty (no YAML document)"},
      {"NotYaml", "{ unclosed: [", ": not valid YAML: line 1"},
      {"TabIndentedGarbage", "a: b\n  - c: [\n", ": not valid YAML"},
      {"Binary", std::string("abc\0def", 7), ": not YAML text (binary data at byte 3)"},
      {"InvalidUtf8", "kind: \xff\xfe\n", ": not YAML text (binary data at byte 6)"},
      {"Scalar", "just a line of text\n",
       " doc 1: expected a Kubernetes object (a map with apiVersion and kind)"},
      {"NoKind", "apiVersion: v1\n", " doc 1: kind: is required"},
      {"NoApiVersion", "kind: AuthorizationPolicy\n", " doc 1: apiVersion: is required"},
      {"UnsupportedVersion",
       "apiVersion: security.istio.io/v1alpha1\nkind: AuthorizationPolicy\nmetadata: {name: a}\n",
       " doc 1: apiVersion: \"security.istio.io/v1alpha1\" is not a supported version of "
       "AuthorizationPolicy (v1 or v1beta1)"},
      {"NoMetadata", "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n",
       " doc 1: metadata.name: is required"},
      {"NameNotString",
       "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: [a]}\n",
       " doc 1: metadata.name: expected a string"},
      {"UnknownMetadataField",
       "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a, nme: b}\n",
       " doc 1: metadata.nme: unknown field"},
      {"BadTimestamp",
       "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a, "
       "creationTimestamp: yesterday}\n",
       " doc 1: metadata.creationTimestamp: \"yesterday\" is not an RFC 3339 time"},
      {"UnknownTopField", head + "spec: {}\nextra: 1\n", " doc 1: extra: unknown field"},
      {"UnknownSpecField", ap("{rulez: []}"), " doc 1: spec.rulez: unknown field"},
      {"DuplicateField", head + "spec:\n  action: DENY\n  action: ALLOW\n",
       " doc 1: spec.action: field given twice"},
      {"SpecNotMap", ap("[]"), " doc 1: spec: expected a map"},
      {"CustomAction", ap("{action: CUSTOM, provider: {name: ext}}"),
       " doc 1: spec.action: CUSTOM is not supported"},
      {"UnknownAction", ap("{action: REJECT}"),
       " doc 1: spec.action: \"REJECT\" is not one of ALLOW, DENY, AUDIT, CUSTOM"},
      {"ProviderWithoutCustom", ap("{action: DENY, provider: {name: x}}"),
       " doc 1: spec.provider: is only allowed with action CUSTOM"},
      {"RulesNotList", ap("{rules: {from: []}}"), " doc 1: spec.rules: expected a list"},
      {"UnknownRuleField", ap("{rules: [{form: []}]}"),
       " doc 1: spec.rules[0].form: unknown field"},
      {"SourceMissing", ap("{rules: [{from: [{}]}]}"),
       " doc 1: spec.rules[0].from[0].source: is required"},
      {"SourceEmpty", ap("{rules: [{from: [{source: {}}]}]}"),
       " doc 1: spec.rules[0].from[0].source: must not be empty"},
      {"UnknownSourceField", ap("{rules: [{from: [{source: {principal: [a]}}]}]}"),
       " doc 1: spec.rules[0].from[0].source.principal: unknown field"},
      {"PrincipalsNested", ap("{rules: [{from: [{source: {principals: [[a]]}}]}]}"),
       " doc 1: spec.rules[0].from[0].source.principals: expected a list of strings"},
      {"EmptyStringValue", ap("{rules: [{to: [{operation: {methods: [\"\"]}}]}]}"),
       " doc 1: spec.rules[0].to[0].operation.methods[0]: must not be empty"},
      {"OperationEmpty", ap("{rules: [{to: [{operation: {}}]}]}"),
       " doc 1: spec.rules[0].to[0].operation: must not be empty"},
      {"UnknownOperationField", ap("{rules: [{to: [{operation: {path: [/a]}}]}]}"),
       " doc 1: spec.rules[0].to[0].operation.path: unknown field"},
      {"BadPort", ap("{rules: [{to: [{operation: {ports: [\"http\"]}}]}]}"),
       " doc 1: spec.rules[0].to[0].operation.ports[0]: \"http\" is not a port number (0-65535)"},
      {"PortTooLarge", ap("{rules: [{to: [{operation: {ports: [\"70000\"]}}]}]}"),
       " doc 1: spec.rules[0].to[0].operation.ports[0]: \"70000\" is not a port number"},
      {"BadCidr", ap("{rules: [{from: [{source: {ipBlocks: [10.0.0.0/8, 10.0.0.0/33]}}]}]}"),
       " doc 1: spec.rules[0].from[0].source.ipBlocks[1]: \"10.0.0.0/33\" is not an IP address or "
       "CIDR block"},
      {"BadIp", ap("{rules: [{from: [{source: {notIpBlocks: [300.1.1.1]}}]}]}"),
       " doc 1: spec.rules[0].from[0].source.notIpBlocks[0]: \"300.1.1.1\" is not an IP address"},
      {"BadWhenIp", ap("{rules: [{when: [{key: source.ip, values: [abc]}]}]}"),
       " doc 1: spec.rules[0].when[0].values[0]: \"abc\" is not an IP address or CIDR block"},
      {"BadServiceAccount", ap("{rules: [{from: [{source: {serviceAccounts: [sleep]}}]}]}"),
       " doc 1: spec.rules[0].from[0].source.serviceAccounts[0]: \"sleep\" is not a service "
       "account"},
      {"UnknownWhenKey", ap("{rules: [{when: [{key: request.method, values: [GET]}]}]}"),
       " doc 1: spec.rules[0].when[0].key: unknown condition key \"request.method\""},
      {"EnvoyFilterWhenKey",
       ap("{rules: [{when: [{key: \"experimental.envoy.filters.a.b[c]\", values: [x]}]}]}"),
       " doc 1: spec.rules[0].when[0].key: \"experimental.envoy.filters.a.b[c]\" (Envoy filter "
       "metadata) is not supported"},
      {"EmptyHeaderName", ap("{rules: [{when: [{key: \"request.headers[]\", values: [x]}]}]}"),
       " doc 1: spec.rules[0].when[0].key: unknown condition key \"request.headers[]\""},
      {"WhenWithoutValues", ap("{rules: [{when: [{key: source.ip}]}]}"),
       " doc 1: spec.rules[0].when[0]: needs values or notValues"},
      {"WhenWithoutKey", ap("{rules: [{when: [{values: [a]}]}]}"),
       " doc 1: spec.rules[0].when[0].key: is required"},
      {"WhenUnknownField", ap("{rules: [{when: [{key: source.ip, value: [a]}]}]}"),
       " doc 1: spec.rules[0].when[0].value: unknown field"},
      {"WhenDestinationPortBad",
       ap("{rules: [{when: [{key: destination.port, values: [\"-1\"]}]}]}"),
       " doc 1: spec.rules[0].when[0].values[0]: \"-1\" is not a port number"},
      {"SelectorAndTargetRef",
       ap("{selector: {matchLabels: {a: b}}, targetRef: {kind: Gateway, name: g}}"),
       " doc 1: spec: set either selector or targetRef(s), not both"},
      {"SelectorLabelsNotStrings", ap("{selector: {matchLabels: {a: [b]}}}"),
       " doc 1: spec.selector.matchLabels: expected a map of strings"},
      {"SelectorUnknownField", ap("{selector: {labels: {a: b}}}"),
       " doc 1: spec.selector.labels: unknown field"},
      {"PathTemplate", ap("{rules: [{to: [{operation: {paths: [\"/a/{*}/b\"]}}]}]}"),
       " doc 1: spec.rules[0].to[0].operation.paths[0]: \"/a/{*}/b\": path templates"},
      {"PeerAuthenticationBadMode",
       "apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata: {name: p}\n"
       "spec: {mtls: {mode: strict}}\n",
       " doc 1: spec.mtls.mode: \"strict\" is not one of UNSET, DISABLE, PERMISSIVE, STRICT"},
      {"PeerAuthenticationBadPort",
       "apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata: {name: p}\n"
       "spec: {selector: {matchLabels: {a: b}}, portLevelMtls: {http: {mode: STRICT}}}\n",
       " doc 1: spec.portLevelMtls.http: \"http\" is not a port number (1-65535)"},
      {"PeerAuthenticationUnknownField",
       "apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata: {name: p}\n"
       "spec: {mtls: {mode: STRICT, strict: true}}\n",
       " doc 1: spec.mtls.strict: unknown field"},
      {"DestinationRuleNoHost",
       "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d}\nspec: {}\n",
       " doc 1: spec.host: is required"},
      {"DestinationRuleBadTlsMode",
       "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d}\n"
       "spec: {host: a, trafficPolicy: {tls: {mode: MTLS}}}\n",
       " doc 1: spec.trafficPolicy.tls.mode: \"MTLS\" is not one of DISABLE, SIMPLE, MUTUAL, "
       "ISTIO_MUTUAL"},
      {"DestinationRuleBadPortLevel",
       "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d}\n"
       "spec: {host: a, trafficPolicy: {portLevelSettings: [{port: {number: 0}}]}}\n",
       " doc 1: spec.trafficPolicy.portLevelSettings[0].port.number: \"0\" is not a port number"},
      {"WhenNull", ap("{rules: [{when: [null]}]}"),
       " doc 1: spec.rules[0].when[0]: expected a map with key and values"},
      {"TargetRefNull", ap("{targetRef: null, targetRefs: [null]}"),
       " doc 1: spec.targetRefs[0]: expected a map with kind and name"},
      {"TargetRefOtherNamespace", ap("{targetRef: {kind: Gateway, name: g, namespace: bar}}"),
       " doc 1: spec.targetRef.namespace: must be the policy's own namespace"},
      {"TargetRefAndTargetRefs",
       ap("{targetRef: {kind: Gateway, name: g}, targetRefs: [{kind: Gateway, name: h}]}"),
       " doc 1: spec: set only one of targetRef and targetRefs"},
      {"FieldNameNotString", ap("{[a]: 1}"), " doc 1: spec: field names must be plain strings"},
      {"PeerAuthenticationPortsNotMap",
       "apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata: {name: p}\n"
       "spec: {selector: {matchLabels: {a: b}}, portLevelMtls: [8080]}\n",
       " doc 1: spec.portLevelMtls: expected a map of port numbers to {mode}"},
      {"PeerAuthenticationPortKeyNotScalar",
       "apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata: {name: p}\n"
       "spec: {selector: {matchLabels: {a: b}}, portLevelMtls: {[1]: {mode: STRICT}}}\n",
       " doc 1: spec.portLevelMtls: keys must be port numbers"},
      {"PeerAuthenticationPortTwice",
       "apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata: {name: p}\n"
       "spec: {selector: {matchLabels: {a: b}}, portLevelMtls: {8080: {mode: STRICT}, 08080: "
       "{mode: DISABLE}}}\n",
       " doc 1: spec.portLevelMtls.08080: port given twice"},
      {"ListItemError",
       "apiVersion: v1\nkind: List\nitems:\n- " + std::string("apiVersion: security.istio.io/v1\n  "
                                                              "kind: AuthorizationPolicy\n  "
                                                              "metadata: {name: a}\n  spec: "
                                                              "{action: 1}\n"),
       " doc 1: items[0].spec.action: \"1\" is not one of ALLOW, DENY, AUDIT, CUSTOM"},
      {"ListInList", "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: List}\n",
       " doc 1: items[0].kind: a List inside a List is not supported"},
  };
}

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class LoaderBadInputTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(LoaderBadInputTest, OneClearError) {
  const BadCase& c = GetParam();
  EXPECT_THAT(ErrorOf(c.text), StartsWith(absl::StrCat("authz.yaml", c.error)));
}

INSTANTIATE_TEST_SUITE_P(All, LoaderBadInputTest, ::testing::ValuesIn(BadCases()),
                         testing::CaseName());

TEST(LoaderTest, DeeplyNestedFlowYamlIsAnError) {
  std::string text = "spec: " + std::string(100000, '[') + std::string(100000, ']');
  EXPECT_THAT(ErrorOf(text), HasSubstr("nested too deeply"));
  EXPECT_THAT(ErrorOf(std::string(100000, '[')), HasSubstr("nested too deeply"));
  EXPECT_THAT(ErrorOf(std::string(100000, '{')), HasSubstr("nested too deeply"));
}

// Found by src/policy/fuzz: yaml-cpp 0.7's LoadAll looped forever, allocating, on these.
TEST(LoaderTest, StrayTopLevelCommaIsAnErrorNotAnEndlessLoop) {
  EXPECT_THAT(ErrorOf(","), HasSubstr(": not valid YAML: line 1, column 1: unexpected ','"));
  EXPECT_THAT(ErrorOf("{},\n"), HasSubstr(": not valid YAML: line 1, column 3: unexpected ','"));
  EXPECT_THAT(ErrorOf("kind: List\n...\n, x\n"),
              HasSubstr(": not valid YAML: line 3, column 1: unexpected ','"));
}

TEST(LoaderTest, DeeplyNestedBlockYamlIsAnError) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += std::string(i, ' ') + "- \n";
  EXPECT_THAT(ErrorOf(text), HasSubstr("nested too deeply"));
}

TEST(LoaderTest, AliasBombIsAnError) {
  // A thousand rules of a thousand sources of a thousand principals, in about 20 KB.
  std::string principals = "&p [a";
  for (int i = 1; i < 1000; ++i) principals += ",a";
  std::string from = "&f [&s {source: {principals: " + principals + "]}}";
  for (int i = 1; i < 1000; ++i) from += ", *s";
  std::string rules = "[&r {from: " + from + "]}";
  for (int i = 1; i < 1000; ++i) rules += ", *r";
  std::string text =
      "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
      "metadata: {name: a}\nspec: {rules: " +
      rules + "]}\n";
  std::string error = ErrorOf(text);
  EXPECT_THAT(error, StartsWith("authz.yaml doc 1: spec.rules[0].from["));
  EXPECT_THAT(error, HasSubstr("the document expands to more than a million elements"));
}

TEST(LoaderTest, RandomBytesAreAnError) {
  std::mt19937 rng(42);
  std::string bytes(5 * 1024 * 1024, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("not YAML text"));
  // Printable random text is parsed, and rejected as YAML or as an object.
  std::string printable(64 * 1024, ' ');
  for (char& c : printable) c = static_cast<char>(0x20 + rng() % 95);
  EXPECT_THAT(ErrorOf(printable), StartsWith("authz.yaml"));
}

class LoaderFilesTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_.path() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  meshid::testing::TempDir dir_;
};

TEST_F(LoaderFilesTest, ReadsDirectoryInNameOrder) {
  Write("b.yaml", Pa("b", "{}"));
  Write("a.yml", Pa("a", "{}"));
  Write("c.json",
        R"({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
            "metadata": {"name": "c"}, "spec": {}})");
  Write("notes.txt", "ignored");
  absl::StatusOr<LoadResult> r = LoadPolicyFiles({dir_.path()});
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<std::string> names;
  for (const auto& p : r->policies.peer_authentications) names.push_back(p.meta.name);
  EXPECT_THAT(names, ::testing::ElementsAre("a", "b", "c"));
}

TEST_F(LoaderFilesTest, NothingHalfLoaded) {
  std::string good = Write("good.yaml", Pa("a", "{}"));
  std::string bad = Write("bad.yaml", Pa("b", "{mtls: {mode: NOPE}}"));
  absl::StatusOr<LoadResult> r = LoadPolicyFiles({good, bad});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), StartsWith(bad + " doc 1: spec.mtls.mode"));
}

// A source that fails keeps none of its documents, not even those before the bad one.
TEST(LoaderTest, AFailedSourceAddsNothing) {
  Loader loader;
  ASSERT_TRUE(loader.AddText(Pa("a", "{}"), "good.yaml").ok());
  EXPECT_FALSE(loader.AddText(Pa("b", "{}") + Pa("c", "{mtls: {mode: NOPE}}"), "bad.yaml").ok());
  LoadResult result = std::move(loader).Finish();
  ASSERT_EQ(result.policies.peer_authentications.size(), 1u);
  EXPECT_EQ(result.policies.peer_authentications[0].meta.name, "a");
}

TEST_F(LoaderFilesTest, MissingAndTooLargeAndEmptyDirectory) {
  absl::StatusOr<LoadResult> r = LoadPolicyFiles({dir_.path() + "/nope.yaml"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  r = LoadPolicyFiles({dir_.path()});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("holds no .yaml"));
  std::string big = Write("big.yaml", std::string(kMaxPolicyFileBytes + 1, '#'));
  r = LoadPolicyFiles({big});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(big));
}

}  // namespace
}  // namespace meshid::policy
