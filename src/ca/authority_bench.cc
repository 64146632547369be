// authority_bench: Authority::SignSvids in process — the CA's signing path without gRPC and
// TLS, with a real SQLite store — to tell the CA's own cost from the transport's.
#include "absl/time/clock.h"
#include "authority.h"
#include "benchmark/benchmark.h"
#include "meshid/pki/csr.h"
#include "meshid/testing/test_pki.h"
#include "test_authority.h"

namespace meshid::ca {
namespace {

struct World {
  World() {
    pki::PrivateKey node_key = *pki::PrivateKey::Generate(pki::KeyType::kEcP256);
    std::string token = ca.authority->CreateJoinToken(absl::Hours(1), "n1")->token;
    node = ca.authority->AttestNode(token, Csr(node_key), "")->id;
    entry =
        ca.authority->CreateEntry({"spiffe://example.org/w", node.ToString(), {"unix:uid:1"}})->id;
  }
  static std::string Csr(const pki::PrivateKey& key) {
    return pki::CertificateRequest::Create(key, *pki::SpiffeId::Parse("spiffe://example.org/x"))
        ->ToDer();
  }
  TestAuthority ca{base::SystemClock()};
  pki::SpiffeId node = *pki::SpiffeId::Parse("spiffe://example.org/x");
  std::string entry;
};

World& TheWorld();

void BM_SignSvidsBatch(benchmark::State& state) {
  World* world = &TheWorld();
  std::vector<SignItem> items;
  for (int i = 0; i < state.range(0); ++i) {
    items.push_back({world->entry, World::Csr(*pki::PrivateKey::Generate(pki::KeyType::kEcP256))});
  }
  for (auto _ : state) benchmark::DoNotOptimize(world->ca.authority->SignSvids(world->node, items));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_SignSvidsBatch)->Arg(1)->Arg(16);

World& TheWorld() {
  static World* world = new World();
  return *world;
}

void BM_StoreGetEntry(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(TheWorld().ca.store->GetEntry(TheWorld().entry));
}
BENCHMARK(BM_StoreGetEntry);

void BM_StoreRecordIssuances16(benchmark::State& state) {
  static int64_t n = 0;  // serials stay unique across repetitions
  for (auto _ : state) {
    std::vector<store::IssuanceRecord> records;
    for (int i = 0; i < 16; ++i) {
      records.push_back({"serial-" + std::to_string(n++), "spiffe://example.org/w", "workload",
                         "n1", "ca", absl::Now(), absl::Now(), absl::Now()});
    }
    benchmark::DoNotOptimize(TheWorld().ca.store->RecordIssuances(records));
  }
  state.SetItemsProcessed(state.iterations() * 16);
}
BENCHMARK(BM_StoreRecordIssuances16);

void BM_IssueOnly(benchmark::State& state) {
  pki::PrivateKey key = *pki::PrivateKey::Generate(pki::KeyType::kEcP256);
  pki::PublicKey pub = pki::ParseCsrPublicKey(World::Csr(key))->key;
  std::shared_ptr<const SigningCa> ca = TheWorld().ca.cas->Active();
  pki::SpiffeId id = *pki::SpiffeId::Parse("spiffe://example.org/w");
  for (auto _ : state) {
    benchmark::DoNotOptimize(ca->leaf_issuer.Issue(pub, {id, {}, absl::Hours(1)}, absl::Now()));
  }
}
BENCHMARK(BM_IssueOnly);

void BM_ParseWorkloadCsr(benchmark::State& state) {
  std::string csr = World::Csr(*pki::PrivateKey::Generate(pki::KeyType::kEcP256));
  for (auto _ : state) benchmark::DoNotOptimize(ParseWorkloadCsr(csr));
}
BENCHMARK(BM_ParseWorkloadCsr);
void BM_ParseCsrPublicKeyOnly(benchmark::State& state) {
  std::string csr = World::Csr(*pki::PrivateKey::Generate(pki::KeyType::kEcP256));
  for (auto _ : state) benchmark::DoNotOptimize(pki::ParseCsrPublicKey(csr));
}
BENCHMARK(BM_ParseCsrPublicKeyOnly);
void BM_KeyInfoOfCsrKey(benchmark::State& state) {
  pki::PublicKey key =
      pki::ParseCsrPublicKey(World::Csr(*pki::PrivateKey::Generate(pki::KeyType::kEcP256)))->key;
  for (auto _ : state) benchmark::DoNotOptimize(key.info());
}
BENCHMARK(BM_KeyInfoOfCsrKey);

}  // namespace
}  // namespace meshid::ca

BENCHMARK_MAIN();
