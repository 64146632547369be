// meshid agent: run the node agent, print its default configuration.
// meshid svid: the Workload API client side — fetch, watch and sync SVIDs.

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "commands.h"
#include "meshid/agent/agent.h"
#include "meshid/agent/config.h"
#include "meshid/agent/workload_client.h"
#include "meshid/base/duration.h"
#include "meshid/base/files.h"
#include "meshid/base/status.h"
#include "meshid/base/text.h"
#include "signals.h"

namespace meshid::cli {
namespace {

using nlohmann::json;

struct RunOptions {
  std::string config;
  bool insecure_bootstrap = false;
};

absl::Status RunAgent(Io& io, const RunOptions& o) {
  MESHID_ASSIGN_OR_RETURN(std::string text, base::ReadFile(o.config));
  MESHID_ASSIGN_OR_RETURN(agent::AgentConfig config, agent::ParseAgentConfig(text, o.config));
  StopSignals stop;  // before any thread starts
  absl::StatusOr<std::unique_ptr<agent::Agent>> running =
      agent::Agent::Start(config, {o.insecure_bootstrap}, io.clock);
  if (!running.ok()) return running.status();
  stop.Wait();
  (*running)->Shutdown();
  return absl::OkStatus();
}

// DefaultSocket is SPIFFE_ENDPOINT_SOCKET when set, else the agent's default socket.
std::string DefaultSocket() {
  const char* env = std::getenv("SPIFFE_ENDPOINT_SOCKET");
  return env != nullptr && *env != '\0' ? env : agent::kDefaultWorkloadSocket;
}

json SvidJson(const agent::X509Svid& svid) {
  return {{"spiffe_id", svid.spiffe_id},
          {"serial", svid.chain.front().serial_hex()},
          {"not_before", base::Rfc3339(svid.chain.front().not_before())},
          {"not_after", base::Rfc3339(svid.chain.front().not_after())},
          {"hint", svid.hint},
          {"chain_length", svid.chain.size()},
          {"bundle_roots", svid.bundle.size()}};
}

void PrintSvids(Io& io, const std::vector<agent::X509Svid>& svids, bool as_json) {
  if (as_json) {
    json list = json::array();
    for (const agent::X509Svid& s : svids) list.push_back(SvidJson(s));
    PrintJson(io, {{"svids", list}});
    return;
  }
  for (const agent::X509Svid& s : svids) {
    const pki::Certificate& leaf = s.chain.front();
    io.out << "SPIFFE ID:  " << base::Printable(s.spiffe_id) << "\n"
           << "Serial:     " << leaf.serial_hex() << "\n"
           << "Expires:    " << base::Rfc3339(leaf.not_after()) << " (in "
           << base::HumanDuration(leaf.not_after() - io.clock.Now()) << ")\n";
    if (!s.hint.empty()) io.out << "Hint:       " << base::Printable(s.hint) << "\n";
    io.out << "\n";
  }
}

// WriteSvidFiles writes svid.pem (leaf + chain), svid.key (0600) and bundle.pem into `dir`
// for the first SVID, each file replaced atomically (temporary file + rename).
absl::Status WriteSvidFiles(const std::string& dir, const agent::X509Svid& svid) {
  MESHID_ASSIGN_OR_RETURN(base::SecretString key, svid.key.ToPkcs8Pem());
  base::StagedFiles files;
  files.Add(dir + "/svid.pem", pki::ToPem(svid.chain), 0644);
  files.AddSecret(dir + "/svid.key", std::move(key));
  files.Add(dir + "/bundle.pem", pki::ToPem(svid.bundle), 0644);
  return files.Commit(/*overwrite=*/true);
}

// Pick returns the SVID to write: the one named `spiffe_id`, else the first (the default
// identity, as SPIFFE libraries treat it).
absl::StatusOr<const agent::X509Svid*> Pick(const std::vector<agent::X509Svid>& svids,
                                            const std::string& spiffe_id) {
  if (spiffe_id.empty()) return &svids.front();
  for (const agent::X509Svid& s : svids) {
    if (s.spiffe_id == spiffe_id) return &s;
  }
  return absl::NotFoundError(absl::StrCat("this process has no SVID for ", spiffe_id));
}

struct SvidOptions {
  std::string socket = DefaultSocket();
  std::string out;
  std::string spiffe_id;
  std::string exec;
  std::string timeout = "10s";
  bool json = false;
};

void AddSocketOption(CLI::App* cmd, SvidOptions* o) {
  cmd->add_option("--socket", o->socket,
                  "Workload API address (default: $SPIFFE_ENDPOINT_SOCKET, else "
                  "unix:///run/meshid/agent.sock)");
  cmd->add_flag("--json", o->json, "Print JSON");
}

absl::Status Fetch(Io& io, const SvidOptions& o) {
  MESHID_ASSIGN_OR_RETURN(absl::Duration timeout, base::ParseDuration(o.timeout));
  MESHID_ASSIGN_OR_RETURN(std::unique_ptr<agent::WorkloadClient> client,
                          agent::WorkloadClient::Connect(o.socket));
  MESHID_ASSIGN_OR_RETURN(std::vector<agent::X509Svid> svids, client->FetchX509(timeout));
  if (!o.out.empty()) {
    MESHID_ASSIGN_OR_RETURN(const agent::X509Svid* svid, Pick(svids, o.spiffe_id));
    MESHID_RETURN_IF_ERROR(WriteSvidFiles(o.out, *svid));
    if (!o.json) {
      io.err << "Wrote " << o.out << "/svid.pem, svid.key (0600) and bundle.pem for "
             << base::Printable(svid->spiffe_id) << "\n";
    }
  }
  PrintSvids(io, svids, o.json);
  return absl::OkStatus();
}

// Follow runs `on_update` for every update from the Workload API until a stop signal,
// reconnecting with backoff when the agent goes away; `on_update` errors end it.
absl::Status Follow(
    Io& io, const SvidOptions& o,
    const std::function<absl::Status(const std::vector<agent::X509Svid>&)>& on_update) {
  StopSignals stop;
  MESHID_ASSIGN_OR_RETURN(std::unique_ptr<agent::WorkloadClient> client,
                          agent::WorkloadClient::Connect(o.socket));
  std::atomic<bool> stopped{false};
  stop.OnSignal([&] {
    stopped = true;
    client->Cancel();
  });
  absl::Duration backoff = absl::Seconds(1);
  absl::Status failed = absl::OkStatus();
  while (!stopped) {
    absl::Status end = client->WatchX509([&](const std::vector<agent::X509Svid>& svids) {
      backoff = absl::Seconds(1);
      failed = on_update(svids);
      return failed.ok();
    });
    if (!failed.ok()) return failed;
    if (stopped) break;
    if (end.ok()) end = absl::UnavailableError("the agent ended the stream");
    // A caller without an identity will not get one by retrying quickly.
    if (end.code() == absl::StatusCode::kPermissionDenied ||
        end.code() == absl::StatusCode::kInvalidArgument) {
      return end;
    }
    io.err << "meshid: " << base::Printable(std::string(end.message())) << "; retrying in "
           << base::HumanDuration(backoff) << "\n";
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(30));
  }
  return absl::OkStatus();
}

absl::Status Watch(Io& io, const SvidOptions& o) {
  return Follow(io, o, [&](const std::vector<agent::X509Svid>& svids) {
    if (o.json) {
      json list = json::array();
      for (const agent::X509Svid& s : svids) list.push_back(SvidJson(s));
      io.out << json{{"received_at", base::Rfc3339(io.clock.Now())}, {"svids", list}}.dump()
             << std::endl;
    } else {
      io.out << "# update at " << base::Rfc3339(io.clock.Now()) << "\n";
      PrintSvids(io, svids, false);
      io.out.flush();
    }
    return absl::OkStatus();
  });
}

absl::Status Sync(Io& io, const SvidOptions& o) {
  return Follow(io, o, [&](const std::vector<agent::X509Svid>& svids) -> absl::Status {
    MESHID_ASSIGN_OR_RETURN(const agent::X509Svid* svid, Pick(svids, o.spiffe_id));
    MESHID_RETURN_IF_ERROR(WriteSvidFiles(o.out, *svid));
    io.err << base::Rfc3339(io.clock.Now()) << " wrote " << o.out << " for "
           << base::Printable(svid->spiffe_id) << " serial " << svid->chain.front().serial_hex()
           << " expiring " << base::Rfc3339(svid->chain.front().not_after()) << "\n";
    if (!o.exec.empty()) {
      int rc = std::system(o.exec.c_str());
      if (rc != 0) io.err << "meshid: --exec command exited with status " << rc << "\n";
    }
    return absl::OkStatus();
  });
}

void AddSvidCommands(CLI::App& app, Io& io) {
  CLI::App* svid = app.add_subcommand("svid", "Workload API client: fetch, watch and sync SVIDs");
  svid->require_subcommand(1);

  auto fetch_opts = std::make_shared<SvidOptions>();
  CLI::App* fetch =
      svid->add_subcommand("fetch", "Print this process's X509-SVIDs, and optionally write them");
  AddSocketOption(fetch, fetch_opts.get());
  fetch->add_option("-o,--out", fetch_opts->out,
                    "Write svid.pem, svid.key (0600) and bundle.pem into this directory");
  fetch->add_option("--spiffe-id", fetch_opts->spiffe_id,
                    "Which SVID to write when there are several (default: the first)");
  fetch->add_option("--timeout", fetch_opts->timeout, "How long to wait for the first SVID")
      ->capture_default_str();
  fetch->footer(Examples(
      {"meshid svid fetch", "meshid svid fetch --socket unix:///run/meshid/agent.sock -o /tmp/id",
       "SPIFFE_ENDPOINT_SOCKET=unix:///tmp/agent.sock meshid svid fetch --json"}));
  fetch->callback([&io, fetch_opts] {
    if (absl::Status s = Fetch(io, *fetch_opts); !s.ok()) io.exit_code = Fail(io, s);
  });

  auto watch_opts = std::make_shared<SvidOptions>();
  CLI::App* watch = svid->add_subcommand(
      "watch", "Print every SVID update as it arrives, until SIGINT or SIGTERM");
  AddSocketOption(watch, watch_opts.get());
  watch->footer(Examples({"meshid svid watch", "meshid svid watch --json | jq .svids[0].serial"}));
  watch->callback([&io, watch_opts] {
    if (absl::Status s = Watch(io, *watch_opts); !s.ok()) io.exit_code = Fail(io, s);
  });

  auto sync_opts = std::make_shared<SvidOptions>();
  CLI::App* sync = svid->add_subcommand(
      "sync",
      "Keep svid.pem, svid.key and bundle.pem renewed in a directory for software that is not "
      "SPIFFE-aware (nginx, HAProxy, a JVM); runs until SIGINT or SIGTERM");
  AddSocketOption(sync, sync_opts.get());
  sync->add_option("--out", sync_opts->out, "Directory to keep the files in")->required();
  sync->add_option("--exec", sync_opts->exec,
                   "Shell command to run after each change (e.g. a reload)");
  sync->add_option("--spiffe-id", sync_opts->spiffe_id,
                   "Which SVID to keep when there are several (default: the first)");
  sync->footer(
      Examples({"meshid svid sync --out /etc/nginx/spiffe --exec 'nginx -s reload'",
                "meshid svid sync --out /run/haproxy/id --exec 'systemctl reload haproxy'"}));
  sync->callback([&io, sync_opts] {
    if (absl::Status s = Sync(io, *sync_opts); !s.ok()) io.exit_code = Fail(io, s);
  });
}

}  // namespace

void AddAgentCommands(CLI::App& app, Io& io) {
  CLI::App* agent_cmd = app.add_subcommand("agent", "The node agent: the SPIFFE Workload API");
  agent_cmd->require_subcommand(1);

  auto run_opts = std::make_shared<RunOptions>();
  CLI::App* run = agent_cmd->add_subcommand(
      "run", "Run the node agent until SIGINT or SIGTERM (logs go to stderr)");
  run->add_option("--config", run_opts->config, "Configuration file (see meshid agent config)")
      ->required();
  run->add_flag("--insecure-bootstrap", run_opts->insecure_bootstrap,
                "Attest without trust_bundle, trusting the CA's certificate blindly (labs only)");
  run->footer(Examples({"meshid token create --node node1   # on the CA host: the join token",
                        "meshid agent config > agent.yaml    # then set join_token, node_name",
                        "meshid agent run --config agent.yaml"}));
  run->callback([&io, run_opts] {
    if (absl::Status s = RunAgent(io, *run_opts); !s.ok()) io.exit_code = Fail(io, s);
  });

  CLI::App* config = agent_cmd->add_subcommand("config", "Print a commented default configuration");
  config->footer(Examples({"meshid agent config > /etc/meshid/agent.yaml"}));
  config->callback([&io] { io.out << agent::DefaultAgentConfigYaml(); });

  AddSvidCommands(app, io);
}

}  // namespace meshid::cli
