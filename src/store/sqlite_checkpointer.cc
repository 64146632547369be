#include "sqlite_checkpointer.h"

#include <utility>

#include "meshid/base/log.h"

namespace meshid::store::internal {

Checkpointer::Checkpointer(DbPtr db) : db_(std::move(db)), thread_([this] { Run(); }) {}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Checkpointer::Attach(sqlite3* db) { sqlite3_wal_hook(db, &Checkpointer::OnCommit, this); }

int64_t Checkpointer::Completed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return completed_;
}

int Checkpointer::OnCommit(void* self, sqlite3*, const char*, int pages) {
  if (pages < kPages) return SQLITE_OK;
  auto* checkpointer = static_cast<Checkpointer*>(self);
  {
    std::lock_guard<std::mutex> lock(checkpointer->mu_);
    checkpointer->due_ = true;
  }
  checkpointer->wake_.notify_one();
  return SQLITE_OK;
}

void Checkpointer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return due_ || stop_; });
    if (stop_) return;
    due_ = false;
    lock.unlock();
    int rc =
        sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    // Busy only means another checkpoint ran meanwhile; the next commit asks again.
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      base::Logger("store")->warn("background WAL checkpoint failed: {}",
                                  sqlite3_errmsg(db_.get()));
    }
    lock.lock();
    ++completed_;
  }
}

}  // namespace meshid::store::internal
