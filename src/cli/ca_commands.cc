// meshid ca: run the CA server, print its default configuration.

#include "absl/strings/str_cat.h"
#include "commands.h"
#include "meshid/base/files.h"
#include "meshid/base/status.h"
#include "meshid/ca/config.h"
#include "meshid/ca/server.h"
#include "signals.h"

namespace meshid::cli {
namespace {

struct ServeOptions {
  std::string config;
  bool allow_root_key_online = false;
};

absl::Status RunServe(Io& io, const ServeOptions& o) {
  MESHID_ASSIGN_OR_RETURN(std::string text, base::ReadFile(o.config));
  MESHID_ASSIGN_OR_RETURN(ca::CaConfig config, ca::ParseCaConfig(text, o.config));
  StopSignals stop;  // before any thread starts
  absl::StatusOr<std::unique_ptr<ca::CaServer>> server =
      ca::CaServer::Start(config, {o.allow_root_key_online}, io.clock);
  if (!server.ok()) return server.status();
  stop.Wait();
  (*server)->Shutdown();
  return absl::OkStatus();
}

}  // namespace

void AddCaCommands(CLI::App& app, Io& io) {
  CLI::App* ca = app.add_subcommand("ca", "The CA server: issue and rotate identities");
  ca->require_subcommand(1);

  auto serve_opts = std::make_shared<ServeOptions>();
  CLI::App* serve =
      ca->add_subcommand("serve", "Run the CA server until SIGINT or SIGTERM (logs go to stderr)");
  serve->add_option("--config", serve_opts->config, "Configuration file (see meshid ca config)")
      ->required();
  serve->add_flag("--allow-root-key-online", serve_opts->allow_root_key_online,
                  "Start even if the root's private key is readable in upstream_dir (labs only)");
  serve->footer(Examples({"meshid ca config > ca.yaml   # then edit trust_domain and paths",
                          "meshid ca serve --config ca.yaml"}));
  serve->callback([&io, serve_opts] {
    if (absl::Status s = RunServe(io, *serve_opts); !s.ok()) io.exit_code = Fail(io, s);
  });

  CLI::App* config = ca->add_subcommand("config", "Print a commented default configuration");
  config->footer(Examples({"meshid ca config > /etc/meshid/ca.yaml"}));
  config->callback([&io] { io.out << ca::DefaultCaConfigYaml(); });
}

}  // namespace meshid::cli
