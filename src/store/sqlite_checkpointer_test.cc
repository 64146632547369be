#include "sqlite_checkpointer.h"

#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "meshid/store/data_store.h"
#include "store_test_util.h"

namespace meshid::store::internal {
namespace {

namespace fs = std::filesystem;
using CheckpointerTest = testing::StoreTest;

// In WAL mode only checkpoints write the database file: the file grows once the background
// checkpointer has copied the log into it, though no commit ran a checkpoint.
TEST_F(CheckpointerTest, CopiesTheLogIntoTheDatabaseInTheBackground) {
  std::unique_ptr<DataStore> store = Open();
  ASSERT_NE(store, nullptr);
  const uintmax_t before = fs::file_size(db_path_);

  // Each token is one transaction of at least a page: well past the 1,000-page threshold.
  for (int i = 0; i < 2 * Checkpointer::kPages; ++i) {
    JoinTokenRecord token;
    token.token_hash = absl::StrCat("hash-", i);
    token.created_at = testing::At(1'700'000'000);
    token.expires_at = testing::At(1'700'003'600);
    ASSERT_TRUE(store->CreateJoinToken(token).ok());
  }
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (fs::file_size(db_path_) == before && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_GT(fs::file_size(db_path_), before);
  // Everything committed is there, whether in the log or the file.
  absl::StatusOr<std::optional<JoinTokenRecord>> last =
      store->GetJoinToken(absl::StrCat("hash-", 2 * Checkpointer::kPages - 1));
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_TRUE(last->has_value());
}

// A writer attached to the checkpointer no longer checkpoints inside its commits.
TEST_F(CheckpointerTest, AnAttachedWriterLeavesCheckpointsToIt) {
  const std::string path = Path("raw.db");
  auto open = [&] {
    sqlite3* raw = nullptr;
    EXPECT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    return DbPtr(raw);
  };
  DbPtr writer = open();
  ASSERT_TRUE(ExecScript(writer.get(),
                         "PRAGMA journal_mode = WAL; CREATE TABLE t (v BLOB); "
                         "PRAGMA wal_autocheckpoint = 1",  // SQLite would checkpoint every commit
                         "test")
                  .ok());
  Checkpointer checkpointer(open());
  checkpointer.Attach(writer.get());
  const uintmax_t before = fs::file_size(path);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(ExecScript(writer.get(), "INSERT INTO t VALUES (zeroblob(8000))", "test").ok());
  }
  // 20 commits of 2+ pages each, all below the threshold: nothing was copied.
  EXPECT_EQ(fs::file_size(path), before);
  EXPECT_EQ(checkpointer.Completed(), 0);
  writer.reset();
}

}  // namespace
}  // namespace meshid::store::internal
