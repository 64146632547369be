#include "meshid/ca/config.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/testing/status.h"

namespace meshid::ca {
namespace {

using ::testing::HasSubstr;
using testing::MessageOf;

TEST(CaConfigTest, DefaultConfigParsesToTheDefaults) {
  absl::StatusOr<CaConfig> config = ParseCaConfig(DefaultCaConfigYaml(), "default.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  CaConfig defaults{*pki::TrustDomain::Parse("example.org")};
  EXPECT_EQ(config->trust_domain.name(), "example.org");
  EXPECT_EQ(config->listen, defaults.listen);
  EXPECT_EQ(config->admin_socket, defaults.admin_socket);
  EXPECT_EQ(config->issuing_ca_ttl, absl::Hours(24));
  EXPECT_EQ(config->svid_default_ttl, absl::Hours(1));
  EXPECT_EQ(config->svid_max_ttl, absl::Hours(24));
  EXPECT_EQ(config->node_svid_ttl, absl::Hours(24));
  EXPECT_EQ(config->sqlite_path, "/var/lib/meshid/ca/meshid.db") << "follows data_dir";
  EXPECT_FALSE(config->sqlite_full_sync);
}

TEST(CaConfigTest, ReadsEveryKey) {
  absl::StatusOr<CaConfig> config = ParseCaConfig(R"(
trust_domain: prod.example.org
listen: 0.0.0.0:9081
http_listen: 127.0.0.1:9080
admin_socket: /tmp/a.sock
data_dir: /srv/ca
upstream_dir: /srv/upstream
store: { sqlite: /srv/db/x.db, sync: full }
issuing_ca: { ttl: 12h, key_type: ec-p384 }
svid: { default_ttl: 30m, max_ttl: 2h }
node_svid_ttl: 6h
log_level: debug
)",
                                                  "ca.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->trust_domain.name(), "prod.example.org");
  EXPECT_EQ(config->sqlite_path, "/srv/db/x.db");
  EXPECT_TRUE(config->sqlite_full_sync);
  EXPECT_EQ(config->issuing_ca_key_type, pki::KeyType::kEcP384);
  EXPECT_EQ(config->svid_default_ttl, absl::Minutes(30));
  EXPECT_EQ(config->node_svid_ttl, absl::Hours(6));
  EXPECT_EQ(config->log_level, "debug");
}

TEST(CaConfigTest, ErrorsNameTheFileAndTheKey) {
  struct Case {
    std::string yaml;
    std::string message;
  } cases[] = {
      {"", "ca.yaml: is empty"},
      {"- a\n", "ca.yaml: expected a map"},
      {"trust_domain: [unclosed\n", "ca.yaml: not valid YAML"},
      {"listen: x\n", "ca.yaml: trust_domain: required"},
      {"trust_domain: Example.org\n", "ca.yaml: trust_domain: invalid trust domain"},
      {"trust_domain: a.org\nlistne: x\n", "ca.yaml: unknown key \"listne\""},
      {"trust_domain: a.org\nsvid: {defualt_ttl: 1h}\n", "unknown key \"svid.defualt_ttl\""},
      {"trust_domain: a.org\nsvid: {max_ttl: 1x}\n", "ca.yaml: svid.max_ttl: invalid duration"},
      {"trust_domain: a.org\nsvid: {max_ttl: 0s}\n", "svid.max_ttl: must be positive"},
      {"trust_domain: a.org\nsvid: {default_ttl: 2h, max_ttl: 1h}\n",
       "svid.default_ttl (2h) is longer than svid.max_ttl (1h)"},
      {"trust_domain: a.org\nissuing_ca: {key_type: dsa}\n",
       "issuing_ca.key_type: unknown key type"},
      {"trust_domain: a.org\nstore: {sync: sometimes}\n",
       "store.sync: \"sometimes\" is not one of"},
      {"trust_domain: a.org\nsvid: 5\n", "svid: expected a map of default_ttl, max_ttl"},
      {"trust_domain: a.org\nlisten: [a, b]\n", "listen: expected a single value"},
      {"trust_domain: a.org\nlog_level: loud\n", "log_level: \"loud\" is not one of"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<CaConfig> config = ParseCaConfig(c.yaml, "ca.yaml");
    ASSERT_FALSE(config.ok()) << c.yaml;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(MessageOf(config.status()), HasSubstr(c.message)) << c.yaml;
    EXPECT_EQ(MessageOf(config.status()).find('\n'), std::string::npos) << "one line";
  }
}

}  // namespace
}  // namespace meshid::ca
