// Opening, file creation, schema migrations and persistence of the SQLite DataStore. The
// database is tampered with through the SQLite API directly where a test needs a state the
// store would never write.

#include "sqlite_schema.h"

#include <fstream>
#include <string>

#include <sqlite3.h>
#include <sys/stat.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/store/data_store.h"
#include "sqlite_util.h"
#include "store_test_util.h"

namespace meshid::store {
namespace {

using testing::At;
using ::testing::HasSubstr;
using testing::MakeIssuance;
using ::testing::Not;

// RawDb is a bare connection for tampering with a database file.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    sqlite3* db = nullptr;
    rc_ = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    db_.reset(db);
  }
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3* get() const { return db_.get(); }

  void Exec(const std::string& sql) {
    char* error = nullptr;
    int rc = sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (error != nullptr ? error : "");
    sqlite3_free(error);
  }

  int64_t QueryInt(const std::string& sql) {
    sqlite3_stmt* raw = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &raw, nullptr), SQLITE_OK) << sql;
    internal::StmtPtr stmt(raw);
    EXPECT_EQ(sqlite3_step(stmt.get()), SQLITE_ROW) << sql;
    return sqlite3_column_int64(stmt.get(), 0);
  }

  std::string QueryText(const std::string& sql) {
    sqlite3_stmt* raw = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &raw, nullptr), SQLITE_OK) << sql;
    internal::StmtPtr stmt(raw);
    EXPECT_EQ(sqlite3_step(stmt.get()), SQLITE_ROW) << sql;
    const unsigned char* text = sqlite3_column_text(stmt.get(), 0);
    return text != nullptr ? reinterpret_cast<const char*>(text) : "";
  }

 private:
  int rc_;
  internal::DbPtr db_;
};

class SqliteSchemaTest : public testing::StoreTest {
 protected:
  static mode_t ModeOf(const std::string& path) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) return 0;
    return st.st_mode & 07777;
  }
};

const int64_t kKnown = static_cast<int64_t>(internal::SchemaMigrations().size());

TEST_F(SqliteSchemaTest, CreatesTheDatabaseAndItsLogsWithMode0600) {
  // Even with a permissive umask: the store sets the mode, not the environment.
  mode_t old_umask = umask(0);
  std::unique_ptr<DataStore> store = Open();
  umask(old_umask);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->RecordIssuances({MakeIssuance("01")}).ok());
  EXPECT_EQ(ModeOf(db_path_), 0600);
  EXPECT_EQ(ModeOf(db_path_ + "-wal"), 0600);
  EXPECT_EQ(ModeOf(db_path_ + "-shm"), 0600);

  RawDb raw(db_path_);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw.QueryText("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.QueryInt("PRAGMA user_version"), kKnown);
  EXPECT_EQ(raw.QueryInt("PRAGMA application_id"), internal::kApplicationId);
}

TEST_F(SqliteSchemaTest, MissingParentDirectoryIsNotFoundNamingThePath) {
  const std::string path = Path("no/such/dir/meshid.db");
  absl::StatusOr<std::unique_ptr<DataStore>> store = OpenSqlite(path);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(path));
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("does not exist"));

  std::ofstream(Path("file")) << "x";
  store = OpenSqlite(Path("file/meshid.db"));
  EXPECT_EQ(store.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("is not a directory"));

  EXPECT_EQ(OpenSqlite("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SqliteSchemaTest, DataSurvivesCloseAndReopen) {
  {
    std::unique_ptr<DataStore> store = Open();
    ASSERT_NE(store, nullptr);
    JoinTokenRecord token;
    token.token_hash = "h1";
    token.node_name = "node-1";
    token.expires_at = At(2000);
    ASSERT_TRUE(store->CreateJoinToken(token).ok());
    NodeRecord node;
    node.name = "node-1";
    node.svid_serial = "s1";
    ASSERT_TRUE(store->AttestNode("h1", At(1000), node, MakeIssuance("s1")).ok());
    EntryRecord entry;
    entry.id = "e1";
    entry.spiffe_id = "spiffe://td/w";
    entry.parent_id = "spiffe://td/meshid/node/node-1";
    entry.selectors = {"b", "a"};
    ASSERT_TRUE(store->CreateEntry(entry).ok());
    ASSERT_TRUE(store->DeleteEntry("e1").ok());
    entry.id = "e2";
    ASSERT_TRUE(store->CreateEntry(entry).ok());
    ASSERT_TRUE(store->AddRoot("root-1").ok());
    ASSERT_TRUE(store->AddRoot("root-2").ok());
  }
  std::unique_ptr<DataStore> store = Open({.full_sync = true});
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE((*store->GetJoinToken("h1"))->used_at.has_value());
  EXPECT_EQ((*store->GetNode("node-1"))->svid_serial, "s1");
  EXPECT_EQ(*store->CountIssuances(), 1);
  absl::StatusOr<EntryChanges> changes =
      store->EntryChangesSince("spiffe://td/meshid/node/node-1", 1);
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ(changes->revision, 3);
  EXPECT_THAT(changes->deleted_ids, ::testing::ElementsAre("e1"));
  ASSERT_EQ(changes->entries.size(), 1U);
  EXPECT_THAT(changes->entries[0].selectors, ::testing::ElementsAre("a", "b"));
  absl::StatusOr<BundleRecord> bundle = store->GetBundle();
  ASSERT_TRUE(bundle.ok());
  EXPECT_THAT(bundle->roots_der, ::testing::ElementsAre("root-1", "root-2"));
  EXPECT_EQ(bundle->sequence, 2U);
  // Counters continue where they were: a sequence number is never reused.
  EXPECT_EQ(store->AddRoot("root-3")->sequence, 3U);
  EXPECT_EQ(store
                ->CreateEntry(EntryRecord{
                    .id = "e3", .spiffe_id = "spiffe://td/x", .parent_id = "spiffe://td/p"})
                ->revision,
            4);
}

TEST_F(SqliteSchemaTest, ReopeningAnUpToDateDatabaseAppliesNothing) {
  ASSERT_NE(Open(), nullptr);
  ASSERT_NE(Open(), nullptr);
  RawDb raw(db_path_);
  ASSERT_TRUE(raw.ok());
  absl::StatusOr<int> applied =
      internal::Migrate(raw.get(), db_path_, internal::SchemaMigrations());
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(*applied, 0);
  EXPECT_EQ(raw.QueryInt("PRAGMA user_version"), kKnown);
}

TEST_F(SqliteSchemaTest, DatabaseFromANewerMeshidIsFailedPrecondition) {
  ASSERT_NE(Open(), nullptr);
  {
    RawDb raw(db_path_);
    ASSERT_TRUE(raw.ok());
    raw.Exec("PRAGMA user_version = " + std::to_string(kKnown + 5));
  }
  absl::StatusOr<std::unique_ptr<DataStore>> store = OpenSqlite(db_path_);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()),
              HasSubstr(absl::StrCat(db_path_, " was written by a newer meshid (schema ",
                                     kKnown + 5, ", this build knows ", kKnown, ")")));
  RawDb raw(db_path_);
  EXPECT_EQ(raw.QueryInt("PRAGMA user_version"), kKnown + 5);  // left as it was
}

TEST_F(SqliteSchemaTest, AnotherProgramsDatabaseIsFailedPrecondition) {
  {
    RawDb raw(db_path_);
    ASSERT_TRUE(raw.ok());
    raw.Exec("PRAGMA application_id = 42; CREATE TABLE theirs (x)");
  }
  absl::StatusOr<std::unique_ptr<DataStore>> store = OpenSqlite(db_path_);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("not a meshid database"));

  std::ofstream(Path("garbage.db")) << std::string(8192, 'g');
  store = OpenSqlite(Path("garbage.db"));
  EXPECT_FALSE(store.ok());
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("garbage.db"));
}

TEST_F(SqliteSchemaTest, EachMigrationIsItsOwnTransaction) {
  RawDb raw(db_path_);
  ASSERT_TRUE(raw.ok());
  const char* const broken[] = {"CREATE TABLE t1 (x)",
                                "CREATE TABLE t2 (x); INSERT INTO missing VALUES (1)"};
  absl::StatusOr<int> applied = internal::Migrate(raw.get(), db_path_, broken);
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(applied.status().message()), HasSubstr("schema version 2"));
  EXPECT_THAT(std::string(applied.status().message()), HasSubstr("no such table: missing"));
  // The first migration stays applied; nothing of the second remains.
  EXPECT_EQ(raw.QueryInt("PRAGMA user_version"), 1);
  EXPECT_EQ(raw.QueryInt("SELECT COUNT(*) FROM sqlite_master WHERE name = 't1'"), 1);
  EXPECT_EQ(raw.QueryInt("SELECT COUNT(*) FROM sqlite_master WHERE name = 't2'"), 0);

  const char* const fixed[] = {"CREATE TABLE t1 (x)", "CREATE TABLE t2 (x)", "CREATE TABLE t3 (x)"};
  applied = internal::Migrate(raw.get(), db_path_, fixed);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(*applied, 2);
  EXPECT_EQ(raw.QueryInt("PRAGMA user_version"), 3);
}

TEST_F(SqliteSchemaTest, SqliteFailuresNameTheOperationOnOneLine) {
  std::unique_ptr<DataStore> store = Open();
  ASSERT_NE(store, nullptr);
  {
    RawDb raw(db_path_);
    raw.Exec("DROP TABLE issuances");
  }
  absl::Status s = store->RecordIssuances({MakeIssuance("01")});
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(s.message()), HasSubstr("RecordIssuances"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("no such table: issuances"));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("\n")));
  // The failed transaction was rolled back: the store keeps working.
  EXPECT_TRUE(store->AddRoot("root").ok());
}

}  // namespace
}  // namespace meshid::store
