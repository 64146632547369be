#pragma once

// Private to the store module: RAII handles and small helpers over the SQLite C API.
// Nothing here locks: callers hold the store's mutex around every use of a connection, which
// also keeps sqlite3_errmsg() paired with the call that failed.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <sqlite3.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace meshid::store::internal {

struct SqliteCloser {
  // sqlite3_close_v2 defers the close until every statement is finalized, so the order in
  // which handles are destroyed never leaks the connection.
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, SqliteCloser>;

struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

// SqliteError returns the Status for result code `rc` from `call` (the SQLite function that
// failed) during `op` (the store operation), on one line with sqlite3_errmsg(db). Busy, locked
// and I/O failures are Unavailable (retrying may help); a constraint violation is
// AlreadyExists when it is a primary key or unique one; everything else is Internal.
absl::Status SqliteError(sqlite3* db, int rc, absl::string_view op, absl::string_view call);

// ExecScript runs `sql`, one or more statements without parameters (schema text, PRAGMAs,
// BEGIN/COMMIT). Never build `sql` from values: those go through Statement.
absl::Status ExecScript(sqlite3* db, const char* sql, absl::string_view op);

// Statement is one prepared statement. Bind* bind the next parameter (the first call binds
// ?1) and remember the first failure, which Step() or Run() then returns. Column* read the
// current row; columns are 0-based.
// StatementRelease ends a Statement's use of its sqlite3_stmt: a statement it prepared is
// finalized; one borrowed from a cache is reset and its bindings cleared, ready for reuse.
struct StatementRelease {
  bool borrowed = false;
  void operator()(sqlite3_stmt* stmt) const {
    if (borrowed) {
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
    } else {
      sqlite3_finalize(stmt);
    }
  }
};

class Statement {
 public:
  static absl::StatusOr<Statement> Prepare(sqlite3* db, absl::string_view op,
                                           absl::string_view sql);
  // Borrow uses a statement owned by a cache, which must outlive this Statement.
  static Statement Borrow(sqlite3* db, absl::string_view op, sqlite3_stmt* cached) {
    return Statement(db, op, HeldStmt(cached, StatementRelease{true}));
  }

  Statement& BindText(absl::string_view value);
  Statement& BindBlob(absl::string_view value);
  Statement& BindInt(int64_t value);
  Statement& BindNull();
  // BindTime binds whole Unix seconds (fractions are dropped); see TimeToSeconds.
  Statement& BindTime(absl::Time value);
  Statement& BindOptionalTime(const std::optional<absl::Time>& value);

  // Step advances to the next row: true when a row is ready, false when the statement is
  // done.
  absl::StatusOr<bool> Step();
  // Run steps a statement that returns no rows to completion.
  absl::Status Run();
  // Reset makes the statement ready to run again and clears its bindings.
  void Reset();

  bool IsNull(int column) const;
  int64_t ColumnInt(int column) const;
  std::string ColumnText(int column) const;
  std::string ColumnBlob(int column) const;
  absl::Time ColumnTime(int column) const;
  std::optional<absl::Time> ColumnOptionalTime(int column) const;

 private:
  using HeldStmt = std::unique_ptr<sqlite3_stmt, StatementRelease>;
  Statement(sqlite3* db, absl::string_view op, HeldStmt stmt)
      : db_(db), op_(op), stmt_(std::move(stmt)) {}
  void NoteBind(int rc, absl::string_view call);

  sqlite3* db_;
  absl::string_view op_;  // a string literal naming the store operation
  HeldStmt stmt_;
  int next_param_ = 1;
  absl::Status bind_status_;
};

// Transaction is BEGIN … COMMIT. A write transaction is BEGIN IMMEDIATE: it takes the write
// lock up front, so a read-then-write transaction never fails half-way on a lock upgrade. A
// read transaction (BEGIN DEFERRED) gives several SELECTs one snapshot. Destroying a
// Transaction without a successful Commit() rolls back.
class Transaction {
 public:
  enum class Mode { kRead, kWrite };
  static absl::StatusOr<Transaction> Begin(sqlite3* db, absl::string_view op,
                                           Mode mode = Mode::kWrite);

  Transaction(Transaction&& other) noexcept
      : db_(other.db_), op_(other.op_), open_(std::exchange(other.open_, false)) {}
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  absl::Status Commit();

 private:
  Transaction(sqlite3* db, absl::string_view op) : db_(db), op_(op) {}

  sqlite3* db_;
  absl::string_view op_;
  bool open_ = true;
};

// TimeToSeconds and SecondsToTime convert between absl::Time and the integer Unix seconds
// stored in the database. The infinite times map to the int64 extremes and back.
int64_t TimeToSeconds(absl::Time t);
absl::Time SecondsToTime(int64_t seconds);

}  // namespace meshid::store::internal
