#pragma once

// Registration of each command group on the root CLI11 app.

#include "CLI/CLI.hpp"
#include "io.h"

namespace meshid::cli {

void AddPkiCommands(CLI::App& app, Io& io);
void AddX509Commands(CLI::App& app, Io& io);
void AddCheckCommand(CLI::App& app, Io& io);
void AddCaCommands(CLI::App& app, Io& io);
void AddAdminCommands(CLI::App& app, Io& io);
// AddAgentCommands adds `agent` and `svid`.
void AddAgentCommands(CLI::App& app, Io& io);
// AddPolicyCommands adds `policy` (eval, lint).
void AddPolicyCommands(CLI::App& app, Io& io);
// AddAuditCommands adds `audit` (pods).
void AddAuditCommands(CLI::App& app, Io& io);

}  // namespace meshid::cli
