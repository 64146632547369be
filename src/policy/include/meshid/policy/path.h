#pragma once

// Normalizing an HTTP request path before policy matching, as Envoy does for Istio
// (normalize_path plus merge_slashes): the query and fragment are dropped, percent-encoded
// unreserved characters are decoded (other escapes kept, hex upper-cased, so "%2F" stays an
// escaped slash), "." and ".." segments are resolved, repeated slashes merged.

#include <string>

#include "absl/strings/string_view.h"

namespace meshid::policy {

struct NormalizedPath {
  enum class Status {
    kOk,
    kInvalid,      // not an origin-form request target (no leading '/', bad escape, bad byte)
    kEscapesRoot,  // a ".." segment climbs above "/"
  };
  Status status = Status::kOk;
  std::string path;    // the normalized path when kOk
  std::string detail;  // what is wrong otherwise
};

// NormalizePath normalizes `target` ("/a/%2E%2E/b?x=1" becomes "/b").
NormalizedPath NormalizePath(absl::string_view target);

}  // namespace meshid::policy
