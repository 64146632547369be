#pragma once

// Test helpers that run the real meshid binary: one-shot commands, and a CA server process.

#include <string>
#include <vector>

#include <sys/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace meshid::integration {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// RunMeshid runs the meshid binary with `args` and collects its output.
CommandResult RunMeshid(const std::vector<std::string>& args);
// RunCommand runs `program` (looked up in PATH) with `args` and collects its output.
CommandResult RunCommand(const std::string& program, const std::vector<std::string>& args);

// ServerProcess is a long-running meshid process (ca serve, agent run) whose stderr and
// stdout go to a log file.
class ServerProcess {
 public:
  virtual ~ServerProcess();
  // Stop sends `sig` and waits for the process to end; returns its exit status (or
  // 128+signal).
  int Stop(int sig);
  bool running() const { return pid_ > 0; }
  // Log returns what the process wrote so far.
  std::string Log() const;

 protected:
  explicit ServerProcess(std::string log_path) : log_path_(std::move(log_path)) {}
  // Spawn runs meshid with `args` and waits (up to 30 s) for a log line matching `ready`,
  // whose groups it returns.
  absl::StatusOr<std::vector<std::string>> Spawn(const std::vector<std::string>& args,
                                                 const std::string& ready);

 private:
  std::string log_path_;
  pid_t pid_ = -1;
};

// CaProcess is a `meshid ca serve` process in `dir`, with its upstream made by
// `meshid pki init` in dir/pki, listening on ports the kernel picks.
class CaProcess : public ServerProcess {
 public:
  // `extra_config` is appended to the generated configuration (e.g. "issuing_ca: {ttl: 12s}").
  explicit CaProcess(std::string dir, std::string extra_config = "");

  // Start launches the server and waits (up to 30 s) for its "CA serving" log line.
  absl::Status Start();
  // PinPorts makes later starts listen on the ports of this one, so that agents configured
  // with them find the server again after a restart.
  void PinPorts();

  int grpc_port() const { return grpc_port_; }
  int http_port() const { return http_port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(grpc_port_); }
  const std::string& dir() const { return dir_; }
  std::string admin_socket() const { return dir_ + "/run/admin.sock"; }
  std::string bundle_path() const { return dir_ + "/pki/intermediate/bundle.pem"; }
  std::string db_path() const { return dir_ + "/data/meshid.db"; }
  std::string upstream_dir() const { return dir_ + "/pki/intermediate"; }
  // Admin runs a meshid admin command against this server's socket.
  CommandResult Admin(std::vector<std::string> args) const;

 private:
  std::string dir_;
  int grpc_port_ = 0;
  int http_port_ = 0;
};

// AgentProcess is a `meshid agent run` process in `dir`, attested to `ca` as `node` with a
// join token made for it.
class AgentProcess : public ServerProcess {
 public:
  AgentProcess(std::string dir, const CaProcess& ca, std::string node,
               std::string extra_config = "");

  // Start launches the agent (with `flags` after its --config) and waits (up to 30 s) for its
  // "agent running" log line.
  absl::Status Start(const std::vector<std::string>& flags = {});
  // NewJoinToken puts a fresh token for this node from `ca` into the configuration.
  void NewJoinToken(const CaProcess& ca);

  const std::string& dir() const { return dir_; }
  std::string data_dir() const { return dir_ + "/data"; }
  std::string socket_path() const { return dir_ + "/agent.sock"; }
  std::string socket_address() const { return "unix://" + socket_path(); }
  std::string node_id() const { return "spiffe://example.org/meshid/node/" + node_; }
  int http_port() const { return http_port_; }

 private:
  std::string dir_;
  std::string node_;
  int http_port_ = 0;
};

}  // namespace meshid::integration
