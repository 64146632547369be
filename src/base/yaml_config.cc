#include "meshid/base/yaml_config.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "meshid/base/duration.h"

namespace meshid::base {
namespace {

// KnownUnder lists the known keys below `prefix` ("" for the top level), for messages.
std::string KnownUnder(const std::set<std::string>& known, const std::string& prefix) {
  std::set<std::string> names;
  for (const std::string& key : known) {
    if (key.compare(0, prefix.size(), prefix) != 0) continue;
    std::string rest = key.substr(prefix.size());
    names.insert(rest.substr(0, rest.find('.')));
  }
  return absl::StrJoin(names, ", ");
}

absl::Status Walk(const YAML::Node& map, const std::string& prefix,
                  const std::set<std::string>& known,
                  const std::function<absl::Status(const std::string&, const YAML::Node&)>& apply) {
  for (const auto& item : map) {
    if (!item.first.IsScalar()) {
      return absl::InvalidArgumentError(absl::StrCat(prefix, "<key>: keys must be plain names"));
    }
    std::string key = prefix + item.first.Scalar();
    const YAML::Node& value = item.second;
    if (known.count(key) != 0) {
      if (absl::Status s = apply(key, value); !s.ok()) return s;
      continue;
    }
    std::string below = KnownUnder(known, key + ".");
    if (!below.empty() && value.IsMap()) {
      if (absl::Status s = Walk(value, key + ".", known, apply); !s.ok()) return s;
      continue;
    }
    if (!below.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(key, ": expected a map of ", below));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("unknown key \"", key, "\" (known here: ", KnownUnder(known, prefix), ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> YamlScalar(const YAML::Node& node) {
  if (!node.IsScalar()) return absl::InvalidArgumentError("expected a single value");
  return node.Scalar();
}

absl::StatusOr<absl::Duration> YamlPositiveDuration(const YAML::Node& node) {
  absl::StatusOr<std::string> value = YamlScalar(node);
  if (!value.ok()) return value.status();
  absl::StatusOr<absl::Duration> d = ParseDuration(*value);
  if (!d.ok()) return d.status();
  if (*d <= absl::ZeroDuration()) return absl::InvalidArgumentError("must be positive");
  return *d;
}

absl::StatusOr<std::string> YamlOneOf(const YAML::Node& node,
                                      const std::set<std::string>& allowed) {
  absl::StatusOr<std::string> value = YamlScalar(node);
  if (!value.ok()) return value.status();
  if (allowed.count(*value) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", *value, "\" is not one of ", absl::StrJoin(allowed, ", ")));
  }
  return *value;
}

namespace internal {

absl::Status WalkYamlKeys(
    const YAML::Node& root, const std::set<std::string>& known,
    const std::function<absl::Status(const std::string&, const YAML::Node&)>& apply) {
  // yaml-cpp reports errors by throwing; this is the edge where they become a Status.
  try {
    return Walk(root, "", known, apply);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("not valid YAML: ", e.what()));
  }
}

absl::StatusOr<YAML::Node> LoadYamlMap(absl::string_view text) {
  try {
    YAML::Node doc = YAML::Load(std::string(text));
    if (doc.IsNull()) return absl::InvalidArgumentError("is empty");
    if (!doc.IsMap()) return absl::InvalidArgumentError("expected a map of settings");
    return doc;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("not valid YAML: ", e.what()));
  }
}

}  // namespace internal
}  // namespace meshid::base
