#pragma once

// Reading the `spec` of each supported kind (private to the policy module). Each function
// fills `out` from `spec` (which may be absent) or returns the first invalid field.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshid/policy/model.h"
#include "yaml-cpp/yaml.h"
#include "yaml_reader.h"

namespace meshid::policy::internal {

absl::StatusOr<WorkloadSelector> ParseSelector(const YAML::Node& node, const std::string& path,
                                               ReadContext& ctx);

absl::Status ParseAuthorizationPolicy(const YAML::Node& spec, const std::string& path,
                                      ReadContext& ctx, AuthorizationPolicy& out);
absl::Status ParsePeerAuthentication(const YAML::Node& spec, const std::string& path,
                                     ReadContext& ctx, PeerAuthentication& out);
absl::Status ParseDestinationRule(const YAML::Node& spec, const std::string& path, ReadContext& ctx,
                                  DestinationRule& out);

}  // namespace meshid::policy::internal
