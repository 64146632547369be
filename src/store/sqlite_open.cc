// Opening a SQLite DataStore: creating the file 0600, checking whose database it is,
// configuring the connection and migrating the schema.

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "meshid/base/files.h"
#include "meshid/base/status.h"
#include "meshid/store/data_store.h"
#include "sqlite_checkpointer.h"
#include "sqlite_schema.h"
#include "sqlite_store.h"
#include "sqlite_util.h"

namespace meshid::store {
namespace internal {
namespace {

constexpr int kBusyTimeoutMs = 5000;

absl::Status ErrnoStatus(int err, absl::string_view what) {
  std::string message = absl::StrCat(what, ": ", std::strerror(err));
  if (err == EACCES || err == EPERM || err == EROFS) return absl::PermissionDeniedError(message);
  return absl::UnavailableError(message);
}

// CreateDatabaseFile creates `path` with mode 0600 when it does not exist, so that SQLite
// (which would use 0644 less the umask) never creates it, and its -wal and -shm files,
// which SQLite creates with the database file's mode, are 0600 too.
absl::Status CreateDatabaseFile(const std::string& path) {
  std::string parent = std::filesystem::path(path).parent_path().string();
  if (parent.empty()) parent = ".";
  if (!base::IsDirectory(parent)) {
    return absl::NotFoundError(
        absl::StrCat("cannot open database ", path, ": directory ", parent,
                     base::PathExists(parent) ? " is not a directory" : " does not exist"));
  }
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return absl::OkStatus();
    return ErrnoStatus(errno, absl::StrCat("cannot create database ", path));
  }
  close(fd);
  // Make the new directory entry durable too; SQLite syncs only the files it creates.
  int dir_fd = open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    fsync(dir_fd);
    close(dir_fd);
  }
  return absl::OkStatus();
}

// CheckIdentity fails when the file is some other program's SQLite database or one from a
// newer meshid, before anything in it changes.
absl::Status CheckIdentity(sqlite3* db, absl::string_view op, const std::string& path) {
  MESHID_ASSIGN_OR_RETURN(int64_t version, SchemaVersion(db, op));
  MESHID_ASSIGN_OR_RETURN(int64_t app_id, ApplicationId(db, op));
  if (app_id != kApplicationId && (app_id != 0 || version != 0)) {
    return absl::FailedPreconditionError(
        absl::StrCat("database ", path, " is not a meshid database (application_id ", app_id, ")"));
  }
  const size_t known = SchemaMigrations().size();
  if (version > static_cast<int64_t>(known)) {
    return absl::FailedPreconditionError(absl::StrCat("database ", path,
                                                      " was written by a newer meshid (schema ",
                                                      version, ", this build knows ", known, ")"));
  }
  return absl::OkStatus();
}

// Connect opens a connection to the existing database file at `path`.
absl::StatusOr<DbPtr> Connect(const std::string& path, absl::string_view op) {
  sqlite3* raw = nullptr;
  // The file exists by now; without SQLITE_OPEN_CREATE SQLite never makes one with its own
  // (wider) mode if it was removed meanwhile.
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_EXRESCODE,
                           nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) return SqliteError(db.get(), rc, op, "sqlite3_open_v2");
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  return db;
}

absl::Status Configure(sqlite3* db, absl::string_view op, const SqliteOptions& options) {
  MESHID_ASSIGN_OR_RETURN(Statement wal, Statement::Prepare(db, op, "PRAGMA journal_mode = WAL"));
  MESHID_ASSIGN_OR_RETURN(bool row, wal.Step());
  std::string mode = row ? absl::AsciiStrToLower(wal.ColumnText(0)) : "";
  if (mode != "wal") {
    return absl::FailedPreconditionError(
        absl::StrCat(op, ": cannot use write-ahead logging (journal mode is '", mode, "')"));
  }
  MESHID_RETURN_IF_ERROR(ExecScript(
      db, options.full_sync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", op));
  return ExecScript(db, "PRAGMA foreign_keys = ON", op);
}

}  // namespace
}  // namespace internal

absl::StatusOr<std::unique_ptr<DataStore>> OpenSqlite(const std::string& path,
                                                      const SqliteOptions& options) {
  using internal::DbPtr;
  if (path.empty()) return absl::InvalidArgumentError("database path is empty");
  MESHID_RETURN_IF_ERROR(internal::CreateDatabaseFile(path));
  const std::string op = absl::StrCat("open database ", path);
  MESHID_ASSIGN_OR_RETURN(DbPtr db, internal::Connect(path, op));
  MESHID_RETURN_IF_ERROR(internal::CheckIdentity(db.get(), op, path));
  MESHID_RETURN_IF_ERROR(internal::Configure(db.get(), op, options));
  MESHID_RETURN_IF_ERROR(internal::Migrate(db.get(), path, internal::SchemaMigrations()).status());
  // The checkpoints' own connection, once the file is known to be a meshid database in WAL,
  // with the same settings: `synchronous` decides the fsyncs of its checkpoints.
  MESHID_ASSIGN_OR_RETURN(DbPtr checkpoints, internal::Connect(path, op));
  MESHID_RETURN_IF_ERROR(internal::Configure(checkpoints.get(), op, options));
  return std::make_unique<internal::SqliteStore>(
      std::move(db), std::make_unique<internal::Checkpointer>(std::move(checkpoints)));
}

}  // namespace meshid::store
