#include "meshid/policy/destination_rule.h"

#include "gtest/gtest.h"
#include "policy_test_util.h"

namespace meshid::policy {
namespace {

using testing::Dr;

ClientTls Resolve(const std::string& yaml, const std::string& host, uint32_t port = 0,
                  const std::string& client_ns = "foo", Labels labels = {}) {
  PolicySet set = testing::MustLoad(yaml);
  ClientTlsQuery q;
  q.host = host;
  q.port = port;
  q.client_namespace = client_ns;
  q.client_labels = std::move(labels);
  return ResolveClientTls(set, q);
}

TEST(DestinationRuleTest, HostMatching) {
  EXPECT_TRUE(HostMatches("*", "a.b"));
  EXPECT_TRUE(HostMatches("*.example.com", "a.example.com"));
  EXPECT_TRUE(HostMatches("*.example.com", "a.b.example.com"));
  EXPECT_FALSE(HostMatches("*.example.com", "example.com"));
  EXPECT_TRUE(HostMatches("Reviews.bar.svc.cluster.local", "reviews.bar.svc.cluster.local"));
  EXPECT_FALSE(HostMatches("reviews.bar.svc.cluster.local", "reviews.foo.svc.cluster.local"));
  EXPECT_EQ(QualifyHost("reviews", "bar", "cluster.local"), "reviews.bar.svc.cluster.local");
  EXPECT_EQ(QualifyHost("reviews.bar", "x", "cluster.local"), "reviews.bar");
}

TEST(DestinationRuleTest, UnsetMeansAutoMtls) {
  ClientTls t = Resolve("", "reviews");
  EXPECT_EQ(t.mode, TlsMode::kUnset);
  EXPECT_EQ(t.policy, "");
  t = Resolve(Dr("r", "{host: reviews}"), "reviews");
  EXPECT_EQ(t.mode, TlsMode::kUnset);
  EXPECT_EQ(t.policy, "foo/r");
}

TEST(DestinationRuleTest, ModesAndShortNames) {
  for (const char* mode : {"DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"}) {
    ClientTls t =
        Resolve(Dr("r", absl::StrCat("{host: reviews, trafficPolicy: {tls: {mode: ", mode, "}}}")),
                "reviews.foo.svc.cluster.local");
    EXPECT_EQ(TlsModeName(t.mode), mode);
  }
  // A short name is qualified with the rule's namespace, not the client's.
  ClientTls t = Resolve(Dr("r", "{host: reviews, trafficPolicy: {tls: {mode: DISABLE}}}", "bar"),
                        "reviews.foo.svc.cluster.local");
  EXPECT_EQ(t.policy, "");
}

TEST(DestinationRuleTest, ExactBeatsWildcardAndLongerWildcardBeatsShorter) {
  std::string yaml =
      Dr("all", "{host: \"*\", trafficPolicy: {tls: {mode: DISABLE}}}") +
      Dr("wide", "{host: \"*.svc.cluster.local\", trafficPolicy: {tls: {mode: SIMPLE}}}") +
      Dr("narrow", "{host: \"*.foo.svc.cluster.local\", trafficPolicy: {tls: {mode: MUTUAL}}}") +
      Dr("exact",
         "{host: reviews.foo.svc.cluster.local, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}");
  EXPECT_EQ(Resolve(yaml, "reviews").policy, "foo/exact");
  EXPECT_EQ(Resolve(yaml, "ratings").policy, "foo/narrow");
  EXPECT_EQ(Resolve(yaml, "ratings.bar.svc.cluster.local").policy, "foo/wide");
  EXPECT_EQ(Resolve(yaml, "example.com").policy, "foo/all");
}

TEST(DestinationRuleTest, NamespaceLookupOrder) {
  std::string yaml =
      Dr("root", "{host: \"*.local\", trafficPolicy: {tls: {mode: DISABLE}}}", "istio-system") +
      Dr("svc", "{host: reviews, trafficPolicy: {tls: {mode: SIMPLE}}}", "bar") +
      Dr("client",
         "{host: reviews.bar.svc.cluster.local, trafficPolicy: {tls: "
         "{mode: MUTUAL}}}",
         "foo");
  EXPECT_EQ(Resolve(yaml, "reviews.bar.svc.cluster.local", 0, "foo").policy, "foo/client");
  EXPECT_EQ(Resolve(yaml, "reviews.bar.svc.cluster.local", 0, "other").policy, "bar/svc");
  EXPECT_EQ(Resolve(yaml, "ratings.bar.svc.cluster.local", 0, "other").policy, "istio-system/root");
}

TEST(DestinationRuleTest, ExportToAndWorkloadSelector) {
  std::string yaml =
      Dr("private", "{host: reviews, exportTo: [\".\"], trafficPolicy: {tls: {mode: DISABLE}}}",
         "bar");
  EXPECT_EQ(Resolve(yaml, "reviews.bar.svc.cluster.local", 0, "other").policy, "");
  EXPECT_EQ(Resolve(yaml, "reviews.bar.svc.cluster.local", 0, "bar").policy, "bar/private");
  yaml = Dr("plain", "{host: reviews, trafficPolicy: {tls: {mode: DISABLE}}}") +
         Dr("sel",
            "{host: reviews, workloadSelector: {matchLabels: {app: web}}, trafficPolicy: "
            "{tls: {mode: MUTUAL}}}");
  EXPECT_EQ(Resolve(yaml, "reviews", 0, "foo", {{"app", "web"}}).policy, "foo/sel");
  EXPECT_EQ(Resolve(yaml, "reviews", 0, "foo", {{"app", "db"}}).policy, "foo/plain");
}

TEST(DestinationRuleTest, OldestWinsAndPortLevel) {
  std::string yaml =
      Dr("new", "{host: reviews, trafficPolicy: {tls: {mode: DISABLE}}}", "foo",
         "2024-02-01T00:00:00Z") +
      Dr("old",
         "{host: reviews, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}, portLevelSettings: "
         "[{port: {number: 9080}, tls: {mode: DISABLE}}, {port: {number: 9090}}]}}",
         "foo", "2024-01-01T00:00:00Z");
  ClientTls t = Resolve(yaml, "reviews", 80);
  EXPECT_EQ(t.policy, "foo/old");
  EXPECT_EQ(t.mode, TlsMode::kIstioMutual);
  EXPECT_FALSE(t.port_level);
  t = Resolve(yaml, "reviews", 9080);
  EXPECT_EQ(t.mode, TlsMode::kDisable);
  EXPECT_TRUE(t.port_level);
  EXPECT_EQ(Resolve(yaml, "reviews", 9090).mode, TlsMode::kIstioMutual);  // port tls unset
}

}  // namespace
}  // namespace meshid::policy
