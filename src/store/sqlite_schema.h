#pragma once

// Private to the store module: the SQLite schema and its migrations.

#include <cstdint>
#include <span>

#include <sqlite3.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace meshid::store::internal {

// kApplicationId marks a database file as meshid's (PRAGMA application_id, "mshd").
inline constexpr int64_t kApplicationId = 0x6D736864;

// SchemaMigrations returns the migration scripts in order: script i takes a database from
// schema version i to i + 1, so the newest known version is their count. Scripts are only
// ever appended; a released one never changes.
std::span<const char* const> SchemaMigrations();

// SchemaVersion returns the database's schema version (PRAGMA user_version; 0 when empty).
// `op` names the operation in errors.
absl::StatusOr<int64_t> SchemaVersion(sqlite3* db, absl::string_view op);

// ApplicationId returns PRAGMA application_id (0 when never set).
absl::StatusOr<int64_t> ApplicationId(sqlite3* db, absl::string_view op);

// Migrate applies to `db` the scripts of `migrations` it lacks, each with its version bump
// in its own transaction, and returns how many it applied. A database already at a version
// above the newest known is FailedPrecondition, naming `path`.
absl::StatusOr<int> Migrate(sqlite3* db, absl::string_view path,
                            std::span<const char* const> migrations);

}  // namespace meshid::store::internal
