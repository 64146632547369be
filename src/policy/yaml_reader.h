#pragma once

// Typed reading of yaml-cpp nodes with field paths for messages ("spec.rules[0].to"). Private
// to the policy module.

#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "meshid/policy/model.h"
#include "yaml-cpp/yaml.h"

namespace meshid::policy::internal {

// ReadContext carries what one document's reading shares: where notes go and how many
// elements may still be read. yaml-cpp shares aliased nodes, so a small file can describe a
// huge tree ("billion laughs"); the budget stops that with an error instead of memory
// exhaustion.
struct ReadContext {
  std::vector<std::string>* notes = nullptr;
  std::string source;  // "authz.yaml doc 2", prefix of notes
  size_t budget = 1'000'000;

  // Spend takes `n` elements from the budget, or fails naming `path`.
  absl::Status Spend(size_t n, const std::string& path);
  void Note(const std::string& text);
};

// Field returns "path.key" ("key" when path is empty); Index returns "path[i]".
std::string Field(const std::string& path, absl::string_view key);
std::string Index(const std::string& path, size_t i);

// FieldError returns InvalidArgument "path: message".
absl::Status FieldError(const std::string& path, absl::string_view message);

// IsAbsent reports whether `node` is missing or null (`key:` or `key: ~`), which Kubernetes
// treats as unset.
bool IsAbsent(const YAML::Node& node);

// CheckFields requires `node` to be a map (or absent) whose keys are plain names, each in
// `known` and none repeated.
absl::Status CheckFields(const YAML::Node& node, const std::string& path,
                         std::initializer_list<absl::string_view> known);

// ExpectList requires a sequence (or absent).
absl::Status ExpectList(const YAML::Node& node, const std::string& path);

// ReadString reads a scalar: "expected a string" otherwise.
absl::StatusOr<std::string> ReadString(const YAML::Node& node, const std::string& path);
// ReadStringList reads a sequence of scalars (absent: empty).
absl::StatusOr<std::vector<std::string>> ReadStringList(const YAML::Node& node,
                                                        const std::string& path, ReadContext& ctx);
// ReadStringMap reads a map of scalars to scalars (absent: empty).
absl::StatusOr<Labels> ReadStringMap(const YAML::Node& node, const std::string& path,
                                     ReadContext& ctx);
// ReadPortText reads an integer port in [min, 65535] from `text`.
absl::StatusOr<uint32_t> ReadPortText(absl::string_view text, const std::string& path,
                                      uint32_t min);

}  // namespace meshid::policy::internal
