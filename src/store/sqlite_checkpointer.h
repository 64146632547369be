#pragma once

// Private to the store module: WAL checkpoints on a connection and thread of their own.

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "sqlite_util.h"

namespace meshid::store::internal {

// Checkpointer copies the write-ahead log back into the database file in the background.
// SQLite otherwise does it inside the commit that brings the log to 1,000 pages, so that one
// request in a thousand or so waits for the copy and its fsyncs (tens of milliseconds on a
// slow disk). Checkpoints are PASSIVE: they never block a writer, and a commit's durability
// does not depend on them.
class Checkpointer {
 public:
  // Checkpointer checkpoints through `db`, a connection of its own to a database in WAL
  // mode, configured with the writer's durability (its synchronous setting decides the
  // fsyncs of a checkpoint).
  explicit Checkpointer(DbPtr db);
  ~Checkpointer();  // waits for a checkpoint in progress, then closes its connection

  // Attach makes the writer `db` ask for a checkpoint instead of running one; it replaces
  // SQLite's automatic checkpoints on `db`. `db` must close before this object goes.
  void Attach(sqlite3* db);

  // Completed counts the checkpoints attempted so far, whatever their result (for tests).
  int64_t Completed() const;

  static constexpr int kPages = 1000;  // SQLite's own automatic threshold

 private:
  static int OnCommit(void* self, sqlite3* db, const char* name, int pages);
  void Run();

  DbPtr db_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool due_ = false;
  bool stop_ = false;
  int64_t completed_ = 0;
  std::thread thread_;  // last: starts after the members it uses
};

}  // namespace meshid::store::internal
