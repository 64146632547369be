#pragma once

// The checks of Lint, shared between lint.cc and lint_authz.cc.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "meshid/policy/lint.h"

namespace meshid::policy::internal {

// AddFinding appends a finding about the object described by `meta`.
void AddFinding(std::vector<Finding>& out, Severity severity, absl::string_view check,
                const ObjectMeta& meta, absl::string_view kind, std::string message,
                std::string related = "");

void CheckDefaultDeny(const PolicySet& set, const LintOptions& options, std::vector<Finding>& out);
void CheckPrincipals(const PolicySet& set, const LintOptions& options, std::vector<Finding>& out);
void CheckDenyHttpWithoutPorts(const PolicySet& set, std::vector<Finding>& out);
void CheckSelectors(const PolicySet& set, const LintOptions& options, std::vector<Finding>& out);

}  // namespace meshid::policy::internal
