#pragma once

// Private to the store module: the SQLite DataStore. Users reach it through OpenSqlite().

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "meshid/store/data_store.h"
#include "sqlite_checkpointer.h"
#include "sqlite_util.h"

namespace meshid::store::internal {

// SqliteStore keeps one connection for every method, serialized on `mu_` (its Checkpointer
// has a second, for WAL checkpoints only): SQLite allows one writer at a time anyway, and holding
// the lock across a whole method keeps each sqlite3_errmsg() with the call that failed. Other
// processes may open the same file; their writes wait for ours (busy_timeout) because every write
// transaction is BEGIN IMMEDIATE.
class SqliteStore final : public DataStore {
 public:
  // `checkpointer` takes over the WAL checkpoints of `db`.
  SqliteStore(DbPtr db, std::unique_ptr<Checkpointer> checkpointer)
      : checkpointer_(std::move(checkpointer)), db_(std::move(db)) {
    checkpointer_->Attach(db_.get());
  }

  absl::StatusOr<std::vector<IssuingCaRecord>> ListIssuingCas() override;
  absl::Status PutIssuingCas(const std::vector<IssuingCaRecord>& records) override;
  absl::Status DeleteIssuingCa(const std::string& serial) override;

  absl::Status CreateJoinToken(const JoinTokenRecord& token) override;
  absl::Status AttestNode(const std::string& token_hash, absl::Time now, const NodeRecord& node,
                          const IssuanceRecord& svid) override;
  absl::StatusOr<std::optional<JoinTokenRecord>> GetJoinToken(
      const std::string& token_hash) override;

  absl::StatusOr<std::optional<NodeRecord>> GetNode(const std::string& name) override;
  absl::StatusOr<std::vector<NodeRecord>> ListNodes() override;
  absl::Status RenewNode(const std::string& name, const IssuanceRecord& svid) override;
  absl::Status EvictNode(const std::string& name, absl::Time now) override;

  absl::StatusOr<EntryRecord> CreateEntry(const EntryRecord& entry) override;
  absl::StatusOr<std::optional<EntryRecord>> GetEntry(const std::string& id) override;
  absl::StatusOr<std::vector<EntryRecord>> ListEntries(const std::string& parent_id) override;
  absl::Status DeleteEntry(const std::string& id) override;
  absl::StatusOr<EntryChanges> EntryChangesSince(const std::string& parent_id,
                                                 int64_t revision) override;

  absl::Status RecordIssuances(const std::vector<IssuanceRecord>& records) override;
  absl::StatusOr<std::optional<IssuanceRecord>> GetIssuance(const std::string& serial) override;
  absl::StatusOr<int64_t> CountIssuances() override;
  absl::StatusOr<int64_t> CountEntries() override;

  absl::StatusOr<BundleRecord> GetBundle() override;
  absl::StatusOr<BundleRecord> AddRoot(const std::string& root_der) override;
  absl::StatusOr<BundleRecord> RemoveRoot(const std::string& root_der) override;
  absl::StatusOr<BundleRecord> AddJwtKey(const JwtKeyRecord& key) override;
  absl::StatusOr<BundleRecord> RemoveJwtKey(const std::string& key_id) override;

 private:
  // The helpers below run inside a method, with `mu_` held.
  absl::StatusOr<Statement> Prepare(absl::string_view op, absl::string_view sql);
  int64_t ChangedRows() const;
  absl::StatusOr<int64_t> ReadCounter(absl::string_view op, absl::string_view key);
  // BumpCounter adds one to a meta counter and returns the new value.
  absl::StatusOr<int64_t> BumpCounter(absl::string_view op, absl::string_view key);
  absl::StatusOr<BundleRecord> ReadBundle(absl::string_view op);
  // Count runs a SELECT COUNT(*) query.
  absl::StatusOr<int64_t> Count(absl::string_view op, const char* sql);
  // CommitBundleChange ends a transaction that changed the bundle: it bumps the sequence,
  // commits and returns the bundle as it now stands.
  absl::StatusOr<BundleRecord> CommitBundleChange(absl::string_view op, Transaction& txn);
  // ReadEntries runs a SELECT of the entry columns (see sqlite_entries.cc) and fills in each
  // entry's selectors and DNS names.
  absl::StatusOr<std::vector<EntryRecord>> ReadEntries(absl::string_view op, Statement& select);
  absl::Status InsertEntryRows(absl::string_view op, const EntryRecord& entry,
                               absl::string_view selector_set);

  std::mutex mu_;
  // Before db_: the connection closes first, and with it the hook that calls the checkpointer.
  std::unique_ptr<Checkpointer> checkpointer_;
  DbPtr db_;
  // Prepared statements by SQL text, reused by every call (guarded by mu_). Declared after
  // db_ so that they are finalized before the connection closes.
  std::unordered_map<std::string, StmtPtr> statements_;
};

}  // namespace meshid::store::internal
