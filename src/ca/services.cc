#include "services.h"

#include <exception>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "convert.h"
#include "meshid/api/status.h"
#include "meshid/base/log.h"

namespace meshid::ca {
namespace {

// Guard runs a handler body; library exceptions (allocation failures, mostly) end here as
// an Internal status instead of killing the server.
template <typename Fn>
grpc::Status Guard(Fn&& fn) {
  try {
    return api::ToGrpcStatus(fn());
  } catch (const std::exception& e) {
    base::Logger("ca")->error("handler failed: {}", e.what());
    return grpc::Status(grpc::StatusCode::INTERNAL, "internal error");
  }
}

}  // namespace

absl::StatusOr<pki::SpiffeId> PeerSpiffeId(const grpc::ServerContext& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr) {
    std::vector<grpc::string_ref> ids = auth->FindPropertyValues("peer_spiffe_id");
    if (ids.size() == 1) return pki::SpiffeId::Parse(std::string(ids[0].data(), ids[0].size()));
  }
  return absl::UnauthenticatedError(
      "this call needs mTLS with a node SVID (attest first, with a join token)");
}

grpc::Status CaService::AttestNode(grpc::ServerContext*, const v1::AttestNodeRequest* request,
                                   v1::AttestNodeResponse* response) {
  return Guard([&]() -> absl::Status {
    absl::StatusOr<IssuedSvid> svid =
        authority_.AttestNode(request->join_token(), request->csr(), request->node_name());
    if (!svid.ok()) return svid.status();
    ToProto(*svid, response->mutable_svid());
    ToProto(authority_.bundle(), response->mutable_bundle());
    return absl::OkStatus();
  });
}

grpc::Status CaService::RenewNode(grpc::ServerContext* context, const v1::RenewNodeRequest* request,
                                  v1::RenewNodeResponse* response) {
  return Guard([&]() -> absl::Status {
    absl::StatusOr<pki::SpiffeId> caller = PeerSpiffeId(*context);
    if (!caller.ok()) return caller.status();
    absl::StatusOr<IssuedSvid> svid = authority_.RenewNode(*caller, request->csr());
    if (!svid.ok()) return svid.status();
    ToProto(*svid, response->mutable_svid());
    ToProto(authority_.bundle(), response->mutable_bundle());
    return absl::OkStatus();
  });
}

grpc::Status CaService::SyncEntries(grpc::ServerContext* context,
                                    const v1::SyncEntriesRequest* request,
                                    v1::SyncEntriesResponse* response) {
  return Guard([&]() -> absl::Status {
    absl::StatusOr<pki::SpiffeId> caller = PeerSpiffeId(*context);
    if (!caller.ok()) return caller.status();
    absl::StatusOr<store::EntryChanges> changes =
        authority_.SyncEntries(*caller, request->revision());
    if (!changes.ok()) return changes.status();
    response->set_full(changes->full);
    for (const store::EntryRecord& e : changes->entries) ToProto(e, response->add_entries());
    for (const std::string& id : changes->deleted_ids) response->add_deleted_ids(id);
    response->set_revision(changes->revision);
    return absl::OkStatus();
  });
}

grpc::Status CaService::SignSVIDs(grpc::ServerContext* context, const v1::SignSVIDsRequest* request,
                                  v1::SignSVIDsResponse* response) {
  return Guard([&]() -> absl::Status {
    absl::StatusOr<pki::SpiffeId> caller = PeerSpiffeId(*context);
    if (!caller.ok()) return caller.status();
    std::vector<SignItem> items;
    items.reserve(request->requests_size());
    for (const v1::SignRequest& r : request->requests()) items.push_back({r.entry_id(), r.csr()});
    absl::StatusOr<std::vector<IssuedSvid>> svids = authority_.SignSvids(*caller, items);
    if (!svids.ok()) return svids.status();
    for (const IssuedSvid& svid : *svids) ToProto(svid, response->add_svids());
    return absl::OkStatus();
  });
}

grpc::Status CaService::MintJWTSVID(grpc::ServerContext* context,
                                    const v1::MintJWTSVIDRequest* request,
                                    v1::MintJWTSVIDResponse* response) {
  return Guard([&]() -> absl::Status {
    absl::StatusOr<pki::SpiffeId> caller = PeerSpiffeId(*context);
    if (!caller.ok()) return caller.status();
    absl::StatusOr<std::pair<std::string, absl::Time>> token = authority_.MintJwtSvid(
        *caller, request->entry_id(), {request->audience().begin(), request->audience().end()});
    if (!token.ok()) return token.status();
    response->set_token(token->first);
    response->set_expires_at(absl::ToUnixSeconds(token->second));
    return absl::OkStatus();
  });
}

grpc::Status CaService::FetchBundle(grpc::ServerContext*, const v1::FetchBundleRequest*,
                                    v1::Bundle* response) {
  ToProto(authority_.bundle(), response);
  return grpc::Status::OK;
}

grpc::Status CaService::StreamBundle(grpc::ServerContext* context, const v1::StreamBundleRequest*,
                                     grpc::ServerWriter<v1::Bundle>* writer) {
  pki::TrustBundle bundle = authority_.bundle();
  while (true) {
    v1::Bundle message;
    ToProto(bundle, &message);
    if (!writer->Write(message)) return grpc::Status::OK;  // the client went away
    uint64_t seen = bundle.sequence();
    // Wake at least every second to notice a cancelled call or a stopping server.
    do {
      if (context->IsCancelled() || stopping_) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the CA server is stopping");
      }
      bundle = authority_.bundle_state().WaitForChange(seen, absl::Now() + absl::Seconds(1));
    } while (bundle.sequence() == seen);
  }
}

grpc::Status CaService::Watch(grpc::ServerContext* context, const v1::WatchRequest*,
                              grpc::ServerWriter<v1::WatchEvent>* writer) {
  absl::StatusOr<pki::SpiffeId> caller = PeerSpiffeId(*context);
  if (!caller.ok()) return api::ToGrpcStatus(caller.status());
  // An evicted or unknown node learns it at once rather than at its next sync.
  if (absl::Status active = authority_.CheckActiveNode(*caller); !active.ok()) {
    return api::ToGrpcStatus(active);
  }
  BundleState& state = authority_.bundle_state();
  auto [bundle, signals] = state.WaitForEvent(UINT64_MAX, {}, absl::InfinitePast());
  while (true) {
    v1::WatchEvent event;
    ToProto(bundle, event.mutable_bundle());
    event.set_entries_generation(signals.entries);
    event.set_reissue_generation(signals.reissue);
    if (!writer->Write(event)) return grpc::Status::OK;  // the client went away
    const uint64_t seen_sequence = bundle.sequence();
    const AgentSignals seen_signals = signals;
    // Wake at least every second to notice a cancelled call or a stopping server.
    do {
      if (context->IsCancelled() || stopping_ || state.shut_down()) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the CA server is stopping");
      }
      std::tie(bundle, signals) =
          state.WaitForEvent(seen_sequence, seen_signals, absl::Now() + absl::Seconds(1));
    } while (bundle.sequence() == seen_sequence && signals == seen_signals);
  }
}

grpc::Status AdminService::CreateJoinToken(grpc::ServerContext*,
                                           const v1::CreateJoinTokenRequest* request,
                                           v1::CreateJoinTokenResponse* response) {
  return Guard([&]() -> absl::Status {
    // 0 (unset) means the default of one hour; a negative TTL is refused below.
    absl::Duration ttl =
        request->ttl_seconds() == 0 ? absl::Hours(1) : absl::Seconds(request->ttl_seconds());
    absl::StatusOr<Authority::NewToken> token =
        authority_.CreateJoinToken(ttl, request->node_name());
    if (!token.ok()) return token.status();
    response->set_token(token->token);
    response->set_expires_at(absl::ToUnixSeconds(token->record.expires_at));
    response->set_node_name(token->record.node_name);
    return absl::OkStatus();
  });
}

grpc::Status AdminService::ListNodes(grpc::ServerContext*, const v1::ListNodesRequest*,
                                     v1::ListNodesResponse* response) {
  return Guard([&]() -> absl::Status {
    absl::StatusOr<std::vector<store::NodeRecord>> nodes = authority_.ListNodes();
    if (!nodes.ok()) return nodes.status();
    for (const store::NodeRecord& n : *nodes) ToProto(n, response->add_nodes());
    return absl::OkStatus();
  });
}

grpc::Status AdminService::EvictNode(grpc::ServerContext*, const v1::EvictNodeRequest* request,
                                     v1::Node* response) {
  return Guard([&]() -> absl::Status {
    absl::StatusOr<store::NodeRecord> node = authority_.EvictNode(request->name());
    if (!node.ok()) return node.status();
    ToProto(*node, response);
    return absl::OkStatus();
  });
}

grpc::Status AdminService::CreateEntry(grpc::ServerContext*, const v1::CreateEntryRequest* request,
                                       v1::Entry* response) {
  return Guard([&]() -> absl::Status {
    EntrySpec spec{request->spiffe_id(),
                   request->parent_id(),
                   {request->selectors().begin(), request->selectors().end()},
                   absl::Seconds(request->ttl_seconds()),
                   {request->dns_names().begin(), request->dns_names().end()},
                   request->hint()};
    absl::StatusOr<store::EntryRecord> entry = authority_.CreateEntry(spec);
    if (!entry.ok()) return entry.status();
    ToProto(*entry, response);
    return absl::OkStatus();
  });
}

grpc::Status AdminService::ListEntries(grpc::ServerContext*, const v1::ListEntriesRequest* request,
                                       v1::ListEntriesResponse* response) {
  return Guard([&]() -> absl::Status {
    absl::StatusOr<std::vector<store::EntryRecord>> entries =
        authority_.ListEntries(request->parent_id());
    if (!entries.ok()) return entries.status();
    for (const store::EntryRecord& e : *entries) ToProto(e, response->add_entries());
    return absl::OkStatus();
  });
}

grpc::Status AdminService::GetEntry(grpc::ServerContext*, const v1::GetEntryRequest* request,
                                    v1::Entry* response) {
  return Guard([&]() -> absl::Status {
    absl::StatusOr<store::EntryRecord> entry = authority_.GetEntry(request->id());
    if (!entry.ok()) return entry.status();
    ToProto(*entry, response);
    return absl::OkStatus();
  });
}

grpc::Status AdminService::DeleteEntry(grpc::ServerContext*, const v1::DeleteEntryRequest* request,
                                       v1::DeleteEntryResponse*) {
  return Guard([&]() { return authority_.DeleteEntry(request->id()); });
}

grpc::Status AdminService::GetBundle(grpc::ServerContext*, const v1::GetBundleRequest*,
                                     v1::Bundle* response) {
  ToProto(authority_.bundle(), response);
  return grpc::Status::OK;
}

grpc::Status AdminService::AddRoot(grpc::ServerContext*, const v1::AddRootRequest* request,
                                   v1::Bundle* response) {
  return Guard([&]() -> absl::Status {
    absl::StatusOr<pki::TrustBundle> bundle = authority_.AddRoot(request->certificate());
    if (!bundle.ok()) return bundle.status();
    ToProto(*bundle, response);
    return absl::OkStatus();
  });
}

grpc::Status AdminService::RemoveRoot(grpc::ServerContext*, const v1::RemoveRootRequest* request,
                                      v1::Bundle* response) {
  return Guard([&]() -> absl::Status {
    absl::StatusOr<pki::TrustBundle> bundle = authority_.RemoveRoot(request->certificate());
    if (!bundle.ok()) return bundle.status();
    ToProto(*bundle, response);
    return absl::OkStatus();
  });
}

grpc::Status AdminService::RequestReissue(grpc::ServerContext*, const v1::RequestReissueRequest*,
                                          v1::RequestReissueResponse*) {
  authority_.RequestReissue();
  return grpc::Status::OK;
}

}  // namespace meshid::ca
