#include "meshid/agent/agent.h"

#include "agent_metrics.h"
#include "manager.h"
#include "meshid/base/files.h"
#include "meshid/base/log.h"
#include "meshid/base/status.h"
#include "meshid/telemetry/http_server.h"
#include "svid_cache.h"
#include "workload_api.h"
#include "workload_attestor.h"

namespace meshid::agent {
namespace {

class AgentImpl final : public Agent {
 public:
  explicit AgentImpl(const AgentConfig& config) : config_(config), agent_metrics_(metrics_) {}
  ~AgentImpl() override { Shutdown(); }

  absl::Status Init(const AgentOptions& options, const base::Clock& clock) {
    if (options.insecure_bootstrap) {
      base::Logger("agent")->warn(
          "--insecure-bootstrap: the first attestation trusts whatever certificate answers at {}; "
          "use trust_bundle outside a lab",
          config_.ca_address);
    }
    MESHID_ASSIGN_OR_RETURN(manager_, Manager::Start(config_, options.insecure_bootstrap, clock,
                                                     cache_, agent_metrics_));
    MESHID_ASSIGN_OR_RETURN(workload_api_,
                            WorkloadApiServer::Start(config_.socket_path, cache_, agent_metrics_,
                                                     attestor_, manager_.get()));
    MESHID_ASSIGN_OR_RETURN(http_,
                            telemetry::HttpServer::Start(config_.http_listen, metrics_,
                                                         [this] { return manager_->Ready(); }));
    base::Logger("agent")->info("agent running: Workload API on {}, metrics on port {}",
                                config_.socket_path, http_->port());
    return absl::OkStatus();
  }

  void Shutdown() override {
    cache_.Shutdown();
    if (workload_api_ != nullptr) workload_api_->Shutdown();
    if (manager_ != nullptr) manager_->Stop();
    http_.reset();
  }

  int http_port() const override { return http_ != nullptr ? http_->port() : 0; }

 private:
  const AgentConfig config_;
  telemetry::Metrics metrics_;
  AgentMetrics agent_metrics_;
  SvidCache cache_;
  WorkloadAttestor attestor_;
  std::unique_ptr<Manager> manager_;
  std::unique_ptr<WorkloadApiServer> workload_api_;
  std::unique_ptr<telemetry::HttpServer> http_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Agent>> Agent::Start(const AgentConfig& config,
                                                    const AgentOptions& options,
                                                    const base::Clock& clock) {
  auto agent = std::make_unique<AgentImpl>(config);
  MESHID_RETURN_IF_ERROR(agent->Init(options, clock));
  return agent;
}

}  // namespace meshid::agent
