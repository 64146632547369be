#include "signals.h"

#include <pthread.h>

namespace meshid::cli {

StopSignals::StopSignals() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

void StopSignals::Wait() {
  int signal = 0;
  sigwait(&set_, &signal);
}

void StopSignals::OnSignal(std::function<void()> stop) {
  waiter_ = std::thread([this, stop = std::move(stop)] {
    Wait();
    stop();
  });
}

StopSignals::~StopSignals() {
  if (!waiter_.joinable()) return;
  // Wakes the waiter if no signal came: a SIGTERM sent to that thread alone, which sigwait
  // consumes.
  pthread_kill(waiter_.native_handle(), SIGTERM);
  waiter_.join();
}

}  // namespace meshid::cli
