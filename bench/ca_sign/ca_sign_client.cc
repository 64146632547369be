// ca_sign_client: load generator for `meshid ca serve`. It creates a join token and an
// entry over the admin socket, attests a node over TLS, then runs N concurrent callers, each
// on its own connection, calling SignSVIDs with batches of ECDSA P-256 CSRs over mTLS for a
// fixed time. It prints one JSON line: SVIDs issued, SVIDs/s, and per-call latency.
//
// Usage: ca_sign_client --address 127.0.0.1:PORT --bundle bundle.pem --admin-socket SOCK
//                       [--streams 8] [--batch 16] [--seconds 10] [--warmup 2]

#include <algorithm>
#include <atomic>
#include <iostream>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "meshid/agent/ca_client.h"
#include "meshid/base/files.h"
#include "meshid/ca/v1/admin.grpc.pb.h"
#include "meshid/pki/csr.h"

namespace {

namespace v1 = meshid::ca::v1;
using meshid::pki::CertificateRequest;
using meshid::pki::KeyType;
using meshid::pki::PrivateKey;
using meshid::pki::SpiffeId;

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "ca_sign_client: " << what << "\n";
  std::exit(2);
}

template <typename T>
T Must(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) Die(absl::StrCat(what, ": ", v.status().ToString()));
  return *std::move(v);
}

}  // namespace

int main(int argc, char** argv) {
  std::string address, bundle_path, admin_socket;
  int streams = 8, batch = 16;
  double seconds = 10, warmup = 2;
  CLI::App app("load generator for meshid ca serve");
  app.add_option("--address", address)->required();
  app.add_option("--bundle", bundle_path)->required();
  app.add_option("--admin-socket", admin_socket)->required();
  app.add_option("--streams", streams);
  app.add_option("--batch", batch);
  app.add_option("--seconds", seconds);
  app.add_option("--warmup", warmup);
  CLI11_PARSE(app, argc, argv);

  auto td = Must(meshid::pki::TrustDomain::Parse("example.org"), "trust domain");
  auto bundle = Must(
      meshid::pki::TrustBundle::FromPem(td, Must(meshid::base::ReadFile(bundle_path), "bundle")),
      "bundle");
  auto admin = v1::Admin::NewStub(
      grpc::CreateChannel("unix:" + admin_socket, grpc::InsecureChannelCredentials()));
  v1::CreateJoinTokenRequest token_request;
  token_request.set_node_name("bench-node");
  v1::CreateJoinTokenResponse token;
  {
    grpc::ClientContext context;
    if (!admin->CreateJoinToken(&context, token_request, &token).ok()) Die("token create");
  }
  meshid::agent::CaClientOptions options{
      address, bundle, *SpiffeId::Parse("spiffe://example.org/meshid/server"), std::nullopt, {}};
  PrivateKey node_key = Must(PrivateKey::Generate(KeyType::kEcP256), "key");
  auto anonymous = Must(meshid::agent::CaClient::Connect(options), "connect");
  std::string node_csr =
      Must(CertificateRequest::Create(node_key, *SpiffeId::Parse("spiffe://example.org/n")), "csr")
          .ToPem();
  auto attested = Must(anonymous->AttestNode(token.token(), node_csr, ""), "attest");
  options.key = node_key;
  options.chain = Must(meshid::agent::ParseSvidChain(attested.svid()), "chain");

  v1::CreateEntryRequest entry_request;
  entry_request.set_spiffe_id("spiffe://example.org/bench/workload");
  entry_request.set_parent_id(attested.svid().spiffe_id());
  entry_request.add_selectors("unix:uid:1000");
  v1::Entry entry;
  {
    grpc::ClientContext context;
    grpc::Status s = admin->CreateEntry(&context, entry_request, &entry);
    if (!s.ok()) Die("entry create: " + s.error_message());
  }

  // A pool of distinct CSRs, made before the clock starts.
  std::vector<std::string> csrs;
  for (int i = 0; i < 64; ++i) {
    PrivateKey key = Must(PrivateKey::Generate(KeyType::kEcP256), "key");
    csrs.push_back(
        Must(CertificateRequest::Create(key, *SpiffeId::Parse("spiffe://example.org/w")), "csr")
            .ToDer());
  }

  std::atomic<bool> measuring{false}, stop{false};
  std::atomic<int64_t> issued{0}, errors{0};
  std::vector<std::vector<double>> latencies(streams);
  std::vector<std::thread> threads;
  for (int t = 0; t < streams; ++t) {
    threads.emplace_back([&, t] {
      auto client = Must(meshid::agent::CaClient::Connect(options), "connect");
      v1::SignSVIDsRequest request;
      for (int i = 0; i < batch; ++i) {
        v1::SignRequest* r = request.add_requests();
        r->set_entry_id(entry.id());
        r->set_csr(csrs[(t * batch + i) % csrs.size()]);
      }
      while (!stop) {
        absl::Time start = absl::Now();
        absl::StatusOr<v1::SignSVIDsResponse> response = client->SignSvids(request);
        absl::Duration took = absl::Now() - start;
        if (!measuring) continue;
        if (!response.ok()) {
          ++errors;
          continue;
        }
        issued += response->svids_size();
        latencies[t].push_back(absl::ToDoubleMilliseconds(took));
      }
    });
  }
  absl::SleepFor(absl::Seconds(warmup));
  absl::Time begin = absl::Now();
  measuring = true;
  absl::SleepFor(absl::Seconds(seconds));
  measuring = false;
  absl::Duration elapsed = absl::Now() - begin;
  int64_t total = issued.load();
  stop = true;
  for (std::thread& t : threads) t.join();

  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&all](double p) {
    return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))];
  };
  std::cout << "{\"streams\": " << streams << ", \"batch\": " << batch
            << ", \"seconds\": " << absl::ToDoubleSeconds(elapsed) << ", \"svids\": " << total
            << ", \"errors\": " << errors.load()
            << ", \"svids_per_second\": " << total / absl::ToDoubleSeconds(elapsed)
            << ", \"call_p50_ms\": " << pct(0.50) << ", \"call_p99_ms\": " << pct(0.99) << "}\n";
  return errors.load() == 0 ? 0 : 1;
}
