#include "meshid/policy/pods.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policy_test_util.h"

namespace meshid::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kGood = R"({
  "apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
  "items": [
    {"apiVersion": "v1", "kind": "Pod",
     "metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web"}},
     "spec": {
       "hostNetwork": true,
       "containers": [
         {"name": "app", "image": "nginx", "ports": [{"containerPort": 8080, "protocol": "TCP"}],
          "securityContext": {"privileged": true,
                              "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]}}},
         {"name": "meshid-proxy"}],
       "initContainers": [{"name": "init", "restartPolicy": "Always"}],
       "ephemeralContainers": [{"name": "debugger", "securityContext": null}]},
     "status": {"phase": "Running"}},
    {"metadata": {"name": "bare"}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}}
  ]})";

TEST(PodsTest, ReadsWhatTheAuditUses) {
  absl::StatusOr<PodList> list = ParsePodList(kGood, "pods.json");
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->pods.size(), 2u);
  const Pod& web = list->pods[0];
  EXPECT_EQ(web.FullName(), "shop/web-1");
  EXPECT_EQ(web.labels.at("app"), "web");
  EXPECT_TRUE(web.host_network);
  ASSERT_EQ(web.containers.size(), 4u);
  EXPECT_EQ(web.containers[0].name, "app");
  EXPECT_TRUE(web.containers[0].privileged);
  EXPECT_THAT(web.containers[0].add_capabilities, ElementsAre("NET_ADMIN"));
  EXPECT_THAT(web.containers[0].drop_capabilities, ElementsAre("ALL"));
  EXPECT_THAT(web.containers[0].ports, ElementsAre(8080u));
  EXPECT_EQ(web.containers[0].field, "items[0].spec.containers[0]");
  EXPECT_EQ(web.containers[2].kind, Container::Kind::kInit);
  EXPECT_EQ(web.containers[2].restart_policy, "Always");
  EXPECT_EQ(web.containers[3].kind, Container::Kind::kEphemeral);
  EXPECT_EQ(ContainerKindName(web.containers[3].kind), "ephemeralContainer");
  // No namespace is kubectl's default; no spec is a pod without containers.
  EXPECT_EQ(list->pods[1].FullName(), "default/bare");
  EXPECT_TRUE(list->pods[1].containers.empty());
  EXPECT_THAT(list->notes, ElementsAre("pods.json: items[2]: kind Service skipped"));
}

TEST(PodsTest, AcceptsAPodListAndAnEmptyList) {
  absl::StatusOr<PodList> list =
      ParsePodList(R"({"kind": "PodList", "items": [{"metadata": {"name": "a"}}]})", "p");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->pods.size(), 1u);
  list = ParsePodList(R"({"kind": "List", "items": []})", "p");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_TRUE(list->pods.empty());
  list = ParsePodList(R"({"kind": "List"})", "p");
  ASSERT_TRUE(list.ok()) << list.status();
}

struct BadCase {
  const char* name;
  std::string json;
  const char* error;  // the whole message
};

std::string OnePod(const std::string& spec) {
  return R"({"kind": "List", "items": [{"kind": "Pod", "metadata": {"name": "p"}, "spec": )" +
         spec + "}]}";
}

class PodsBadInputTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(PodsBadInputTest, OneClearErrorNamingTheField) {
  absl::StatusOr<PodList> list = ParsePodList(GetParam().json, "pods.json");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(list.status().message(), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    All, PodsBadInputTest,
    ::testing::Values(
        BadCase{"Array", "[]",
                "pods.json: expected a JSON object, a List of pods (kubectl get pods -A -o json)"},
        BadCase{"NoKind", R"({"items": []})", "pods.json: kind: is required"},
        BadCase{"SinglePod", R"({"kind": "Pod", "metadata": {"name": "p"}})",
                "pods.json: kind: expected List or PodList (kubectl get pods -A -o json), not "
                "\"Pod\""},
        BadCase{"KindNotString", R"({"kind": 3})", "pods.json: kind: expected a string"},
        BadCase{"ItemsNotList", R"({"kind": "List", "items": {}})",
                "pods.json: items: expected a list"},
        BadCase{"ItemNotObject", R"({"kind": "List", "items": ["p"]})",
                "pods.json: items[0]: expected an object (a Pod)"},
        BadCase{"NoMetadata", R"({"kind": "List", "items": [{"kind": "Pod"}]})",
                "pods.json: items[0].metadata: is required"},
        BadCase{"NoName", R"({"kind": "List", "items": [{"metadata": {}}]})",
                "pods.json: items[0].metadata.name: is required"},
        BadCase{"EmptyName", R"({"kind": "List", "items": [{"metadata": {"name": ""}}]})",
                "pods.json: items[0].metadata.name: must not be empty"},
        BadCase{"NamespaceNumber",
                R"({"kind": "List", "items": [{"metadata": {"name": "p", "namespace": 1}}]})",
                "pods.json: items[0].metadata.namespace: expected a string"},
        BadCase{"LabelNotString",
                R"({"kind": "List", "items": [{"metadata": {"name": "p", "labels": {"a": 1}}}]})",
                "pods.json: items[0].metadata.labels.a: expected a string"},
        BadCase{"SpecNotObject", OnePod("[]"), "pods.json: items[0].spec: expected an object"},
        BadCase{"HostNetworkString", OnePod(R"({"hostNetwork": "true"})"),
                "pods.json: items[0].spec.hostNetwork: expected true or false"},
        BadCase{"ContainersNotList", OnePod(R"({"containers": {"name": "a"}})"),
                "pods.json: items[0].spec.containers: expected a list"},
        BadCase{"ContainerNoName", OnePod(R"({"containers": [{}]})"),
                "pods.json: items[0].spec.containers[0].name: is required"},
        BadCase{"PrivilegedString",
                OnePod(R"({"containers": [{"name": "a", "securityContext": {"privileged": 1}}]})"),
                "pods.json: items[0].spec.containers[0].securityContext.privileged: expected "
                "true or false"},
        BadCase{"CapabilitiesNotObject", OnePod(R"({"containers": [{"name": "a",
                   "securityContext": {"capabilities": ["NET_ADMIN"]}}]})"),
                "pods.json: items[0].spec.containers[0].securityContext.capabilities: expected "
                "an object"},
        BadCase{"AddNotList", OnePod(R"({"containers": [{"name": "a",
                   "securityContext": {"capabilities": {"add": "NET_ADMIN"}}}]})"),
                "pods.json: items[0].spec.containers[0].securityContext.capabilities.add: "
                "expected a list of strings"},
        BadCase{"AddNumber", OnePod(R"({"initContainers": [{"name": "a",
                   "securityContext": {"capabilities": {"add": [12]}}}]})"),
                "pods.json: items[0].spec.initContainers[0].securityContext.capabilities.add: "
                "expected a list of strings"},
        BadCase{"PortOutOfRange",
                OnePod(R"({"containers": [{"name": "a", "ports": [{"containerPort": 70000}]}]})"),
                "pods.json: items[0].spec.containers[0].ports[0].containerPort: expected a port "
                "number (1-65535)"},
        BadCase{"PortNotObject", OnePod(R"({"containers": [{"name": "a", "ports": [8080]}]})"),
                "pods.json: items[0].spec.containers[0].ports[0]: expected an object (a container "
                "port)"},
        BadCase{"EphemeralNotObject", OnePod(R"({"ephemeralContainers": [1]})"),
                "pods.json: items[0].spec.ephemeralContainers[0]: expected an object (a "
                "container)"}),
    testing::CaseName());

TEST(PodsTest, SyntaxErrorsSayNotJson) {
  for (const char* text : {"", "{", "kind: List", "{\"kind\": \"List\",}", "\xff\xfe"}) {
    absl::StatusOr<PodList> list = ParsePodList(text, "pods.json");
    ASSERT_FALSE(list.ok()) << text;
    EXPECT_THAT(std::string(list.status().message()),
                ::testing::StartsWith("pods.json: not JSON: "))
        << text;
    EXPECT_THAT(std::string(list.status().message()), HasSubstr("line 1")) << text;
  }
}

TEST(PodsTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep = R"({"kind": "List", "items": [{"metadata": {"name": "p", "x": )";
  deep += std::string(100000, '[') + std::string(100000, ']') + "}}]}";
  absl::StatusOr<PodList> list = ParsePodList(deep, "pods.json");
  EXPECT_TRUE(list.ok()) << list.status();  // unknown fields are ignored, however deep
  std::string unclosed = std::string(200000, '[');
  EXPECT_FALSE(ParsePodList(unclosed, "pods.json").ok());
}

TEST(PodsTest, MissingFileIsNotFound) {
  absl::StatusOr<PodList> list = LoadPodFile("/nonexistent/pods.json");
  ASSERT_FALSE(list.ok());
  EXPECT_THAT(std::string(list.status().message()), HasSubstr("/nonexistent/pods.json"));
}

}  // namespace
}  // namespace meshid::policy
