// The meshid binary: every role is a subcommand. This is the only place where concrete
// implementations are wired together.

#include <iostream>
#include <string>
#include <vector>

#include "meshid/api/grpc_log.h"
#include "meshid/base/clock.h"
#include "meshid/cli/cli.h"

int main(int argc, char** argv) {
  meshid::api::RouteGrpcLogs();
  std::vector<std::string> args(argv, argv + argc);
  return meshid::cli::RunCli(args, std::cout, std::cerr, meshid::base::SystemClock());
}
