#include "secret_yaml.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "yaml-cpp/yaml.h"

namespace meshid::cli {

const base::SecretString* KubernetesSecret::Find(absl::string_view key) const {
  for (const auto& [name, value] : entries) {
    if (name == key) return &value;
  }
  return nullptr;
}

bool LooksLikeKubernetesYaml(absl::string_view text) {
  return absl::StrContains(text, "apiVersion:") && absl::StrContains(text, "kind:");
}

absl::StatusOr<KubernetesSecret> ParseKubernetesSecret(absl::string_view text) {
  // yaml-cpp reports errors by throwing; this is the edge where they become a Status.
  try {
    YAML::Node doc = YAML::Load(std::string(text));
    if (!doc.IsMap())
      return absl::InvalidArgumentError("not a Kubernetes manifest (not a YAML map)");
    std::string kind = doc["kind"] ? doc["kind"].as<std::string>() : "";
    if (kind != "Secret") {
      return absl::InvalidArgumentError(
          absl::StrCat("is a Kubernetes \"", kind, "\", expected a Secret"));
    }
    KubernetesSecret secret;
    if (YAML::Node meta = doc["metadata"]; meta && meta.IsMap()) {
      if (meta["name"]) secret.name = meta["name"].as<std::string>();
      if (meta["namespace"]) secret.ns = meta["namespace"].as<std::string>();
    }
    if (doc["type"]) secret.type = doc["type"].as<std::string>();
    if (YAML::Node data = doc["data"]; data) {
      if (!data.IsMap()) return absl::InvalidArgumentError("Secret \"data\" is not a map");
      for (const auto& item : data) {
        std::string key = item.first.as<std::string>();
        std::string decoded;
        if (!absl::Base64Unescape(item.second.as<std::string>(), &decoded)) {
          return absl::InvalidArgumentError(
              absl::StrCat("Secret data \"", key, "\" is not valid base64"));
        }
        secret.entries.emplace_back(key, base::SecretString(std::move(decoded)));
      }
    }
    if (YAML::Node data = doc["stringData"]; data && data.IsMap()) {
      for (const auto& item : data) {
        secret.entries.emplace_back(item.first.as<std::string>(),
                                    base::SecretString(item.second.as<std::string>()));
      }
    }
    if (secret.entries.empty()) return absl::InvalidArgumentError("the Secret holds no data");
    return secret;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("not valid YAML: ", e.what()));
  }
}

}  // namespace meshid::cli
