#pragma once

// What `meshid policy lint --pods` and `meshid audit pods` need of the pods of a cluster, read
// from the output of `kubectl get pods -A -o json` (a v1 List, or a PodList).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "meshid/policy/model.h"

namespace meshid::policy {

// kMaxPodsFileBytes bounds one pods file: `kubectl get pods -A -o json` for a few thousand pods
// is tens of megabytes.
inline constexpr size_t kMaxPodsFileBytes = size_t{256} * 1024 * 1024;

struct Container {
  enum class Kind { kContainer, kInit, kEphemeral };
  Kind kind = Kind::kContainer;
  std::string name;
  bool privileged = false;                    // securityContext.privileged
  std::vector<std::string> add_capabilities;  // securityContext.capabilities.add, as written
  std::vector<std::string> drop_capabilities;
  std::string restart_policy;   // "Always" makes an init container a native sidecar
  std::vector<uint32_t> ports;  // ports[].containerPort
  std::string field;            // "items[3].spec.containers[0]", for messages
};

// ContainerKindName returns "container", "initContainer" or "ephemeralContainer".
absl::string_view ContainerKindName(Container::Kind kind);

struct Pod {
  std::string name;
  std::string namespace_name = "default";
  Labels labels;
  bool host_network = false;          // spec.hostNetwork
  std::vector<Container> containers;  // containers, then initContainers, then ephemeral ones
  std::string field;                  // "items[3]"

  // FullName returns "namespace/name".
  std::string FullName() const { return namespace_name + "/" + name; }
};

struct PodList {
  std::vector<Pod> pods;
  std::vector<std::string> notes;  // items that are not pods, skipped
};

// ParsePodList reads `text`, the JSON of `kubectl get pods -A -o json`. Fields meshid does not
// use are ignored, but every field it uses must have its Kubernetes type: InvalidArgument
// names `source` and the field path, e.g.
//   pods.json: items[3].spec.containers[0].securityContext.capabilities.add: expected a list of
//   strings
absl::StatusOr<PodList> ParsePodList(absl::string_view text, absl::string_view source);

// LoadPodFile reads and parses the file at `path` (named as given in messages).
absl::StatusOr<PodList> LoadPodFile(const std::string& path);

}  // namespace meshid::policy
