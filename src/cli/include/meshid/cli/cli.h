#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "meshid/base/clock.h"

namespace meshid::cli {

// Exit codes every command keeps, so that scripts and CI can rely on them.
inline constexpr int kExitOk = 0;
inline constexpr int kExitWarning = 1;  // check: worst result is a warning; verify: rejected
inline constexpr int kExitError = 2;    // bad input, failed command, or a failed check

// RunCli runs the meshid command line `args` (args[0] is the program name), writing results
// to `out` and diagnostics to `err`, and returns the exit code.
int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
           const base::Clock& clock);

}  // namespace meshid::cli
