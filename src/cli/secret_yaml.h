#pragma once

// Reading Kubernetes Secret manifests as `kubectl get secret -o yaml` prints them.

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "meshid/base/secret.h"

namespace meshid::cli {

struct KubernetesSecret {
  std::string name;
  std::string ns;
  std::string type;
  // Entries of `data` (base64-decoded) and `stringData`, in file order. Values may hold
  // private keys, hence SecretString.
  std::vector<std::pair<std::string, base::SecretString>> entries;

  // Find returns the entry named `key`, or nullptr.
  const base::SecretString* Find(absl::string_view key) const;
};

// LooksLikeKubernetesYaml reports whether `text` reads like a Kubernetes manifest rather
// than PEM or DER.
bool LooksLikeKubernetesYaml(absl::string_view text);

// ParseKubernetesSecret reads one Secret. Errors say what is wrong: not YAML, another kind,
// a value that is not base64.
absl::StatusOr<KubernetesSecret> ParseKubernetesSecret(absl::string_view text);

}  // namespace meshid::cli
