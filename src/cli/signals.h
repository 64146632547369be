#pragma once

// Stopping long-running commands (ca serve, agent run, svid watch/sync) on SIGINT/SIGTERM.

#include <functional>
#include <thread>

#include <signal.h>

namespace meshid::cli {

// StopSignals blocks SIGINT and SIGTERM in the calling thread, and so in every thread it
// starts afterwards: construct it before any thread starts, so that only Wait sees them.
class StopSignals {
 public:
  StopSignals();
  // Wait blocks until SIGINT or SIGTERM arrives.
  void Wait();
  // OnSignal runs `stop` in a thread of its own when a signal arrives; the thread ends when
  // this object is destroyed, signal or not.
  void OnSignal(std::function<void()> stop);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  sigset_t set_;
  std::thread waiter_;
};

}  // namespace meshid::cli
