#include "secret_yaml.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meshid::cli {
namespace {

using ::testing::HasSubstr;

TEST(SecretYamlTest, ReadsDataAndStringData) {
  const char* yaml = R"(apiVersion: v1
kind: Secret
metadata:
  name: cacerts
  namespace: istio-system
type: Opaque
data:
  ca-cert.pem: aGVsbG8=
  empty: ""
stringData:
  note: plain text
)";
  ASSERT_TRUE(LooksLikeKubernetesYaml(yaml));
  absl::StatusOr<KubernetesSecret> secret = ParseKubernetesSecret(yaml);
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(secret->name, "cacerts");
  EXPECT_EQ(secret->ns, "istio-system");
  EXPECT_EQ(secret->type, "Opaque");
  ASSERT_NE(secret->Find("ca-cert.pem"), nullptr);
  EXPECT_EQ(secret->Find("ca-cert.pem")->view(), "hello");
  EXPECT_EQ(secret->Find("note")->view(), "plain text");
  EXPECT_EQ(secret->Find("missing"), nullptr);
}

TEST(SecretYamlTest, RejectsWhatIsNotASecret) {
  struct Case {
    std::string yaml;
    std::string message;
  } cases[] = {
      {"apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n", "\"ConfigMap\", expected a Secret"},
      {"apiVersion: v1\nkind: Secret\ndata:\n  a: '***'\n", "\"a\" is not valid base64"},
      {"apiVersion: v1\nkind: Secret\n", "holds no data"},
      {"apiVersion: v1\nkind: Secret\ndata: [1, 2]\n", "\"data\" is not a map"},
      {"apiVersion: v1\nkind: [unclosed\n", "not valid YAML"},
      {"- a\n- b\n", "not a YAML map"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<KubernetesSecret> secret = ParseKubernetesSecret(c.yaml);
    ASSERT_FALSE(secret.ok()) << c.yaml;
    EXPECT_THAT(std::string(secret.status().message()), HasSubstr(c.message)) << c.yaml;
  }
  EXPECT_FALSE(LooksLikeKubernetesYaml("-----BEGIN CERTIFICATE-----"));
}

}  // namespace
}  // namespace meshid::cli
