// meshid token / node / entry: administration over the CA's admin socket.

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "commands.h"
#include "meshid/api/status.h"
#include "meshid/base/duration.h"
#include "meshid/base/status.h"
#include "meshid/base/text.h"
#include "meshid/ca/v1/admin.grpc.pb.h"

namespace meshid::cli {
namespace {

namespace v1 = ::meshid::ca::v1;
using nlohmann::json;

constexpr char kDefaultAdminSocket[] = "/run/meshid/ca-admin.sock";

// Admin is a connection to the CA's admin socket.
class Admin {
 public:
  explicit Admin(const std::string& socket)
      : socket_(socket),
        stub_(v1::Admin::NewStub(
            grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()))) {}

  // Call runs one RPC with a deadline and turns a connection failure into advice.
  template <typename Request, typename Response>
  absl::Status Call(grpc::Status (v1::Admin::Stub::*method)(grpc::ClientContext*, const Request&,
                                                            Response*),
                    const Request& request, Response* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
    grpc::Status status = (stub_.get()->*method)(&context, request, response);
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
        status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      return absl::UnavailableError(absl::StrCat(
          "cannot reach the CA admin socket ", socket_,
          ": is meshid ca serve running, and is this its admin_socket? (--admin-socket)"));
    }
    return api::FromGrpcStatus(status);
  }

 private:
  std::string socket_;
  std::unique_ptr<v1::Admin::Stub> stub_;
};

std::string Time(int64_t unix_seconds) {
  return unix_seconds == 0 ? "-" : base::Rfc3339(absl::FromUnixSeconds(unix_seconds));
}

json NodeJson(const v1::Node& n) {
  return {{"name", n.name()},
          {"spiffe_id", n.spiffe_id()},
          {"attested_at", Time(n.attested_at())},
          {"svid_serial", n.svid_serial()},
          {"svid_not_after", Time(n.svid_not_after())},
          {"evicted", n.evicted()},
          {"evicted_at", n.evicted() ? json(Time(n.evicted_at())) : json(nullptr)}};
}

json EntryJson(const v1::Entry& e) {
  return {{"id", e.id()},
          {"spiffe_id", e.spiffe_id()},
          {"parent_id", e.parent_id()},
          {"selectors", std::vector<std::string>(e.selectors().begin(), e.selectors().end())},
          {"ttl_seconds", e.ttl_seconds() > 0 ? json(e.ttl_seconds()) : json(nullptr)},
          {"dns_names", std::vector<std::string>(e.dns_names().begin(), e.dns_names().end())},
          {"hint", e.hint()},
          {"revision", e.revision()},
          {"created_at", Time(e.created_at())}};
}

void PrintEntry(Io& io, const v1::Entry& e) {
  auto line = [&io](absl::string_view label, const std::string& value) {
    io.out << label << std::string(12 - label.size(), ' ') << base::Printable(value) << "\n";
  };
  line("Entry ID:", e.id());
  line("SPIFFE ID:", e.spiffe_id());
  line("Parent ID:", e.parent_id());
  for (const std::string& s : e.selectors()) line("Selector:", s);
  line("TTL:", e.ttl_seconds() > 0 ? base::HumanDuration(absl::Seconds(e.ttl_seconds()))
                                   : "server default");
  for (const std::string& d : e.dns_names()) line("DNS name:", d);
  if (!e.hint().empty()) line("Hint:", e.hint());
  line("Revision:", absl::StrCat(e.revision()));
}

void AddSocketFlag(CLI::App* cmd, std::string* socket) {
  cmd->add_option("--admin-socket", *socket, "The CA's admin socket")->capture_default_str();
}

struct Common {
  std::string socket = kDefaultAdminSocket;
  bool json = false;
};

}  // namespace

void AddAdminCommands(CLI::App& app, Io& io) {
  // ---- token ----
  CLI::App* token = app.add_subcommand("token", "Join tokens for node attestation");
  token->require_subcommand(1);
  struct TokenOptions : Common {
    std::string ttl = "1h";
    std::string node;
  };
  auto topts = std::make_shared<TokenOptions>();
  CLI::App* create = token->add_subcommand(
      "create", "Create a one-time join token; only the token is printed on stdout");
  create->add_option("--ttl", topts->ttl, "How long the token may be used")->capture_default_str();
  create->add_option("--node", topts->node,
                     "The node the token is for (needed to re-attest an existing node)");
  AddSocketFlag(create, &topts->socket);
  AddOutputFlag(create, &topts->json);
  create->footer(Examples({"TOKEN=$(meshid token create --node node1 --ttl 10m)"}));
  create->callback([&io, topts] {
    absl::Status s = [&]() -> absl::Status {
      MESHID_ASSIGN_OR_RETURN(absl::Duration ttl, base::ParseDuration(topts->ttl));
      if (ttl < absl::Seconds(1)) {
        return absl::InvalidArgumentError("--ttl must be at least 1s");
      }
      v1::CreateJoinTokenRequest request;
      request.set_ttl_seconds(absl::ToInt64Seconds(ttl));
      request.set_node_name(topts->node);
      v1::CreateJoinTokenResponse response;
      MESHID_RETURN_IF_ERROR(
          Admin(topts->socket).Call(&v1::Admin::Stub::CreateJoinToken, request, &response));
      if (topts->json) {
        PrintJson(io, {{"token", response.token()},
                       {"expires_at", Time(response.expires_at())},
                       {"node", response.node_name()}});
      } else {
        io.out << response.token() << "\n";
      }
      return absl::OkStatus();
    }();
    if (!s.ok()) io.exit_code = Fail(io, s);
  });

  // ---- node ----
  CLI::App* node = app.add_subcommand("node", "Attested nodes");
  node->require_subcommand(1);
  auto nlist = std::make_shared<Common>();
  CLI::App* list = node->add_subcommand("list", "List attested nodes");
  AddSocketFlag(list, &nlist->socket);
  AddOutputFlag(list, &nlist->json);
  list->footer(Examples({"meshid node list", "meshid node list -o json"}));
  list->callback([&io, nlist] {
    v1::ListNodesResponse response;
    absl::Status s =
        Admin(nlist->socket).Call(&v1::Admin::Stub::ListNodes, v1::ListNodesRequest(), &response);
    if (!s.ok()) {
      io.exit_code = Fail(io, s);
      return;
    }
    if (nlist->json) {
      json nodes = json::array();
      for (const v1::Node& n : response.nodes()) nodes.push_back(NodeJson(n));
      PrintJson(io, {{"nodes", nodes}});
      return;
    }
    if (response.nodes().empty()) {
      io.out << "No nodes. Attest one with a token from meshid token create.\n";
      return;
    }
    for (const v1::Node& n : response.nodes()) {
      io.out << base::Printable(n.name()) << "  " << n.spiffe_id() << "  "
             << (n.evicted() ? "EVICTED " + Time(n.evicted_at())
                             : "SVID until " + Time(n.svid_not_after()))
             << "\n";
    }
  });
  auto evict_opts = std::make_shared<Common>();
  auto evict_name = std::make_shared<std::string>();
  CLI::App* evict = node->add_subcommand(
      "evict", "Evict a node: it can no longer renew or obtain workload SVIDs");
  evict->add_option("name", *evict_name, "Node name")->required();
  AddSocketFlag(evict, &evict_opts->socket);
  AddOutputFlag(evict, &evict_opts->json);
  evict->footer(Examples({"meshid node evict node1"}));
  evict->callback([&io, evict_opts, evict_name] {
    v1::EvictNodeRequest request;
    request.set_name(*evict_name);
    v1::Node response;
    absl::Status s =
        Admin(evict_opts->socket).Call(&v1::Admin::Stub::EvictNode, request, &response);
    if (!s.ok()) {
      io.exit_code = Fail(io, s);
      return;
    }
    if (evict_opts->json) {
      PrintJson(io, NodeJson(response));
    } else {
      io.out << "Evicted node " << base::Printable(response.name())
             << ". Its SVIDs stay valid until they expire (" << Time(response.svid_not_after())
             << " for the node SVID); it can renew nothing.\n";
    }
  });
  auto reissue_opts = std::make_shared<Common>();
  CLI::App* reissue = node->add_subcommand(
      "reissue", "Ask every connected agent to re-issue all its workload SVIDs now");
  AddSocketFlag(reissue, &reissue_opts->socket);
  reissue->footer(Examples({"meshid node reissue   # e.g. after a compromised issuing CA"}));
  reissue->callback([&io, reissue_opts] {
    v1::RequestReissueResponse response;
    absl::Status s =
        Admin(reissue_opts->socket)
            .Call(&v1::Admin::Stub::RequestReissue, v1::RequestReissueRequest(), &response);
    if (!s.ok()) {
      io.exit_code = Fail(io, s);
      return;
    }
    io.out << "Asked every connected agent to re-issue its workload SVIDs; agents that are not "
              "connected re-issue when they reconnect only if their SVIDs are due.\n";
  });

  // ---- entry ----
  CLI::App* entry = app.add_subcommand("entry", "Registration entries: who gets which identity");
  entry->require_subcommand(1);
  struct CreateOptions : Common {
    std::string spiffe_id;
    std::string parent_id;
    std::vector<std::string> selectors;
    std::string ttl;
    std::vector<std::string> dns;
    std::string hint;
  };
  auto copts = std::make_shared<CreateOptions>();
  CLI::App* ecreate = entry->add_subcommand("create", "Create a registration entry");
  ecreate->add_option("--spiffe-id", copts->spiffe_id, "Identity to issue")->required();
  ecreate
      ->add_option("--parent-id", copts->parent_id,
                   "Node that may obtain it: spiffe://<td>/meshid/node/<name>")
      ->required();
  ecreate
      ->add_option("--selector", copts->selectors,
                   "unix:uid:N, unix:gid:N, unix:user:NAME, unix:group:NAME, "
                   "unix:supplementary_gid:N, unix:supplementary_group:NAME, unix:path:/BIN, "
                   "unix:sha256:HEX (repeatable; all must match)")
      ->required();
  ecreate->add_option("--ttl", copts->ttl,
                      "SVID lifetime (default: the server's svid.default_ttl)");
  ecreate->add_option("--dns", copts->dns, "DNS SAN (repeatable)");
  ecreate->add_option("--hint", copts->hint, "Hint passed to the workload");
  AddSocketFlag(ecreate, &copts->socket);
  AddOutputFlag(ecreate, &copts->json);
  ecreate->footer(Examples(
      {"meshid entry create --spiffe-id spiffe://example.org/ns/default/sa/web \\",
       "    --parent-id spiffe://example.org/meshid/node/node1 --selector unix:uid:1000"}));
  ecreate->callback([&io, copts] {
    absl::Status s = [&]() -> absl::Status {
      v1::CreateEntryRequest request;
      request.set_spiffe_id(copts->spiffe_id);
      request.set_parent_id(copts->parent_id);
      for (const std::string& sel : copts->selectors) request.add_selectors(sel);
      if (!copts->ttl.empty()) {
        MESHID_ASSIGN_OR_RETURN(absl::Duration ttl, base::ParseDuration(copts->ttl));
        request.set_ttl_seconds(absl::ToInt64Seconds(ttl));
      }
      for (const std::string& d : copts->dns) request.add_dns_names(d);
      request.set_hint(copts->hint);
      v1::Entry response;
      MESHID_RETURN_IF_ERROR(
          Admin(copts->socket).Call(&v1::Admin::Stub::CreateEntry, request, &response));
      if (copts->json) {
        PrintJson(io, EntryJson(response));
      } else {
        PrintEntry(io, response);
      }
      return absl::OkStatus();
    }();
    if (!s.ok()) io.exit_code = Fail(io, s);
  });

  struct ListOptions : Common {
    std::string parent_id;
  };
  auto lopts = std::make_shared<ListOptions>();
  CLI::App* elist = entry->add_subcommand("list", "List registration entries");
  elist->add_option("--parent-id", lopts->parent_id, "Only the entries of this node");
  AddSocketFlag(elist, &lopts->socket);
  AddOutputFlag(elist, &lopts->json);
  elist->footer(Examples({"meshid entry list", "meshid entry list -o json"}));
  elist->callback([&io, lopts] {
    v1::ListEntriesRequest request;
    request.set_parent_id(lopts->parent_id);
    v1::ListEntriesResponse response;
    absl::Status s = Admin(lopts->socket).Call(&v1::Admin::Stub::ListEntries, request, &response);
    if (!s.ok()) {
      io.exit_code = Fail(io, s);
      return;
    }
    if (lopts->json) {
      json entries = json::array();
      for (const v1::Entry& e : response.entries()) entries.push_back(EntryJson(e));
      PrintJson(io, {{"entries", entries}});
      return;
    }
    if (response.entries().empty()) io.out << "No entries.\n";
    for (int i = 0; i < response.entries_size(); ++i) {
      if (i > 0) io.out << "\n";
      PrintEntry(io, response.entries(i));
    }
  });

  auto sopts = std::make_shared<Common>();
  auto show_id = std::make_shared<std::string>();
  CLI::App* eshow = entry->add_subcommand("show", "Show one registration entry");
  eshow->add_option("id", *show_id, "Entry ID")->required();
  AddSocketFlag(eshow, &sopts->socket);
  AddOutputFlag(eshow, &sopts->json);
  eshow->footer(Examples({"meshid entry show 3f0c9a1b2d4e5f60718293a4b5c6d7e8"}));
  eshow->callback([&io, sopts, show_id] {
    v1::GetEntryRequest request;
    request.set_id(*show_id);
    v1::Entry response;
    absl::Status s = Admin(sopts->socket).Call(&v1::Admin::Stub::GetEntry, request, &response);
    if (!s.ok()) {
      io.exit_code = Fail(io, s);
      return;
    }
    if (sopts->json) {
      PrintJson(io, EntryJson(response));
    } else {
      PrintEntry(io, response);
    }
  });

  auto dopts = std::make_shared<Common>();
  auto delete_id = std::make_shared<std::string>();
  CLI::App* edelete = entry->add_subcommand("delete", "Delete a registration entry");
  edelete->add_option("id", *delete_id, "Entry ID")->required();
  AddSocketFlag(edelete, &dopts->socket);
  AddOutputFlag(edelete, &dopts->json);
  edelete->footer(Examples({"meshid entry delete 3f0c9a1b2d4e5f60718293a4b5c6d7e8"}));
  edelete->callback([&io, dopts, delete_id] {
    v1::DeleteEntryRequest request;
    request.set_id(*delete_id);
    v1::DeleteEntryResponse response;
    absl::Status s = Admin(dopts->socket).Call(&v1::Admin::Stub::DeleteEntry, request, &response);
    if (!s.ok()) {
      io.exit_code = Fail(io, s);
      return;
    }
    if (dopts->json) {
      PrintJson(io, {{"deleted", *delete_id}});
    } else {
      io.out << "Deleted entry " << base::Printable(*delete_id)
             << ". SVIDs already issued for it stay valid until they expire.\n";
    }
  });
}

}  // namespace meshid::cli
