// The meshid binary: every role is a subcommand. This is the only place where concrete
// implementations are wired together.

#include <iostream>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "meshid/api/grpc_log.h"
#include "meshid/base/clock.h"
#include "meshid/cli/cli.h"

int main(int argc, char** argv) {
#ifdef NDEBUG
  // Debian's Abseil tracks lock-order cycles in every absl::Mutex (gRPC's locks): a debugging
  // aid that cost the agent measurable CPU per stream write. Debug and sanitizer builds keep it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  meshid::api::RouteGrpcLogs();
  std::vector<std::string> args(argv, argv + argc);
  return meshid::cli::RunCli(args, std::cout, std::cerr, meshid::base::SystemClock());
}
