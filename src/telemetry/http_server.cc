#include "meshid/telemetry/http_server.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "httplib.h"

namespace meshid::telemetry {

absl::StatusOr<std::pair<std::string, int>> SplitHostPort(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("address \"", address, "\" is not host:port (e.g. 127.0.0.1:8080)"));
  }
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = -1;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("address \"", address, "\" has no valid port (0-65535)"));
  }
  return std::make_pair(host, port);
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& address,
                                                              const Metrics& metrics,
                                                              std::function<absl::Status()> ready) {
  absl::StatusOr<std::pair<std::string, int>> hp = SplitHostPort(address);
  if (!hp.ok()) return hp.status();
  std::unique_ptr<HttpServer> self(new HttpServer());
  self->server_ = std::make_unique<httplib::Server>();
  httplib::Server& server = *self->server_;
  server.Get("/metrics", [&metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.TextExposition(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server.Get(
      "/readyz", [ready = std::move(ready)](const httplib::Request&, httplib::Response& res) {
        absl::Status status = ready();
        res.status = status.ok() ? 200 : 503;
        res.set_content(status.ok() ? "ok\n" : absl::StrCat(status.message(), "\n"), "text/plain");
      });
  // httplib's default also sets SO_REUSEPORT, which lets a second process share the port
  // silently; allow only quick restarts (SO_REUSEADDR), so a taken port is an error.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  const auto& [host, port] = *hp;
  if (port == 0) {
    self->port_ = server.bind_to_any_port(host);
  } else {
    self->port_ = server.bind_to_port(host, port) ? port : -1;
  }
  if (self->port_ <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", address, " for HTTP (address in use, or not local?)"));
  }
  self->thread_ = std::thread([&server] { server.listen_after_bind(); });
  // httplib's stop() does nothing until the accept loop runs: wait for it, so that a server
  // destroyed right after Start() still stops. (cpp-httplib 0.11 has no wait_until_ready.)
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!server.is_running() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  if (!server.is_running()) return absl::InternalError("the HTTP server did not start");
  return self;
}

HttpServer::~HttpServer() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace meshid::telemetry
