#include "meshid/cli/cli.h"

#include <ostream>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "commands.h"
#include "io.h"

namespace meshid::cli {
namespace {

// Deepest returns the deepest subcommand that was parsed (the app itself when none was).
CLI::App* Deepest(CLI::App& app) {
  CLI::App* current = &app;
  while (!current->get_subcommands().empty()) current = current->get_subcommands().front();
  return current;
}

// CommandPath returns "meshid pki init" for the deepest subcommand that was parsed.
std::string CommandPath(CLI::App& app) {
  std::string path = app.get_name();
  for (CLI::App* current = &app; !current->get_subcommands().empty();) {
    current = current->get_subcommands().front();
    absl::StrAppend(&path, " ", current->get_name());
  }
  return path;
}

}  // namespace

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
           const base::Clock& clock) {
  Io io{out, err, clock};
  CLI::App app(
      "meshid: SPIFFE identities and mTLS for a service mesh, and the tools that keep "
      "certificate lifecycles from causing outages.",
      "meshid");
  app.require_subcommand(1);
  app.set_version_flag("--version", "meshid 0.1.0");
  app.footer(
      "\nExit status: 0 success, 1 a warning or a rejected certificate, 2 bad input or a\n"
      "failure. Run 'meshid <command> --help' for a command's options and examples.");
  AddPkiCommands(app, io);
  AddX509Commands(app, io);
  AddCheckCommand(app, io);
  AddCaCommands(app, io);
  AddAdminCommands(app, io);
  AddAgentCommands(app, io);
  AddPolicyCommands(app, io);
  AddAuditCommands(app, io);

  std::vector<const char*> argv;
  argv.reserve(args.size());
  for (const std::string& a : args) argv.push_back(a.c_str());
  if (args.size() <= 1) {
    err << app.help() << "\nmeshid: a command is required.\n";
    return kExitError;
  }
  // CLI11 reports parse errors, --help and --version by throwing; this is the edge where they
  // become an exit code.
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp&) {
    out << app.help();  // help of the deepest subcommand given
    return kExitOk;
  } catch (const CLI::CallForVersion& e) {
    out << e.what() << "\n";
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    // An unknown command shows up as a missing subcommand with the word left over.
    std::vector<std::string> extra = Deepest(app)->remaining();
    if (!extra.empty() && absl::StrContains(message, "ubcommand")) {
      message = absl::StrCat("unknown command \"", extra.front(), "\"");
    }
    err << "meshid: " << message << ". Run '" << CommandPath(app) << " --help' for usage.\n";
    return kExitError;
  }
  return io.exit_code;
}

}  // namespace meshid::cli
