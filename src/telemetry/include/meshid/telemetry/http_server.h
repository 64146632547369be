#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshid/telemetry/metrics.h"

namespace httplib {
class Server;
}

namespace meshid::telemetry {

// HttpServer serves a process's operational endpoints over plain HTTP:
//   GET /metrics  the Prometheus text exposition of `metrics`
//   GET /healthz  200 "ok" while the process runs
//   GET /readyz   200 "ok" when `ready()` is OK, else 503 with its message
class HttpServer {
 public:
  // Start listens on `address` ("host:port"; port 0 picks a free port) and serves from a
  // thread of its own. `metrics` must outlive the server.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const std::string& address,
                                                           const Metrics& metrics,
                                                           std::function<absl::Status()> ready);
  ~HttpServer();  // stops serving and joins the thread

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }

 private:
  HttpServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

// SplitHostPort splits "host:port" (or "[v6]:port") and checks the port is 0..65535.
absl::StatusOr<std::pair<std::string, int>> SplitHostPort(const std::string& address);

}  // namespace meshid::telemetry
