#include "meshid/agent/config.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/agent/workload_client.h"
#include "meshid/testing/status.h"

namespace meshid::agent {
namespace {

using ::testing::HasSubstr;
using testing::MessageOf;

TEST(AgentConfigTest, DefaultConfigParsesToTheDefaults) {
  absl::StatusOr<AgentConfig> config = ParseAgentConfig(DefaultAgentConfigYaml(), "agent.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  AgentConfig defaults{*pki::TrustDomain::Parse("example.org")};
  EXPECT_EQ(config->trust_domain.name(), "example.org");
  EXPECT_EQ(config->ca_address, defaults.ca_address);
  EXPECT_EQ(config->socket_path, defaults.socket_path);
  EXPECT_EQ(config->trust_bundle, "/etc/meshid/bundle.pem");
  EXPECT_EQ(config->renew_fraction, 0.5);
  EXPECT_EQ(config->sync_interval, absl::Seconds(5));
  EXPECT_FALSE(config->node_name.empty()) << "defaults to the host name";
  EXPECT_TRUE(config->join_token.empty());
}

TEST(AgentConfigTest, ReadsTheDocumentedKeys) {
  absl::StatusOr<AgentConfig> config = ParseAgentConfig(R"(
trust_domain: example.org
ca_address: 10.0.0.1:8081
data_dir: /var/lib/meshid/agent
join_token: abc123
trust_bundle: /etc/meshid/bundle.pem
socket_path: /run/meshid/agent.sock
http_listen: 127.0.0.1:8082
node_name: node1
renew_fraction: 0.7
sync_interval: 30s
)",
                                                        "agent.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->ca_address, "10.0.0.1:8081");
  EXPECT_EQ(config->join_token, "abc123");
  EXPECT_EQ(config->node_name, "node1");
  EXPECT_EQ(config->renew_fraction, 0.7);
  EXPECT_EQ(config->sync_interval, absl::Seconds(30));
}

TEST(AgentConfigTest, ErrorsNameTheFileAndTheKey) {
  struct Case {
    std::string yaml;
    std::string message;
  } cases[] = {
      {"", "agent.yaml: is empty"},
      {"node_name: x\n", "agent.yaml: trust_domain: required"},
      {"trust_domain: a.org\nca_adress: x\n", "agent.yaml: unknown key \"ca_adress\""},
      {"trust_domain: a.org\nrenew_fraction: 1.5\n", "renew_fraction: \"1.5\" is not a number"},
      {"trust_domain: a.org\nrenew_fraction: half\n", "renew_fraction: \"half\" is not a number"},
      {"trust_domain: a.org\nsync_interval: -1s\n", "sync_interval:"},
      {"trust_domain: a.org\nsocket_path: \"\"\n", "socket_path: must not be empty"},
      {"trust_domain: a.org\njoin_token: [a]\n", "join_token: expected a single value"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<AgentConfig> config = ParseAgentConfig(c.yaml, "agent.yaml");
    ASSERT_FALSE(config.ok()) << c.yaml;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(MessageOf(config.status()), HasSubstr(c.message)) << c.yaml;
    EXPECT_EQ(MessageOf(config.status()).find('\n'), std::string::npos) << "one line";
  }
}

TEST(WorkloadApiTargetTest, AcceptsTheSpiffeEndpointForms) {
  EXPECT_EQ(*WorkloadApiTarget("unix:///run/a.sock"), "unix:/run/a.sock");
  EXPECT_EQ(*WorkloadApiTarget("/run/a.sock"), "unix:/run/a.sock");
  EXPECT_EQ(*WorkloadApiTarget("tcp://127.0.0.1:9000"), "127.0.0.1:9000");
  for (const char* bad : {"unix://relative.sock", "http://x", "", "tcp://", "run/a.sock"}) {
    absl::StatusOr<std::string> target = WorkloadApiTarget(bad);
    EXPECT_EQ(target.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace meshid::agent
