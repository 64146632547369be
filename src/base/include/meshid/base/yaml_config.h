#pragma once

// Reading a process's YAML configuration file against a fixed set of keys, shared by
// `meshid ca serve` and `meshid agent run`: unknown keys and bad values are errors that
// name the file and the key.

#include <functional>
#include <map>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "yaml-cpp/yaml.h"

namespace meshid::base {

// YamlScalar returns the text of a scalar node, or InvalidArgument "expected a single value".
absl::StatusOr<std::string> YamlScalar(const YAML::Node& node);
// YamlPositiveDuration reads a scalar duration ("1h", "90s") that must be positive.
absl::StatusOr<absl::Duration> YamlPositiveDuration(const YAML::Node& node);
// YamlOneOf reads a scalar that must be one of `allowed`.
absl::StatusOr<std::string> YamlOneOf(const YAML::Node& node, const std::set<std::string>& allowed);

namespace internal {
// WalkYamlKeys calls `apply` for each leaf key of `root` ("section.key") that `known` holds,
// descending into maps whose prefix `known` holds; anything else is an error naming the key.
absl::Status WalkYamlKeys(
    const YAML::Node& root, const std::set<std::string>& known,
    const std::function<absl::Status(const std::string&, const YAML::Node&)>& apply);
// LoadYamlMap parses `text` as a YAML map (yaml-cpp errors become InvalidArgument).
absl::StatusOr<YAML::Node> LoadYamlMap(absl::string_view text);
}  // namespace internal

// YamlSchema maps every known key of a configuration, nested keys written "section.key",
// to the function that applies its value to a `Config`.
template <typename Config>
class YamlSchema {
 public:
  using Reader = std::function<absl::Status(const YAML::Node&, Config&)>;

  explicit YamlSchema(std::map<std::string, Reader> readers) : readers_(std::move(readers)) {
    for (const auto& [key, reader] : readers_) keys_.insert(key);
  }

  // Load applies `text` (from `source`, a file name for messages) to `config` and returns the
  // keys it set. Errors read "agent.yaml: renew_fraction: must be between 0 and 1".
  absl::StatusOr<std::set<std::string>> Load(absl::string_view text, absl::string_view source,
                                             Config& config) const {
    absl::StatusOr<YAML::Node> doc = internal::LoadYamlMap(text);
    if (!doc.ok()) return Prefixed(doc.status(), source);
    std::set<std::string> seen;
    absl::Status status = internal::WalkYamlKeys(
        *doc, keys_, [&](const std::string& key, const YAML::Node& value) -> absl::Status {
          absl::Status s = readers_.at(key)(value, config);
          if (!s.ok()) return Prefixed(s, key);
          seen.insert(key);
          return absl::OkStatus();
        });
    if (!status.ok()) return Prefixed(status, source);
    return seen;
  }

  // String reads a non-empty string into `field`.
  static Reader String(std::string Config::*field) {
    return [field](const YAML::Node& node, Config& config) -> absl::Status {
      absl::StatusOr<std::string> value = YamlScalar(node);
      if (!value.ok()) return value.status();
      if (value->empty()) return absl::InvalidArgumentError("must not be empty");
      config.*field = *value;
      return absl::OkStatus();
    };
  }

  // Duration reads a positive duration into `field`.
  static Reader Duration(absl::Duration Config::*field) {
    return [field](const YAML::Node& node, Config& config) -> absl::Status {
      absl::StatusOr<absl::Duration> value = YamlPositiveDuration(node);
      if (!value.ok()) return value.status();
      config.*field = *value;
      return absl::OkStatus();
    };
  }

 private:
  static absl::Status Prefixed(const absl::Status& s, absl::string_view context) {
    return absl::Status(s.code(), std::string(context) + ": " + std::string(s.message()));
  }

  std::map<std::string, Reader> readers_;
  std::set<std::string> keys_;
};

}  // namespace meshid::base
