#pragma once

namespace meshid::api {

// RouteGrpcLogs sends gRPC's own log lines to the "grpc" logger (stderr, timestamped, like
// every meshid log line) instead of gRPC's raw format: its errors become warnings (they
// mostly echo a status meshid reports itself, or a peer's failed TLS handshake), the rest
// debug. Call once, before any gRPC object is created.
void RouteGrpcLogs();

}  // namespace meshid::api
