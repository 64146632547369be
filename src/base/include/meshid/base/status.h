#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

// MESHID_RETURN_IF_ERROR(expr) returns the status of `expr` from the enclosing function when
// it is not OK.
#define MESHID_RETURN_IF_ERROR(expr)                                    \
  do {                                                                  \
    if (::absl::Status meshid_status_ = (expr); !meshid_status_.ok()) { \
      return meshid_status_;                                            \
    }                                                                   \
  } while (0)

#define MESHID_STATUS_CONCAT_INNER(a, b) a##b
#define MESHID_STATUS_CONCAT(a, b) MESHID_STATUS_CONCAT_INNER(a, b)

// MESHID_ASSIGN_OR_RETURN(lhs, expr) evaluates `expr` (an absl::StatusOr<T>), returns its
// status when it is not OK, and otherwise moves the value into `lhs` (a declaration or an
// lvalue).
#define MESHID_ASSIGN_OR_RETURN(lhs, expr) \
  MESHID_ASSIGN_OR_RETURN_IMPL(MESHID_STATUS_CONCAT(meshid_statusor_, __LINE__), lhs, expr)

// `lhs` may be a declaration, so it cannot be parenthesized.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define MESHID_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) {                                   \
    return std::move(tmp).status();                  \
  }                                                  \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)

namespace meshid::base {

// Annotate returns `status` with "`context`: " put before its message; OK stays OK.
inline absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok()) {
    return status;
  }
  return absl::Status(status.code(), absl::StrCat(context, ": ", status.message()));
}

}  // namespace meshid::base
