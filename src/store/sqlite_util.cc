#include "sqlite_util.h"

#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace meshid::store::internal {

absl::Status SqliteError(sqlite3* db, int rc, absl::string_view op, absl::string_view call) {
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message = absl::StrReplaceAll(
      absl::StrCat(op, ": ", call, " failed: ", detail, " (sqlite code ", rc, ")"),
      {{"\n", " "}, {"\r", " "}});
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_READONLY:
      return absl::UnavailableError(message);
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
        return absl::AlreadyExistsError(message);
      }
      return absl::InternalError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::Status ExecScript(sqlite3* db, const char* sql, absl::string_view op) {
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc, op, "sqlite3_exec");
  return absl::OkStatus();
}

absl::StatusOr<Statement> Statement::Prepare(sqlite3* db, absl::string_view op,
                                             absl::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), 0, &raw, nullptr);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) return SqliteError(db, rc, op, "sqlite3_prepare_v3");
  if (stmt == nullptr) {
    return absl::InternalError(absl::StrCat(op, ": sqlite3_prepare_v3: empty statement"));
  }
  return Statement(db, op, HeldStmt(stmt.release(), StatementRelease{false}));
}

void Statement::NoteBind(int rc, absl::string_view call) {
  ++next_param_;
  if (rc != SQLITE_OK && bind_status_.ok()) bind_status_ = SqliteError(db_, rc, op_, call);
}

Statement& Statement::BindText(absl::string_view value) {
  NoteBind(sqlite3_bind_text64(stmt_.get(), next_param_, value.data(), value.size(),
                               SQLITE_TRANSIENT, SQLITE_UTF8),
           "sqlite3_bind_text64");
  return *this;
}

Statement& Statement::BindBlob(absl::string_view value) {
  // A zero-length blob bound from a null pointer would be NULL, not an empty blob.
  static const char kEmpty = 0;
  const void* data = value.empty() ? &kEmpty : value.data();
  NoteBind(sqlite3_bind_blob64(stmt_.get(), next_param_, data, value.size(), SQLITE_TRANSIENT),
           "sqlite3_bind_blob64");
  return *this;
}

Statement& Statement::BindInt(int64_t value) {
  NoteBind(sqlite3_bind_int64(stmt_.get(), next_param_, value), "sqlite3_bind_int64");
  return *this;
}

Statement& Statement::BindNull() {
  NoteBind(sqlite3_bind_null(stmt_.get(), next_param_), "sqlite3_bind_null");
  return *this;
}

Statement& Statement::BindTime(absl::Time value) { return BindInt(TimeToSeconds(value)); }

Statement& Statement::BindOptionalTime(const std::optional<absl::Time>& value) {
  return value.has_value() ? BindTime(*value) : BindNull();
}

absl::StatusOr<bool> Statement::Step() {
  if (!bind_status_.ok()) return bind_status_;
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db_, rc, op_, "sqlite3_step");
}

absl::Status Statement::Run() {
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
  }
}

void Statement::Reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
  next_param_ = 1;
  bind_status_ = absl::OkStatus();
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

int64_t Statement::ColumnInt(int column) const { return sqlite3_column_int64(stmt_.get(), column); }

std::string Statement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_.get(), column);
  if (text == nullptr) return "";
  return {reinterpret_cast<const char*>(text),
          static_cast<size_t>(sqlite3_column_bytes(stmt_.get(), column))};
}

std::string Statement::ColumnBlob(int column) const {
  const void* blob = sqlite3_column_blob(stmt_.get(), column);
  if (blob == nullptr) return "";
  return {static_cast<const char*>(blob),
          static_cast<size_t>(sqlite3_column_bytes(stmt_.get(), column))};
}

absl::Time Statement::ColumnTime(int column) const { return SecondsToTime(ColumnInt(column)); }

std::optional<absl::Time> Statement::ColumnOptionalTime(int column) const {
  if (IsNull(column)) return std::nullopt;
  return ColumnTime(column);
}

absl::StatusOr<Transaction> Transaction::Begin(sqlite3* db, absl::string_view op, Mode mode) {
  const char* sql = mode == Mode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED";
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc, op, sql);
  return Transaction(db, op);
}

Transaction::~Transaction() {
  // Some errors (I/O, disk full) make SQLite roll back by itself; a second ROLLBACK would
  // only fail, so it is issued only while a transaction is still open.
  if (open_ && sqlite3_get_autocommit(db_) == 0) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

absl::Status Transaction::Commit() {
  int rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, op_, "COMMIT");
  open_ = false;
  return absl::OkStatus();
}

int64_t TimeToSeconds(absl::Time t) {
  if (t == absl::InfiniteFuture()) return std::numeric_limits<int64_t>::max();
  if (t == absl::InfinitePast()) return std::numeric_limits<int64_t>::min();
  return absl::ToUnixSeconds(t);
}

absl::Time SecondsToTime(int64_t seconds) {
  if (seconds == std::numeric_limits<int64_t>::max()) return absl::InfiniteFuture();
  if (seconds == std::numeric_limits<int64_t>::min()) return absl::InfinitePast();
  return absl::FromUnixSeconds(seconds);
}

}  // namespace meshid::store::internal
