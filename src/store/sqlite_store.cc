#include "sqlite_store.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "meshid/base/status.h"

namespace meshid::store::internal {
namespace {

absl::Status RequireNonEmpty(absl::string_view what, absl::string_view value) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  return absl::OkStatus();
}

// Reword replaces the message of `status` when it has `code`: a constraint failure then
// reads as what it means to the caller rather than as SQLite's wording.
absl::Status Reword(absl::Status status, absl::StatusCode code, absl::string_view message) {
  if (status.code() == code) return {code, message};
  return status;
}

const char* SlotStateName(SlotState state) {
  switch (state) {
    case SlotState::kPrepared:
      return "prepared";
    case SlotState::kActive:
      return "active";
    case SlotState::kRetired:
      return "retired";
  }
  return "prepared";
}

absl::StatusOr<SlotState> ParseSlotState(absl::string_view name) {
  if (name == "prepared") return SlotState::kPrepared;
  if (name == "active") return SlotState::kActive;
  if (name == "retired") return SlotState::kRetired;
  return absl::InternalError(absl::StrCat("issuing CA journal holds unknown state '", name, "'"));
}

IssuingCaRecord ReadIssuingCaColumns(const Statement& row) {
  IssuingCaRecord r;
  r.serial = row.ColumnText(0);
  r.slot = row.ColumnText(1);
  r.certificate_der = row.ColumnBlob(3);
  r.key_path = row.ColumnText(4);
  r.not_before = row.ColumnTime(5);
  r.not_after = row.ColumnTime(6);
  r.created_at = row.ColumnTime(7);
  r.activated_at = row.ColumnOptionalTime(8);
  return r;
}

JoinTokenRecord ReadJoinToken(const Statement& row) {
  JoinTokenRecord r;
  r.token_hash = row.ColumnText(0);
  r.node_name = row.ColumnText(1);
  r.created_at = row.ColumnTime(2);
  r.expires_at = row.ColumnTime(3);
  r.used_at = row.ColumnOptionalTime(4);
  return r;
}

NodeRecord ReadNode(const Statement& row) {
  NodeRecord r;
  r.name = row.ColumnText(0);
  r.spiffe_id = row.ColumnText(1);
  r.attested_at = row.ColumnTime(2);
  r.svid_serial = row.ColumnText(3);
  r.svid_not_after = row.ColumnTime(4);
  r.evicted = row.ColumnInt(5) != 0;
  r.evicted_at = row.ColumnOptionalTime(6);
  return r;
}

IssuanceRecord ReadIssuance(const Statement& row) {
  IssuanceRecord r;
  r.serial = row.ColumnText(0);
  r.spiffe_id = row.ColumnText(1);
  r.kind = row.ColumnText(2);
  r.node = row.ColumnText(3);
  r.issuing_ca_serial = row.ColumnText(4);
  r.not_before = row.ColumnTime(5);
  r.not_after = row.ColumnTime(6);
  r.issued_at = row.ColumnTime(7);
  return r;
}

constexpr absl::string_view kInsertIssuance =
    "INSERT INTO issuances (serial, spiffe_id, kind, node, issuing_ca_serial, not_before, "
    "not_after, issued_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

// InsertIssuance runs `insert` (a prepared kInsertIssuance) for one record.
absl::Status InsertIssuance(absl::string_view op, Statement& insert, const IssuanceRecord& r) {
  MESHID_RETURN_IF_ERROR(RequireNonEmpty("issuance serial", r.serial));
  insert.Reset();
  insert.BindText(r.serial)
      .BindText(r.spiffe_id)
      .BindText(r.kind)
      .BindText(r.node)
      .BindText(r.issuing_ca_serial)
      .BindTime(r.not_before)
      .BindTime(r.not_after)
      .BindTime(r.issued_at);
  return Reword(insert.Run(), absl::StatusCode::kAlreadyExists,
                absl::StrCat(op, ": an issuance with serial ", r.serial, " is already recorded"));
}

}  // namespace

// ---- helpers ----

absl::StatusOr<Statement> SqliteStore::Prepare(absl::string_view op, absl::string_view sql) {
  // Preparing costs more than running a short query: keep every statement prepared once.
  // `mu_` is held, and no method runs two statements of the same text at once.
  std::string key(sql.data(), sql.size());
  auto it = statements_.find(key);
  if (it == statements_.end()) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    StmtPtr stmt(raw);
    if (rc != SQLITE_OK) return SqliteError(db_.get(), rc, op, "sqlite3_prepare_v3");
    if (stmt == nullptr) return absl::InternalError(absl::StrCat(op, ": empty statement"));
    it = statements_.emplace(std::move(key), std::move(stmt)).first;
  }
  return Statement::Borrow(db_.get(), op, it->second.get());
}

int64_t SqliteStore::ChangedRows() const { return sqlite3_changes64(db_.get()); }

absl::StatusOr<int64_t> SqliteStore::ReadCounter(absl::string_view op, absl::string_view key) {
  MESHID_ASSIGN_OR_RETURN(Statement stmt, Prepare(op, "SELECT value FROM meta WHERE key = ?1"));
  stmt.BindText(key);
  MESHID_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return absl::InternalError(absl::StrCat(op, ": counter '", key, "' is missing"));
  return stmt.ColumnInt(0);
}

absl::StatusOr<int64_t> SqliteStore::BumpCounter(absl::string_view op, absl::string_view key) {
  MESHID_ASSIGN_OR_RETURN(
      Statement stmt,
      Prepare(op, "UPDATE meta SET value = value + 1 WHERE key = ?1 RETURNING value"));
  stmt.BindText(key);
  MESHID_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return absl::InternalError(absl::StrCat(op, ": counter '", key, "' is missing"));
  int64_t value = stmt.ColumnInt(0);
  MESHID_RETURN_IF_ERROR(stmt.Run());
  return value;
}

absl::StatusOr<BundleRecord> SqliteStore::CommitBundleChange(absl::string_view op,
                                                             Transaction& txn) {
  MESHID_RETURN_IF_ERROR(BumpCounter(op, "bundle_sequence").status());
  MESHID_ASSIGN_OR_RETURN(BundleRecord bundle, ReadBundle(op));
  MESHID_RETURN_IF_ERROR(txn.Commit());
  return bundle;
}

absl::StatusOr<BundleRecord> SqliteStore::ReadBundle(absl::string_view op) {
  BundleRecord bundle;
  MESHID_ASSIGN_OR_RETURN(Statement roots,
                          Prepare(op, "SELECT der FROM bundle_roots ORDER BY position"));
  while (true) {
    MESHID_ASSIGN_OR_RETURN(bool row, roots.Step());
    if (!row) break;
    bundle.roots_der.push_back(roots.ColumnBlob(0));
  }
  MESHID_ASSIGN_OR_RETURN(
      Statement keys,
      Prepare(op, "SELECT key_id, public_key_der, not_after FROM jwt_keys ORDER BY not_after"));
  while (true) {
    MESHID_ASSIGN_OR_RETURN(bool row, keys.Step());
    if (!row) break;
    bundle.jwt_keys.push_back({keys.ColumnText(0), keys.ColumnBlob(1), keys.ColumnTime(2)});
  }
  MESHID_ASSIGN_OR_RETURN(int64_t sequence, ReadCounter(op, "bundle_sequence"));
  bundle.sequence = static_cast<uint64_t>(sequence);
  return bundle;
}

// ---- issuing CA journal ----

absl::StatusOr<std::vector<IssuingCaRecord>> SqliteStore::ListIssuingCas() {
  constexpr absl::string_view kOp = "ListIssuingCas";
  std::lock_guard lock(mu_);
  MESHID_ASSIGN_OR_RETURN(
      Statement stmt,
      Prepare(kOp,
              "SELECT serial, slot, state, certificate_der, key_path, not_before, not_after, "
              "created_at, activated_at FROM issuing_cas ORDER BY created_at, serial"));
  std::vector<IssuingCaRecord> out;
  while (true) {
    MESHID_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    IssuingCaRecord record = ReadIssuingCaColumns(stmt);
    MESHID_ASSIGN_OR_RETURN(record.state, ParseSlotState(stmt.ColumnText(2)));
    out.push_back(std::move(record));
  }
  return out;
}

absl::Status SqliteStore::PutIssuingCas(const std::vector<IssuingCaRecord>& records) {
  constexpr absl::string_view kOp = "PutIssuingCas";
  for (const IssuingCaRecord& r : records) {
    MESHID_RETURN_IF_ERROR(RequireNonEmpty("issuing CA serial", r.serial));
  }
  std::lock_guard lock(mu_);
  MESHID_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_.get(), kOp));
  MESHID_ASSIGN_OR_RETURN(
      Statement upsert,
      Prepare(kOp,
              "INSERT INTO issuing_cas (serial, slot, state, certificate_der, key_path, "
              "not_before, not_after, created_at, activated_at) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
              "ON CONFLICT (serial) DO UPDATE SET slot = excluded.slot, state = excluded.state, "
              "certificate_der = excluded.certificate_der, key_path = excluded.key_path, "
              "not_before = excluded.not_before, not_after = excluded.not_after, "
              "created_at = excluded.created_at, activated_at = excluded.activated_at"));
  for (const IssuingCaRecord& r : records) {
    upsert.Reset();
    upsert.BindText(r.serial)
        .BindText(r.slot)
        .BindText(SlotStateName(r.state))
        .BindBlob(r.certificate_der)
        .BindText(r.key_path)
        .BindTime(r.not_before)
        .BindTime(r.not_after)
        .BindTime(r.created_at)
        .BindOptionalTime(r.activated_at);
    MESHID_RETURN_IF_ERROR(upsert.Run());
  }
  return txn.Commit();
}

absl::Status SqliteStore::DeleteIssuingCa(const std::string& serial) {
  constexpr absl::string_view kOp = "DeleteIssuingCa";
  std::lock_guard lock(mu_);
  MESHID_ASSIGN_OR_RETURN(Statement stmt,
                          Prepare(kOp, "DELETE FROM issuing_cas WHERE serial = ?1"));
  stmt.BindText(serial);
  MESHID_RETURN_IF_ERROR(stmt.Run());
  if (ChangedRows() == 0) {
    return absl::NotFoundError(absl::StrCat("no issuing CA with serial ", serial));
  }
  return absl::OkStatus();
}

// ---- join tokens ----

absl::Status SqliteStore::CreateJoinToken(const JoinTokenRecord& t) {
  constexpr absl::string_view kOp = "CreateJoinToken";
  MESHID_RETURN_IF_ERROR(RequireNonEmpty("join token hash", t.token_hash));
  std::lock_guard lock(mu_);
  MESHID_ASSIGN_OR_RETURN(
      Statement stmt,
      Prepare(kOp,
              "INSERT INTO join_tokens (token_hash, node_name, created_at, expires_at, used_at) "
              "VALUES (?1, ?2, ?3, ?4, ?5)"));
  stmt.BindText(t.token_hash)
      .BindText(t.node_name)
      .BindTime(t.created_at)
      .BindTime(t.expires_at)
      .BindOptionalTime(t.used_at);
  return Reword(stmt.Run(), absl::StatusCode::kAlreadyExists,
                "a join token with this hash already exists");
}

absl::StatusOr<std::optional<JoinTokenRecord>> SqliteStore::GetJoinToken(
    const std::string& token_hash) {
  constexpr absl::string_view kOp = "GetJoinToken";
  std::lock_guard lock(mu_);
  MESHID_ASSIGN_OR_RETURN(Statement stmt,
                          Prepare(kOp,
                                  "SELECT token_hash, node_name, created_at, expires_at, used_at "
                                  "FROM join_tokens WHERE token_hash = ?1"));
  stmt.BindText(token_hash);
  MESHID_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::nullopt;
  return ReadJoinToken(stmt);
}

absl::Status SqliteStore::AttestNode(const std::string& token_hash, absl::Time now,
                                     const NodeRecord& node, const IssuanceRecord& svid) {
  constexpr absl::string_view kOp = "AttestNode";
  std::lock_guard lock(mu_);
  MESHID_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_.get(), kOp));
  MESHID_ASSIGN_OR_RETURN(Statement select,
                          Prepare(kOp,
                                  "SELECT token_hash, node_name, created_at, expires_at, used_at "
                                  "FROM join_tokens WHERE token_hash = ?1"));
  select.BindText(token_hash);
  MESHID_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return absl::NotFoundError("unknown join token");
  const JoinTokenRecord token = ReadJoinToken(select);
  if (token.used_at.has_value()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "join token was already used at ", absl::FormatTime(*token.used_at, absl::UTCTimeZone())));
  }
  if (now >= token.expires_at) {
    return absl::FailedPreconditionError(absl::StrCat(
        "join token expired at ", absl::FormatTime(token.expires_at, absl::UTCTimeZone())));
  }
  if (!token.node_name.empty() && !node.name.empty() && node.name != token.node_name) {
    return absl::PermissionDeniedError(
        absl::StrCat("join token is for node '", token.node_name, "', not '", node.name, "'"));
  }
  NodeRecord stored = node;
  if (stored.name.empty()) stored.name = token.node_name;
  if (stored.name.empty()) {
    return absl::InvalidArgumentError("neither the join token nor the request names the node");
  }
  IssuanceRecord issuance = svid;
  if (issuance.node.empty()) issuance.node = stored.name;

  MESHID_ASSIGN_OR_RETURN(
      Statement consume, Prepare(kOp, "UPDATE join_tokens SET used_at = ?2 WHERE token_hash = ?1"));
  consume.BindText(token_hash).BindTime(now);
  MESHID_RETURN_IF_ERROR(consume.Run());

  MESHID_ASSIGN_OR_RETURN(
      Statement upsert,
      Prepare(kOp,
              "INSERT INTO nodes (name, spiffe_id, attested_at, svid_serial, svid_not_after, "
              "evicted, evicted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
              "ON CONFLICT (name) DO UPDATE SET spiffe_id = excluded.spiffe_id, "
              "attested_at = excluded.attested_at, svid_serial = excluded.svid_serial, "
              "svid_not_after = excluded.svid_not_after, evicted = excluded.evicted, "
              "evicted_at = excluded.evicted_at"));
  upsert.BindText(stored.name)
      .BindText(stored.spiffe_id)
      .BindTime(stored.attested_at)
      .BindText(stored.svid_serial)
      .BindTime(stored.svid_not_after)
      .BindInt(stored.evicted ? 1 : 0)
      .BindOptionalTime(stored.evicted_at);
  MESHID_RETURN_IF_ERROR(upsert.Run());

  MESHID_ASSIGN_OR_RETURN(Statement insert, Prepare(kOp, kInsertIssuance));
  MESHID_RETURN_IF_ERROR(InsertIssuance(kOp, insert, issuance));
  return txn.Commit();
}

// ---- nodes ----

absl::StatusOr<std::optional<NodeRecord>> SqliteStore::GetNode(const std::string& name) {
  constexpr absl::string_view kOp = "GetNode";
  std::lock_guard lock(mu_);
  MESHID_ASSIGN_OR_RETURN(
      Statement stmt, Prepare(kOp,
                              "SELECT name, spiffe_id, attested_at, svid_serial, svid_not_after, "
                              "evicted, evicted_at FROM nodes WHERE name = ?1"));
  stmt.BindText(name);
  MESHID_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::nullopt;
  return ReadNode(stmt);
}

absl::StatusOr<std::vector<NodeRecord>> SqliteStore::ListNodes() {
  constexpr absl::string_view kOp = "ListNodes";
  std::lock_guard lock(mu_);
  MESHID_ASSIGN_OR_RETURN(
      Statement stmt, Prepare(kOp,
                              "SELECT name, spiffe_id, attested_at, svid_serial, svid_not_after, "
                              "evicted, evicted_at FROM nodes ORDER BY name"));
  std::vector<NodeRecord> out;
  while (true) {
    MESHID_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(ReadNode(stmt));
  }
  return out;
}

absl::Status SqliteStore::RenewNode(const std::string& name, const IssuanceRecord& svid) {
  constexpr absl::string_view kOp = "RenewNode";
  std::lock_guard lock(mu_);
  MESHID_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_.get(), kOp));
  MESHID_ASSIGN_OR_RETURN(Statement select,
                          Prepare(kOp, "SELECT evicted FROM nodes WHERE name = ?1"));
  select.BindText(name);
  MESHID_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return absl::NotFoundError(absl::StrCat("unknown node '", name, "'"));
  if (select.ColumnInt(0) != 0) {
    return absl::PermissionDeniedError(absl::StrCat("node '", name, "' is evicted"));
  }
  MESHID_ASSIGN_OR_RETURN(
      Statement update,
      Prepare(kOp, "UPDATE nodes SET svid_serial = ?2, svid_not_after = ?3 WHERE name = ?1"));
  update.BindText(name).BindText(svid.serial).BindTime(svid.not_after);
  MESHID_RETURN_IF_ERROR(update.Run());
  MESHID_ASSIGN_OR_RETURN(Statement insert, Prepare(kOp, kInsertIssuance));
  MESHID_RETURN_IF_ERROR(InsertIssuance(kOp, insert, svid));
  return txn.Commit();
}

absl::Status SqliteStore::EvictNode(const std::string& name, absl::Time now) {
  constexpr absl::string_view kOp = "EvictNode";
  std::lock_guard lock(mu_);
  // A second eviction keeps the time of the first.
  MESHID_ASSIGN_OR_RETURN(
      Statement stmt,
      Prepare(
          kOp,
          "UPDATE nodes SET evicted = 1, evicted_at = COALESCE(evicted_at, ?2) WHERE name = ?1"));
  stmt.BindText(name).BindTime(now);
  MESHID_RETURN_IF_ERROR(stmt.Run());
  if (ChangedRows() == 0) return absl::NotFoundError(absl::StrCat("unknown node '", name, "'"));
  return absl::OkStatus();
}

// ---- issuance records ----

absl::Status SqliteStore::RecordIssuances(const std::vector<IssuanceRecord>& records) {
  constexpr absl::string_view kOp = "RecordIssuances";
  std::lock_guard lock(mu_);
  MESHID_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_.get(), kOp));
  MESHID_ASSIGN_OR_RETURN(Statement insert, Prepare(kOp, kInsertIssuance));
  for (const IssuanceRecord& r : records) {
    MESHID_RETURN_IF_ERROR(InsertIssuance(kOp, insert, r));
  }
  return txn.Commit();
}

absl::StatusOr<std::optional<IssuanceRecord>> SqliteStore::GetIssuance(const std::string& serial) {
  constexpr absl::string_view kOp = "GetIssuance";
  std::lock_guard lock(mu_);
  MESHID_ASSIGN_OR_RETURN(
      Statement stmt,
      Prepare(kOp,
              "SELECT serial, spiffe_id, kind, node, issuing_ca_serial, not_before, not_after, "
              "issued_at FROM issuances WHERE serial = ?1"));
  stmt.BindText(serial);
  MESHID_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::nullopt;
  return ReadIssuance(stmt);
}

absl::StatusOr<int64_t> SqliteStore::Count(absl::string_view op, const char* sql) {
  std::lock_guard lock(mu_);
  MESHID_ASSIGN_OR_RETURN(Statement stmt, Prepare(op, sql));
  MESHID_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return absl::InternalError(absl::StrCat(op, ": COUNT returned no row"));
  return stmt.ColumnInt(0);
}

absl::StatusOr<int64_t> SqliteStore::CountIssuances() {
  return Count("CountIssuances", "SELECT COUNT(*) FROM issuances");
}

absl::StatusOr<int64_t> SqliteStore::CountEntries() {
  return Count("CountEntries", "SELECT COUNT(*) FROM entries");
}

// ---- trust bundle ----

absl::StatusOr<BundleRecord> SqliteStore::GetBundle() {
  constexpr absl::string_view kOp = "GetBundle";
  std::lock_guard lock(mu_);
  MESHID_ASSIGN_OR_RETURN(Transaction txn,
                          Transaction::Begin(db_.get(), kOp, Transaction::Mode::kRead));
  MESHID_ASSIGN_OR_RETURN(BundleRecord bundle, ReadBundle(kOp));
  MESHID_RETURN_IF_ERROR(txn.Commit());
  return bundle;
}

absl::StatusOr<BundleRecord> SqliteStore::AddRoot(const std::string& root_der) {
  constexpr absl::string_view kOp = "AddRoot";
  MESHID_RETURN_IF_ERROR(RequireNonEmpty("root certificate", root_der));
  std::lock_guard lock(mu_);
  MESHID_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_.get(), kOp));
  MESHID_ASSIGN_OR_RETURN(Statement insert,
                          Prepare(kOp,
                                  "INSERT INTO bundle_roots (der, position) "
                                  "SELECT ?1, COALESCE(MAX(position), 0) + 1 FROM bundle_roots"));
  insert.BindBlob(root_der);
  MESHID_RETURN_IF_ERROR(Reword(insert.Run(), absl::StatusCode::kAlreadyExists,
                                "the root is already in the trust bundle"));
  return CommitBundleChange(kOp, txn);
}

absl::StatusOr<BundleRecord> SqliteStore::RemoveRoot(const std::string& root_der) {
  constexpr absl::string_view kOp = "RemoveRoot";
  std::lock_guard lock(mu_);
  MESHID_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_.get(), kOp));
  MESHID_ASSIGN_OR_RETURN(Statement del, Prepare(kOp, "DELETE FROM bundle_roots WHERE der = ?1"));
  del.BindBlob(root_der);
  MESHID_RETURN_IF_ERROR(del.Run());
  if (ChangedRows() == 0) return absl::NotFoundError("the root is not in the trust bundle");
  return CommitBundleChange(kOp, txn);
}

absl::StatusOr<BundleRecord> SqliteStore::AddJwtKey(const JwtKeyRecord& key) {
  constexpr absl::string_view kOp = "AddJwtKey";
  MESHID_RETURN_IF_ERROR(RequireNonEmpty("JWT key ID", key.key_id));
  MESHID_RETURN_IF_ERROR(RequireNonEmpty("JWT public key", key.public_key_der));
  std::lock_guard lock(mu_);
  MESHID_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_.get(), kOp));
  MESHID_ASSIGN_OR_RETURN(
      Statement insert,
      Prepare(kOp, "INSERT INTO jwt_keys (key_id, public_key_der, not_after) VALUES (?1, ?2, ?3)"));
  insert.BindText(key.key_id).BindBlob(key.public_key_der).BindTime(key.not_after);
  MESHID_RETURN_IF_ERROR(Reword(insert.Run(), absl::StatusCode::kAlreadyExists,
                                "the JWT key ID is already in the trust bundle"));
  return CommitBundleChange(kOp, txn);
}

absl::StatusOr<BundleRecord> SqliteStore::RemoveJwtKey(const std::string& key_id) {
  constexpr absl::string_view kOp = "RemoveJwtKey";
  std::lock_guard lock(mu_);
  MESHID_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_.get(), kOp));
  MESHID_ASSIGN_OR_RETURN(Statement del, Prepare(kOp, "DELETE FROM jwt_keys WHERE key_id = ?1"));
  del.BindText(key_id);
  MESHID_RETURN_IF_ERROR(del.Run());
  if (ChangedRows() == 0) return absl::NotFoundError("the JWT key is not in the trust bundle");
  return CommitBundleChange(kOp, txn);
}

}  // namespace meshid::store::internal
