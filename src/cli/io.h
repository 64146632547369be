#pragma once

// Shared plumbing of the CLI commands: streams, clock, output format, error reporting.

#include <ostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "meshid/base/clock.h"
#include "meshid/cli/cli.h"
#include "nlohmann/json.hpp"

namespace meshid::cli {

struct Io {
  std::ostream& out;
  std::ostream& err;
  const base::Clock& clock;
  int exit_code = 0;
};

// Fail reports `status` as one line on stderr ("meshid: <message>", made printable) and
// returns kExitError.
int Fail(Io& io, const absl::Status& status);

// AddOutputFlag adds "-o,--output text|json" to `cmd`, bound to `json` (true for json).
void AddOutputFlag(CLI::App* cmd, bool* json);

// AddAtFlag adds "--at TIME" (RFC 3339) to evaluate at another time than now.
void AddAtFlag(CLI::App* cmd, std::string* at);

// AddRootNamespaceFlag adds "--root-namespace NS", Istio's root namespace (mesh-wide policies),
// bound to `root_namespace`, which holds the default.
void AddRootNamespaceFlag(CLI::App* cmd, std::string* root_namespace);

// ResolveTime returns the time given with --at, or the clock's now when `at` is empty.
absl::StatusOr<absl::Time> ResolveTime(const Io& io, const std::string& at);

// PrintJson writes `doc` indented, with a trailing newline; invalid UTF-8 in a string is
// replaced with U+FFFD.
void PrintJson(Io& io, const nlohmann::json& doc);

// Example formats a help footer: "Examples:" followed by each line indented.
std::string Examples(std::initializer_list<const char*> lines);

}  // namespace meshid::cli
