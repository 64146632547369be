#pragma once

// Test helpers that run the real meshid binary: one-shot commands, and a CA server process.

#include <string>
#include <vector>

#include <sys/types.h>

#include "absl/status/status.h"

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

// CaProcess is a `meshid ca serve` process in `dir`, with its upstream made by
// `meshid pki init` in dir/pki, listening on ports the kernel picks.
class CaProcess {
 public:
  // `extra_config` is appended to the generated configuration (e.g. "issuing_ca: {ttl: 12s}").
  explicit CaProcess(std::string dir, std::string extra_config = "");
  ~CaProcess();

  // Start launches the server and waits (up to 30 s) for its "CA serving" log line.
  absl::Status Start();
  // Signal sends `sig` and waits for the process to end; returns its exit status (or
  // 128+signal).
  int Stop(int sig);

  int grpc_port() const { return grpc_port_; }
  int http_port() const { return http_port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(grpc_port_); }
  const std::string& dir() const { return dir_; }
  std::string admin_socket() const { return dir_ + "/run/admin.sock"; }
  std::string bundle_path() const { return dir_ + "/pki/intermediate/bundle.pem"; }
  std::string db_path() const { return dir_ + "/data/meshid.db"; }
  std::string upstream_dir() const { return dir_ + "/pki/intermediate"; }
  // Log returns what the server wrote to stderr so far.
  std::string Log() const;
  // Admin runs a meshid admin command against this server's socket.
  CommandResult Admin(std::vector<std::string> args) const;

 private:
  std::string dir_;
  pid_t pid_ = -1;
  int grpc_port_ = 0;
  int http_port_ = 0;
  int starts_ = 0;
};

}  // namespace meshid::integration
