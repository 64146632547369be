#pragma once

// Loading Istio policy YAML: files or directories, multi-document files and `kind: List`.
// Loading is all-or-nothing: the first invalid field anywhere fails the whole load with an
// error naming the file, the document and the field path, e.g.
//   authz.yaml doc 2: spec.rules[0].from[0].source.principals: expected a list of strings

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "meshid/policy/model.h"

namespace meshid::policy {

// kMaxPolicyFileBytes bounds one input file: a Kubernetes object is at most ~1.5 MB (etcd's
// request limit), and a file of many policies is still far below this.
inline constexpr size_t kMaxPolicyFileBytes = size_t{4} * 1024 * 1024;

// kAlsoDefinedIn is in the note about an object defined twice ("a.yaml doc 2:
// PeerAuthentication foo/default is also defined in b.yaml doc 1; ..."); lint reports those
// as load.duplicate.
inline constexpr absl::string_view kAlsoDefinedIn = " is also defined in ";

struct LoadResult {
  PolicySet policies;
  // notes lists what was read but not used: other kinds, ignored fields ("x.yaml doc 3: kind
  // Service (v1) skipped").
  std::vector<std::string> notes;
};

// LoadPolicyFiles reads every path: a file, or a directory whose *.yaml, *.yml and *.json
// files (not recursively, in name order) are read as kubectl does. InvalidArgument names the
// file, the document and the field; NotFound a missing path.
absl::StatusOr<LoadResult> LoadPolicyFiles(const std::vector<std::string>& paths);

// Loader accumulates documents from several sources; Finish() orders the policies (oldest
// first) and notes objects defined twice (both are kept; see loader.cc).
class Loader {
 public:
  // AddText parses `text` read from `source` (a file name, for messages).
  absl::Status AddText(absl::string_view text, absl::string_view source);
  LoadResult Finish() &&;

 private:
  LoadResult result_;
  size_t next_order_ = 0;
};

}  // namespace meshid::policy
