// Concurrency and crash durability of the SQLite DataStore, on real files and processes.

#include <algorithm>
#include <atomic>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "meshid/store/data_store.h"
#include "store_test_util.h"

namespace meshid::store {
namespace {

using testing::MakeIssuance;

class SqliteDurabilityTest : public testing::StoreTest {};

TEST_F(SqliteDurabilityTest, ConcurrentWritersFromManyThreadsAllLand) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::unique_ptr<DataStore> store = Open();
  ASSERT_NE(store, nullptr);
  // A second connection to the same file: its writers contend on SQLite's lock, not the mutex.
  std::unique_ptr<DataStore> other = Open();
  ASSERT_NE(other, nullptr);

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    DataStore* target = t % 2 == 0 ? store.get() : other.get();
    threads.emplace_back([target, t, &failures] {
      for (int i = 0; i < kPerThread; ++i) {
        absl::Status s = target->RecordIssuances({MakeIssuance(absl::StrCat(t, "-", i))});
        if (!s.ok()) {
          ADD_FAILURE() << s;
          ++failures;
        }
        // Readers interleave with the writers.
        if (i % 50 == 0 && !target->CountIssuances().ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(*store->CountIssuances(), kThreads * kPerThread);
  EXPECT_EQ(*other->CountIssuances(), kThreads * kPerThread);
}

TEST_F(SqliteDurabilityTest, ConcurrentEntryCreationGivesDistinctRevisions) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::unique_ptr<DataStore> store = Open();
  ASSERT_NE(store, nullptr);
  std::vector<std::vector<int64_t>> revisions(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, &revisions, t] {
      for (int i = 0; i < kPerThread; ++i) {
        EntryRecord e;
        e.id = absl::StrCat("e", t, "-", i);
        e.spiffe_id = absl::StrCat("spiffe://td/w", i);
        e.parent_id = absl::StrCat("spiffe://td/node", t);
        absl::StatusOr<EntryRecord> created = store->CreateEntry(e);
        ASSERT_TRUE(created.ok()) << created.status();
        revisions[t].push_back(created->revision);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::vector<int64_t> all;
  for (const auto& r : revisions) all.insert(all.end(), r.begin(), r.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads) * kPerThread);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], static_cast<int64_t>(i + 1));
}

// RunChild records issuances one at a time and writes each acknowledged serial, then a
// newline, to `fd`, until it is killed. It never returns.
[[noreturn]] void RunChild(const std::string& path, int fd, int count) {
  absl::StatusOr<std::unique_ptr<DataStore>> store = OpenSqlite(path);
  if (!store.ok()) _exit(2);
  for (int i = 0; i < count; ++i) {
    const std::string serial = absl::StrCat("c", i);
    if (!(*store)->RecordIssuances({MakeIssuance(serial)}).ok()) _exit(3);
    const std::string line = serial + "\n";
    if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(4);
  }
  _exit(0);
}

TEST_F(SqliteDurabilityTest, AcknowledgedWritesSurviveKill9) {
  constexpr int kTotal = 100000;    // far more than the child gets through before the kill
  constexpr int kKillAfter = 1000;  // acknowledgements seen before the kill
  ASSERT_NE(Open(), nullptr);       // create the schema; closed again before the fork

  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    RunChild(db_path_, fds[1], kTotal);
  }
  close(fds[1]);

  // Read acknowledgements until enough have arrived, then kill the child mid-stream.
  std::string acked;
  int lines = 0;
  bool killed = false;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  char buf[4096];
  while (true) {
    if (!killed && (lines >= kKillAfter || absl::Now() > deadline)) {
      ASSERT_EQ(kill(child, SIGKILL), 0);
      killed = true;
    }
    pollfd p{.fd = fds[0], .events = POLLIN};
    int ready = poll(&p, 1, 1000);
    if (ready < 0) break;
    if (ready == 0) continue;
    ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n <= 0) break;  // EOF: the child is gone and everything it wrote is read
    acked.append(buf, static_cast<size_t>(n));
    lines = static_cast<int>(std::count(acked.begin(), acked.end(), '\n'));
  }
  close(fds[0]);
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL)
      << "the child ended before the kill, status " << wstatus;
  ASSERT_GE(lines, kKillAfter);

  std::unique_ptr<DataStore> store = Open();
  ASSERT_NE(store, nullptr);
  int checked = 0;
  // Each line went out in one write() shorter than PIPE_BUF, so none can be cut short.
  for (absl::string_view serial : absl::StrSplit(acked, '\n', absl::SkipEmpty())) {
    absl::StatusOr<std::optional<IssuanceRecord>> r = store->GetIssuance(std::string(serial));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->has_value()) << "acknowledged serial " << serial << " was lost";
    ++checked;
  }
  EXPECT_GE(checked, kKillAfter);
  // Every committed transaction is whole: the count covers at least what was acknowledged.
  EXPECT_GE(*store->CountIssuances(), checked);
}

}  // namespace
}  // namespace meshid::store
