#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace meshid::api {

// ToGrpcStatus maps an absl::Status to the grpc::Status with the same canonical code and
// message. It is the only place the two meet.
grpc::Status ToGrpcStatus(const absl::Status& status);

// FromGrpcStatus is the inverse, for clients.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace meshid::api
