#include "sqlite_schema.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "meshid/base/log.h"
#include "meshid/base/status.h"
#include "sqlite_util.h"

namespace meshid::store::internal {
namespace {

// Version 1. Times are integer Unix seconds, optional ones NULL; durations integer seconds.
// Every table is STRICT, so a value of the wrong type is an error rather than converted.
constexpr const char* kSchemaV1 = R"sql(
PRAGMA application_id = 1836279908;

-- Counters: entries_revision (bumped by every entry creation and deletion) and
-- bundle_sequence (bumped by every change to the trust bundle).
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('entries_revision', 0), ('bundle_sequence', 0);

CREATE TABLE issuing_cas (
  serial          TEXT PRIMARY KEY,
  slot            TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('prepared', 'active', 'retired')),
  certificate_der BLOB NOT NULL,
  key_path        TEXT NOT NULL,
  not_before      INTEGER NOT NULL,
  not_after       INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  activated_at    INTEGER
) STRICT;

CREATE TABLE join_tokens (
  token_hash TEXT PRIMARY KEY,
  node_name  TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER
) STRICT;

CREATE TABLE nodes (
  name           TEXT PRIMARY KEY,
  spiffe_id      TEXT NOT NULL,
  attested_at    INTEGER NOT NULL,
  svid_serial    TEXT NOT NULL,
  svid_not_after INTEGER NOT NULL,
  evicted        INTEGER NOT NULL CHECK (evicted IN (0, 1)),
  evicted_at     INTEGER
) STRICT;

-- selector_set is the entry's selectors in a canonical, unambiguous encoding (sorted,
-- each length-prefixed), so that the duplicate rule is one UNIQUE constraint.
CREATE TABLE entries (
  id           TEXT PRIMARY KEY,
  spiffe_id    TEXT NOT NULL,
  parent_id    TEXT NOT NULL,
  selector_set TEXT NOT NULL,
  ttl_seconds  INTEGER,
  hint         TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  revision     INTEGER NOT NULL,
  UNIQUE (spiffe_id, parent_id, selector_set)
) STRICT;
CREATE INDEX entries_by_parent ON entries (parent_id, revision);

CREATE TABLE entry_selectors (
  entry_id TEXT NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
  selector TEXT NOT NULL,
  PRIMARY KEY (entry_id, selector)
) STRICT, WITHOUT ROWID;
CREATE INDEX entry_selectors_by_selector ON entry_selectors (selector);

CREATE TABLE entry_dns_names (
  entry_id TEXT NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  dns_name TEXT NOT NULL,
  PRIMARY KEY (entry_id, position)
) STRICT, WITHOUT ROWID;

-- One row per deletion, at the revision of the deletion; an id deleted, re-created and
-- deleted again has two.
CREATE TABLE entry_tombstones (
  id        TEXT NOT NULL,
  parent_id TEXT NOT NULL,
  revision  INTEGER NOT NULL
) STRICT;
CREATE INDEX entry_tombstones_by_parent ON entry_tombstones (parent_id, revision);

CREATE TABLE issuances (
  serial            TEXT PRIMARY KEY,
  spiffe_id         TEXT NOT NULL,
  kind              TEXT NOT NULL,
  node              TEXT NOT NULL,
  issuing_ca_serial TEXT NOT NULL,
  not_before        INTEGER NOT NULL,
  not_after         INTEGER NOT NULL,
  issued_at         INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE bundle_roots (
  der      BLOB PRIMARY KEY,
  position INTEGER NOT NULL UNIQUE
) STRICT;
)sql";

// Version 2: the CA's JWT signing keys, published in the bundle (public halves only; the
// private keys are files in the data directory, like the issuing CAs').
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE jwt_keys (
  key_id         TEXT PRIMARY KEY,
  public_key_der BLOB NOT NULL,
  not_after      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
)sql";

constexpr const char* kMigrations[] = {kSchemaV1, kSchemaV2};

absl::StatusOr<int64_t> ReadIntPragma(sqlite3* db, absl::string_view op, absl::string_view sql) {
  MESHID_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(db, op, sql));
  MESHID_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return absl::InternalError(absl::StrCat(op, ": ", sql, " returned no row"));
  return stmt.ColumnInt(0);
}

absl::Status NewerSchemaError(absl::string_view path, int64_t version, size_t known) {
  return absl::FailedPreconditionError(absl::StrCat("database ", path,
                                                    " was written by a newer meshid (schema ",
                                                    version, ", this build knows ", known, ")"));
}

}  // namespace

std::span<const char* const> SchemaMigrations() { return kMigrations; }

absl::StatusOr<int64_t> SchemaVersion(sqlite3* db, absl::string_view op) {
  return ReadIntPragma(db, op, "PRAGMA user_version");
}

absl::StatusOr<int64_t> ApplicationId(sqlite3* db, absl::string_view op) {
  return ReadIntPragma(db, op, "PRAGMA application_id");
}

absl::StatusOr<int> Migrate(sqlite3* db, absl::string_view path,
                            std::span<const char* const> migrations) {
  const std::string op = absl::StrCat("migrate database ", path);
  const auto known = static_cast<int64_t>(migrations.size());
  MESHID_ASSIGN_OR_RETURN(int64_t version, SchemaVersion(db, op));
  if (version > known) return NewerSchemaError(path, version, migrations.size());
  int applied = 0;
  while (version < known) {
    MESHID_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db, op));
    // Another process may have migrated between the read above and taking the write lock.
    MESHID_ASSIGN_OR_RETURN(int64_t current, SchemaVersion(db, op));
    if (current > known) return NewerSchemaError(path, current, migrations.size());
    if (current != version) {
      version = current;
      continue;
    }
    const int64_t next = version + 1;
    const std::string step = absl::StrCat("apply schema version ", next, " to ", path);
    MESHID_RETURN_IF_ERROR(ExecScript(db, migrations[static_cast<size_t>(version)], step));
    // PRAGMA takes no bound parameters; `next` is a number computed here, not an input.
    const std::string bump = absl::StrCat("PRAGMA user_version = ", next);
    MESHID_RETURN_IF_ERROR(ExecScript(db, bump.c_str(), step));
    MESHID_RETURN_IF_ERROR(txn.Commit());
    base::Logger("store")->info("database {}: applied schema version {}", std::string(path), next);
    version = next;
    ++applied;
  }
  return applied;
}

}  // namespace meshid::store::internal
