#include "meshid/policy/audit.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policy_test_util.h"

namespace meshid::policy {
namespace {

using ::testing::HasSubstr;
using testing::MustLoad;
using testing::Pa;
using ::testing::UnorderedElementsAreArray;

// PodJson returns one pod in namespace `ns` with labels app=<name> and `spec`.
std::string PodJson(absl::string_view ns, absl::string_view name, absl::string_view spec) {
  return absl::StrCat(R"({"kind": "List", "items": [{"kind": "Pod", "metadata": {"name": ")", name,
                      R"(", "namespace": ")", ns, R"(", "labels": {"app": ")", name,
                      R"("}}, "spec": )", spec, "}]}");
}

struct AuditCase {
  const char* name;
  std::string pods;                 // pods.json text
  std::string policies;             // YAML
  std::vector<std::string> expect;  // "check ns/pod container"
  std::vector<std::string> proxies = {"meshid-proxy"};
};

class AuditTableTest : public ::testing::TestWithParam<AuditCase> {};

TEST_P(AuditTableTest, ReportsExactlyTheExpectedFindings) {
  const AuditCase& c = GetParam();
  absl::StatusOr<PodList> pods = ParsePodList(c.pods, "pods.json");
  ASSERT_TRUE(pods.ok()) << pods.status();
  AuditOptions options;
  options.proxy_containers = c.proxies;
  std::vector<std::string> got;
  for (const AuditFinding& f : AuditPods(pods->pods, MustLoad(c.policies), options)) {
    EXPECT_FALSE(f.message.empty());
    got.push_back(absl::StrCat(f.check, " ", f.namespace_name, "/", f.pod, " ", f.container));
  }
  EXPECT_THAT(got, UnorderedElementsAreArray(c.expect)) << c.pods;
}

const std::string kStrictFoo = Pa("default", "{mtls: {mode: STRICT}}", "foo");
const std::string kProxy = R"({"name": "meshid-proxy"})";

std::string Caps(absl::string_view field, absl::string_view add, absl::string_view extra = "") {
  return absl::StrCat(R"({")", field, R"(": [{"name": "c", "securityContext": {"capabilities": )",
                      R"({"add": )", add, R"(, "drop": ["ALL"]})", extra, "}}]}");
}

INSTANTIATE_TEST_SUITE_P(
    All, AuditTableTest,
    ::testing::Values(
        AuditCase{"NetAdmin",
                  PodJson("a", "p", Caps("containers", R"(["NET_ADMIN"])")),
                  "",
                  {"pod.net_admin a/p c"}},
        AuditCase{"NetRawInInitContainer",
                  PodJson("a", "p", Caps("initContainers", R"(["NET_RAW"])")),
                  "",
                  {"pod.net_raw a/p c"}},
        AuditCase{"CapPrefixAndCaseInEphemeralContainer",
                  PodJson("a", "p", Caps("ephemeralContainers", R"(["cap_net_admin"])")),
                  "",
                  {"pod.net_admin a/p c"}},
        AuditCase{"AllIsBoth",
                  PodJson("a", "p", Caps("containers", R"(["ALL"])")),
                  "",
                  {"pod.net_admin a/p c", "pod.net_raw a/p c"}},
        AuditCase{"OtherCapabilitiesAreFine",
                  PodJson("a", "p", Caps("containers", R"(["NET_BIND_SERVICE", "CHOWN"])")),
                  "",
                  {}},
        AuditCase{
            "Privileged",
            PodJson("a", "p",
                    R"({"containers": [{"name": "c", "securityContext": {"privileged": true}}]})"),
            "",
            {"pod.privileged a/p c"}},
        AuditCase{
            "NotPrivileged",
            PodJson("a", "p",
                    R"({"containers": [{"name": "c", "securityContext": {"privileged": false}}]})"),
            "",
            {}},
        AuditCase{"HostNetwork",
                  PodJson("a", "p", R"({"hostNetwork": true, "containers": [{"name": "c"}]})"),
                  "",
                  {"pod.host_network a/p "}},
        AuditCase{"HostNetworkFalse",
                  PodJson("a", "p", R"({"hostNetwork": false, "containers": [{"name": "c"}]})"),
                  "",
                  {}},
        AuditCase{"NoProxyUnderNamespaceStrict",
                  PodJson("foo", "p", R"({"containers": [{"name": "c"}]})"),
                  kStrictFoo,
                  {"pod.no_proxy_under_strict foo/p "}},
        AuditCase{"NoProxyUnderMeshStrict",
                  PodJson("foo", "p", R"({"containers": [{"name": "c"}]})"),
                  Pa("default", "{mtls: {mode: STRICT}}", "istio-system"),
                  {"pod.no_proxy_under_strict foo/p "}},
        AuditCase{"NoProxyUnderWorkloadStrict",
                  PodJson("foo", "p", R"({"containers": [{"name": "c"}]})"),
                  Pa("p", "{selector: {matchLabels: {app: p}}, mtls: {mode: STRICT}}", "foo"),
                  {"pod.no_proxy_under_strict foo/p "}},
        AuditCase{"NoProxyWithAStrictContainerPort",
                  PodJson("foo", "p",
                          R"({"containers": [{"name": "c", "ports": [{"containerPort": 8080}]}]})"),
                  Pa("p",
                     "{selector: {matchLabels: {app: p}}, portLevelMtls: {8080: {mode: "
                     "STRICT}}}",
                     "foo"),
                  {"pod.no_proxy_under_strict foo/p "}},
        AuditCase{"NoProxyWhereWorkloadOverridesToPermissive",
                  PodJson("foo", "p", R"({"containers": [{"name": "c"}]})"),
                  kStrictFoo + Pa("p",
                                  "{selector: {matchLabels: {app: p}}, mtls: {mode: "
                                  "PERMISSIVE}}",
                                  "foo"),
                  {}},
        AuditCase{"NoProxyOutsideStrict",
                  PodJson("bar", "p", R"({"containers": [{"name": "c"}]})"),
                  kStrictFoo,
                  {}},
        AuditCase{"NoProxyWithoutPolicies",
                  PodJson("foo", "p", R"({"containers": [{"name": "c"}]})"),
                  "",
                  {}},
        AuditCase{
            "MeshidProxy",
            PodJson("foo", "p", absl::StrCat(R"({"containers": [{"name": "c"}, )", kProxy, "]}")),
            kStrictFoo,
            {}},
        AuditCase{"IstioProxyIsAlwaysRecognised",
                  PodJson("foo", "p", R"({"containers": [{"name": "istio-proxy"}]})"),
                  kStrictFoo,
                  {},
                  {"envoy"}},
        AuditCase{"CustomProxyName",
                  PodJson("foo", "p", R"({"containers": [{"name": "envoy"}]})"),
                  kStrictFoo,
                  {},
                  {"envoy"}},
        AuditCase{"CustomProxyNameReplacesTheDefault",
                  PodJson("foo", "p", absl::StrCat(R"({"containers": [)", kProxy, "]}")),
                  kStrictFoo,
                  {"pod.no_proxy_under_strict foo/p "},
                  {"envoy"}},
        AuditCase{"NativeSidecarInitContainer",
                  PodJson("foo", "p",
                          R"({"containers": [{"name": "c"}], "initContainers": [{"name": )"
                          R"("istio-proxy", "restartPolicy": "Always"}]})"),
                  kStrictFoo,
                  {}},
        AuditCase{"ProxyNamedInitContainerThatExitsIsNoProxy",
                  PodJson("foo", "p",
                          R"({"containers": [{"name": "c"}], "initContainers": [{"name": )"
                          R"("istio-proxy"}]})"),
                  kStrictFoo,
                  {"pod.no_proxy_under_strict foo/p "}},
        AuditCase{
            "EverythingAtOnce",
            PodJson("foo", "p",
                    R"({"hostNetwork": true, "containers": [{"name": "c", "securityContext": )"
                    R"({"privileged": true, "capabilities": {"add": ["NET_RAW"]}}}]})"),
            kStrictFoo,
            {"pod.host_network foo/p ", "pod.net_raw foo/p c", "pod.privileged foo/p c",
             "pod.no_proxy_under_strict foo/p "}}),
    testing::CaseName());

TEST(AuditTest, FindingsNameContainerKindPolicyAndReason) {
  absl::StatusOr<PodList> pods =
      ParsePodList(PodJson("foo", "p",
                           R"({"containers": [{"name": "c"}], "initContainers": [{"name": )"
                           R"("istio-init", "securityContext": {"capabilities": {"add": )"
                           R"(["NET_ADMIN"]}}}]})"),
                   "pods.json");
  ASSERT_TRUE(pods.ok()) << pods.status();
  std::vector<AuditFinding> findings = AuditPods(pods->pods, MustLoad(kStrictFoo), {});
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_EQ(findings[0].check, kAuditNetAdmin);
  EXPECT_EQ(findings[0].container, "istio-init");
  EXPECT_EQ(findings[0].container_kind, "initContainer");
  EXPECT_THAT(findings[0].message, HasSubstr("NET_ADMIN"));
  EXPECT_THAT(findings[0].message, HasSubstr("CNI"));
  EXPECT_EQ(findings[1].check, kAuditNoProxy);
  EXPECT_EQ(findings[1].policy, "foo/default");
  EXPECT_THAT(findings[1].message, HasSubstr("meshid-proxy or istio-proxy"));
  EXPECT_THAT(findings[1].message, HasSubstr("STRICT"));
}

}  // namespace
}  // namespace meshid::policy
