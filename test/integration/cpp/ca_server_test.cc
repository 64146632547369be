// The CA server as agents see it: a real `meshid ca serve` process, real TLS over loopback,
// the admin CLI on its unix socket, and the SQLite file it writes.

#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include <signal.h>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "ca_process.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/agent/ca_client.h"
#include "meshid/base/files.h"
#include "meshid/pki/ca_directory.h"
#include "meshid/pki/csr.h"
#include "meshid/pki/issue.h"
#include "meshid/pki/verify.h"
#include "meshid/store/data_store.h"
#include "meshid/testing/temp_dir.h"
#include "meshid/testing/test_pki.h"

namespace meshid::integration {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

constexpr char kTd[] = "example.org";

int CountSubstr(absl::string_view text, absl::string_view needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != absl::string_view::npos;
       at = text.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

// A node as an agent holds it: its key, its SVID, and a client authenticated with them.
struct Node {
  std::string name;
  pki::PrivateKey key;
  std::vector<pki::Certificate> chain;
  std::unique_ptr<agent::CaClient> client;
};

class CaServerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    ca_.reset();
    if (HasFailure()) temp_.Keep();  // the server's log and files, for a post-mortem
  }

  void StartCa(const std::string& extra_config = "") {
    ca_ = std::make_unique<CaProcess>(dir_, extra_config);
    absl::Status started = ca_->Start();
    ASSERT_TRUE(started.ok()) << started;
  }

  pki::TrustBundle Bundle() const {
    return *pki::TrustBundle::FromPem(*pki::TrustDomain::Parse(kTd),
                                      *base::ReadFile(ca_->bundle_path()));
  }

  agent::CaClientOptions Options() const {
    return {ca_->address(),
            Bundle(),
            *pki::SpiffeId::Parse("spiffe://example.org/meshid/server"),
            std::nullopt,
            {}};
  }

  std::unique_ptr<agent::CaClient> Anonymous() const {
    return *agent::CaClient::Connect(Options());
  }

  std::unique_ptr<agent::CaClient> ClientAs(const pki::PrivateKey& key,
                                            const std::vector<pki::Certificate>& chain) const {
    agent::CaClientOptions options = Options();
    options.key = key;
    options.chain = chain;
    return *agent::CaClient::Connect(options);
  }

  std::string Token(const std::string& node = "", const std::string& ttl = "1h") const {
    std::vector<std::string> args = {"token", "create", "--ttl", ttl};
    if (!node.empty()) {
      args.push_back("--node");
      args.push_back(node);
    }
    CommandResult r = ca_->Admin(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::string(absl::StripTrailingAsciiWhitespace(r.out));
  }

  static std::string Csr(const pki::PrivateKey& key) {
    return pki::CertificateRequest::Create(key, *pki::SpiffeId::Parse("spiffe://example.org/x"))
        ->ToPem();
  }

  // Attest attests a node with a fresh token and key.
  Node Attest(const std::string& name) {
    pki::PrivateKey key = *pki::PrivateKey::Generate(pki::KeyType::kEcP256);
    absl::StatusOr<ca::v1::AttestNodeResponse> response =
        Anonymous()->AttestNode(Token(name), Csr(key), name);
    EXPECT_TRUE(response.ok()) << response.status();
    std::vector<pki::Certificate> chain = *agent::ParseSvidChain(response->svid());
    return Node{name, key, chain, ClientAs(key, chain)};
  }

  std::string CreateEntry(const std::string& path, const std::string& node,
                          const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"entry",       "create",
                                     "--spiffe-id", std::string("spiffe://example.org") + path,
                                     "--parent-id", "spiffe://example.org/meshid/node/" + node,
                                     "--selector",  "unix:uid:1000",
                                     "-o",          "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    CommandResult r = ca_->Admin(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    size_t at = r.out.find("\"id\": \"");
    return at == std::string::npos ? "" : r.out.substr(at + 7, 32);
  }

  static ca::v1::SignSVIDsRequest SignRequest(const std::string& entry_id, const std::string& csr,
                                              int copies = 1) {
    ca::v1::SignSVIDsRequest request;
    for (int i = 0; i < copies; ++i) {
      ca::v1::SignRequest* r = request.add_requests();
      r->set_entry_id(entry_id);
      r->set_csr(csr);
    }
    return request;
  }

  testing::TempDir temp_;
  std::string dir_ = temp_.path();
  std::unique_ptr<CaProcess> ca_;
};

TEST_F(CaServerTest, AttestSyncSignRenewEndToEnd) {
  StartCa();
  Node node = Attest("node1");
  pki::TrustBundle bundle = Bundle();
  pki::VerifyResult node_svid = pki::VerifyX509Svid(node.chain, bundle, {absl::Now()});
  ASSERT_TRUE(node_svid.ok()) << node_svid.detail();
  EXPECT_EQ(node_svid.chain().spiffe_id->ToString(), "spiffe://example.org/meshid/node/node1");
  EXPECT_EQ(node_svid.chain().certificates.size(), 4u) << "leaf, issuing CA, intermediate, root";

  std::string entry = CreateEntry("/ns/default/sa/web", "node1", {"--dns", "web.default.svc"});
  absl::StatusOr<ca::v1::SyncEntriesResponse> sync = node.client->SyncEntries(0);
  ASSERT_TRUE(sync.ok()) << sync.status();
  EXPECT_TRUE(sync->full());
  ASSERT_EQ(sync->entries_size(), 1);
  EXPECT_EQ(sync->entries(0).id(), entry);
  absl::StatusOr<ca::v1::SyncEntriesResponse> again = node.client->SyncEntries(sync->revision());
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->full());
  EXPECT_EQ(again->entries_size(), 0) << "nothing changed since";

  pki::PrivateKey workload_key = *pki::PrivateKey::Generate(pki::KeyType::kEcP256);
  absl::StatusOr<ca::v1::SignSVIDsResponse> signed_svids =
      node.client->SignSvids(SignRequest(entry, Csr(workload_key), 3));
  ASSERT_TRUE(signed_svids.ok()) << signed_svids.status();
  ASSERT_EQ(signed_svids->svids_size(), 3);
  std::unique_ptr<store::DataStore> db = *store::OpenSqlite(ca_->db_path());
  for (const ca::v1::X509SVID& svid : signed_svids->svids()) {
    std::vector<pki::Certificate> chain = *agent::ParseSvidChain(svid);
    pki::VerifyResult result = pki::VerifyX509Svid(chain, bundle, {absl::Now()});
    ASSERT_TRUE(result.ok()) << result.detail();
    EXPECT_EQ(result.chain().spiffe_id->ToString(), "spiffe://example.org/ns/default/sa/web");
    EXPECT_THAT(chain[0].dns_sans(), ::testing::ElementsAre("web.default.svc"));
    EXPECT_TRUE(workload_key.Matches(chain[0].public_key())) << "the CSR's key, not another";
    EXPECT_LE(chain[0].not_after() - absl::Now(), absl::Hours(1)) << "svid.default_ttl";
    absl::StatusOr<std::optional<store::IssuanceRecord>> record = db->GetIssuance(svid.serial());
    ASSERT_TRUE(record.ok() && record->has_value()) << "recorded before it was returned";
    EXPECT_EQ((*record)->node, "node1");
    EXPECT_EQ((*record)->kind, "workload");
  }

  // The same SVID through meshid's CLI and through OpenSSL's strict verifier.
  std::vector<pki::Certificate> svid = *agent::ParseSvidChain(signed_svids->svids(0));
  std::string dir = ca_->dir();
  base::StagedFiles files;
  files.Add(dir + "/svid.pem", pki::ToPem(svid), 0644);
  files.Add(dir + "/leaf.pem", svid[0].ToPem(), 0644);
  files.Add(dir + "/cas.pem", pki::ToPem(absl::MakeConstSpan(svid).subspan(1)), 0644);
  ASSERT_TRUE(files.Commit(/*overwrite=*/true).ok());
  CommandResult cli =
      RunMeshid({"x509", "verify", "--bundle", ca_->bundle_path(), "--chain", dir + "/svid.pem",
                 "--expect-id", "spiffe://example.org/ns/default/sa/web"});
  EXPECT_EQ(cli.exit_code, 0) << cli.out << cli.err;
  for (const char* purpose : {"sslclient", "sslserver"}) {
    CommandResult openssl = RunCommand(
        "openssl", {"verify", "-x509_strict", "-purpose", purpose, "-CAfile", ca_->bundle_path(),
                    "-untrusted", dir + "/cas.pem", dir + "/leaf.pem"});
    EXPECT_EQ(openssl.exit_code, 0) << purpose << ": " << openssl.out << openssl.err;
  }
  // And through a third, stricter parser: Python's cryptography (Rust, DER only), which checks
  // every signature of the chain up to a root of the bundle.
  CommandResult strict = RunCommand(
      "/usr/bin/python3",
      {"-c",
       "import sys\n"
       "from cryptography import x509\n"
       "from cryptography.hazmat.primitives.asymmetric import ec\n"
       "from cryptography.x509.oid import ExtensionOID\n"
       "def load(path):\n"
       "  end = '-----END CERTIFICATE-----'\n"
       "  return [x509.load_pem_x509_certificate((p + end).encode())\n"
       "          for p in open(path).read().split(end) if 'BEGIN' in p]\n"
       "chain, roots = load(sys.argv[1]), load(sys.argv[2])\n"
       "for i, cert in enumerate(chain):\n"
       "  issuer = chain[i + 1] if i + 1 < len(chain) else \\\n"
       "      next(r for r in roots if r.subject == cert.issuer)\n"
       "  issuer.public_key().verify(cert.signature, cert.tbs_certificate_bytes,\n"
       "                             ec.ECDSA(cert.signature_hash_algorithm))\n"
       "leaf = chain[0]\n"
       "san = leaf.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)\n"
       "bc = leaf.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value\n"
       "assert san.critical and not bc.ca and len(leaf.subject) == 0\n"
       "print(*san.value.get_values_for_type(x509.UniformResourceIdentifier))\n",
       dir + "/svid.pem", ca_->bundle_path()});
  EXPECT_EQ(strict.exit_code, 0) << strict.err;
  EXPECT_EQ(strict.out, "spiffe://example.org/ns/default/sa/web\n");

  pki::PrivateKey new_key = *pki::PrivateKey::Generate(pki::KeyType::kEcP256);
  absl::StatusOr<ca::v1::RenewNodeResponse> renewed = node.client->RenewNode(Csr(new_key));
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  std::vector<pki::Certificate> renewed_chain = *agent::ParseSvidChain(renewed->svid());
  EXPECT_TRUE(new_key.Matches(renewed_chain[0].public_key()));
  EXPECT_TRUE(pki::VerifyX509Svid(renewed_chain, bundle, {absl::Now()}).ok());
  EXPECT_TRUE(ClientAs(new_key, renewed_chain)->SyncEntries(0).ok()) << "the renewed SVID works";
}

TEST_F(CaServerTest, JoinTokensAreSingleUseAndExpire) {
  StartCa();
  std::string token = Token("node1");
  pki::PrivateKey key = *pki::PrivateKey::Generate(pki::KeyType::kEcP256);
  ASSERT_TRUE(Anonymous()->AttestNode(token, Csr(key), "node1").ok());
  absl::Status reused = Anonymous()->AttestNode(token, Csr(key), "node1").status();
  EXPECT_EQ(reused.code(), absl::StatusCode::kPermissionDenied) << reused;

  // A token of one second: wait for its expiry (whole seconds in the store), then use it.
  std::string short_lived = Token("node2", "1s");
  absl::Time expired_at = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()) + 2);
  while (absl::Now() < expired_at) absl::SleepFor(absl::Milliseconds(100));
  absl::Status expired = Anonymous()->AttestNode(short_lived, Csr(key), "node2").status();
  EXPECT_EQ(expired.code(), absl::StatusCode::kPermissionDenied) << expired;

  std::string for_other = Token("node3");
  EXPECT_EQ(Anonymous()->AttestNode(for_other, Csr(key), "intruder").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Anonymous()->AttestNode("meshid-not-a-token", Csr(key), "x").status().code(),
            absl::StatusCode::kPermissionDenied);
  // An unbound token may not take over an existing node's name.
  EXPECT_EQ(Anonymous()->AttestNode(Token(), Csr(key), "node1").status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(CaServerTest, ANodeNeverObtainsAnotherNodesIdentities) {
  StartCa();
  Node a = Attest("node-a");
  Node b = Attest("node-b");
  std::string b_entry = CreateEntry("/ns/b/sa/secret", "node-b");
  CreateEntry("/ns/a/sa/app", "node-a");
  pki::PrivateKey key = *pki::PrivateKey::Generate(pki::KeyType::kEcP256);

  absl::Status stolen = a.client->SignSvids(SignRequest(b_entry, Csr(key))).status();
  EXPECT_EQ(stolen.code(), absl::StatusCode::kPermissionDenied) << stolen;
  absl::Status unknown =
      a.client->SignSvids(SignRequest("0123456789abcdef0123456789abcdef", Csr(key))).status();
  EXPECT_EQ(unknown.code(), absl::StatusCode::kPermissionDenied);
  absl::StatusOr<ca::v1::SyncEntriesResponse> a_entries = a.client->SyncEntries(0);
  ASSERT_TRUE(a_entries.ok());
  ASSERT_EQ(a_entries->entries_size(), 1);
  EXPECT_EQ(a_entries->entries(0).spiffe_id(), "spiffe://example.org/ns/a/sa/app");
  EXPECT_TRUE(b.client->SignSvids(SignRequest(b_entry, Csr(key))).ok());
}

TEST_F(CaServerTest, BadCsrsAreInvalidArgument) {
  StartCa();
  Node node = Attest("node1");
  std::string entry = CreateEntry("/w", "node1");
  pki::PrivateKey key = *pki::PrivateKey::Generate(pki::KeyType::kEcP256);
  std::string good =
      pki::CertificateRequest::Create(key, *pki::SpiffeId::Parse("spiffe://example.org/w"))
          ->ToDer();
  std::string tampered = good;
  tampered[tampered.size() - 5] ^= 0x01;  // inside the signature
  std::string ca_true = *testing::BuildCsrPem(
      key,
      {{"subjectAltName", "URI:spiffe://example.org/w"}, {"basicConstraints", "critical,CA:TRUE"}});
  pki::PrivateKey weak = testing::MakeWeakRsaKey(1024);
  std::string rsa1024 = Csr(weak);
  std::string huge = "-----BEGIN CERTIFICATE REQUEST-----\n" + std::string(70 * 1024, 'A');
  for (const auto& [name, csr] :
       std::vector<std::pair<std::string, std::string>>{{"tampered", tampered},
                                                        {"ca_true", ca_true},
                                                        {"rsa1024", rsa1024},
                                                        {"huge", huge},
                                                        {"garbage", "\x30\x82\x01garbage"},
                                                        {"empty", ""}}) {
    absl::Status sign = node.client->SignSvids(SignRequest(entry, csr)).status();
    EXPECT_EQ(sign.code(), absl::StatusCode::kInvalidArgument) << name << ": " << sign;
    absl::Status renew = node.client->RenewNode(csr).status();
    EXPECT_EQ(renew.code(), absl::StatusCode::kInvalidArgument) << name << ": " << renew;
  }
  // A refused attestation does not use the token up.
  std::string token = Token("node2");
  EXPECT_EQ(Anonymous()->AttestNode(token, ca_true, "node2").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Anonymous()->AttestNode(token, Csr(key), "node2").ok());
}

TEST_F(CaServerTest, UnknownNonNodeAndEvictedCallersAreDenied) {
  StartCa();
  Node node = Attest("node1");
  std::string entry = CreateEntry("/w", "node1");
  pki::PrivateKey key = *pki::PrivateKey::Generate(pki::KeyType::kEcP256);

  // No client certificate.
  EXPECT_EQ(Anonymous()->SyncEntries(0).status().code(), absl::StatusCode::kUnauthenticated);
  // A valid SVID for a node the server never attested (signed by the upstream itself).
  pki::CaDirectory upstream = *pki::ReadCaDirectory(ca_->upstream_dir());
  for (const char* id : {"spiffe://example.org/meshid/node/ghost", "spiffe://example.org/w"}) {
    pki::Certificate leaf = *pki::IssueLeaf(upstream.signer, key.public_key(),
                                            {*pki::SpiffeId::Parse(id)}, absl::Now());
    std::unique_ptr<agent::CaClient> stranger = ClientAs(key, {leaf, upstream.signer.certificate});
    EXPECT_EQ(stranger->SyncEntries(0).status().code(), absl::StatusCode::kPermissionDenied) << id;
    EXPECT_EQ(stranger->SignSvids(SignRequest(entry, Csr(key))).status().code(),
              absl::StatusCode::kPermissionDenied)
        << id;
  }

  CommandResult evicted = ca_->Admin({"node", "evict", "node1"});
  ASSERT_EQ(evicted.exit_code, 0) << evicted.err;
  EXPECT_EQ(node.client->SyncEntries(0).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(node.client->SignSvids(SignRequest(entry, Csr(key))).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(node.client->RenewNode(Csr(key)).status().code(), absl::StatusCode::kPermissionDenied);
  // The operator can bring it back with a token made for it.
  EXPECT_TRUE(Anonymous()->AttestNode(Token("node1"), Csr(key), "node1").ok());
}

TEST_F(CaServerTest, ARestartKeepsJournalEntriesTokensAndRecords) {
  StartCa();
  Node node = Attest("node1");
  std::string entry = CreateEntry("/w", "node1");
  std::string token = Token("node2");
  pki::PrivateKey key = *pki::PrivateKey::Generate(pki::KeyType::kEcP256);
  ca::v1::SignSVIDsResponse before = *node.client->SignSvids(SignRequest(entry, Csr(key)));
  pki::Certificate issuing = *pki::Certificate::FromDer(before.svids(0).cert_chain(1));

  EXPECT_EQ(ca_->Stop(SIGTERM), 0) << ca_->Log();
  EXPECT_FALSE(fs::exists(ca_->admin_socket())) << "the socket is removed on exit";
  ASSERT_TRUE(ca_->Start().ok()) << ca_->Log();
  EXPECT_THAT(ca_->Log(), HasSubstr("resuming with issuing CA serial=" + issuing.serial_hex()));

  // A new connection (new port), the same node SVID, the same entry.
  Node reconnected{"node1", node.key, node.chain, ClientAs(node.key, node.chain)};
  ca::v1::SignSVIDsResponse after = *reconnected.client->SignSvids(SignRequest(entry, Csr(key)));
  EXPECT_EQ(pki::Certificate::FromDer(after.svids(0).cert_chain(1))->serial_hex(),
            issuing.serial_hex());
  EXPECT_TRUE(Anonymous()->AttestNode(token, Csr(key), "node2").ok())
      << "the unused token survived";
  ca_->Stop(SIGTERM);
  std::unique_ptr<store::DataStore> db = *store::OpenSqlite(ca_->db_path());
  EXPECT_TRUE(db->GetIssuance(before.svids(0).serial())->has_value());
  EXPECT_TRUE(db->GetIssuance(after.svids(0).serial())->has_value());
}

TEST_F(CaServerTest, OneServerPerDataDir) {
  StartCa();
  CommandResult second = RunMeshid({"ca", "serve", "--config", dir_ + "/ca.yaml"});
  EXPECT_EQ(second.exit_code, 2);
  EXPECT_THAT(second.err, HasSubstr("another meshid ca serve is running with data_dir"));
  CommandResult list = ca_->Admin({"node", "list"});
  EXPECT_EQ(list.exit_code, 0) << "the first server keeps its admin socket: " << list.err;
}

TEST_F(CaServerTest, KillDashNineLosesNothingAcknowledged) {
  StartCa();
  Node node = Attest("node1");
  std::string entry = CreateEntry("/w", "node1");
  pki::PrivateKey key = *pki::PrivateKey::Generate(pki::KeyType::kEcP256);
  std::string csr = Csr(key);
  std::mutex mu;
  std::vector<std::string> received;
  std::atomic<bool> stop{false};
  std::vector<std::thread> load;
  for (int t = 0; t < 2; ++t) {
    load.emplace_back([&] {
      while (!stop) {
        absl::StatusOr<ca::v1::SignSVIDsResponse> r =
            node.client->SignSvids(SignRequest(entry, csr, 5));
        if (!r.ok()) return;  // the server died
        std::lock_guard<std::mutex> lock(mu);
        for (const ca::v1::X509SVID& s : r->svids()) received.push_back(s.serial());
      }
    });
  }
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {  // wait until a good amount was acknowledged
    {
      std::lock_guard<std::mutex> lock(mu);
      if (received.size() >= 200) break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(ca_->Stop(SIGKILL), 128 + SIGKILL);
  stop = true;
  for (std::thread& t : load) t.join();
  ASSERT_GE(received.size(), 200u);

  {
    std::unique_ptr<store::DataStore> db = *store::OpenSqlite(ca_->db_path());
    for (const std::string& serial : received) {
      absl::StatusOr<std::optional<store::IssuanceRecord>> record = db->GetIssuance(serial);
      ASSERT_TRUE(record.ok() && record->has_value()) << "acknowledged but lost: " << serial;
    }
  }
  ASSERT_TRUE(ca_->Start().ok()) << ca_->Log();
  std::unique_ptr<agent::CaClient> client = ClientAs(node.key, node.chain);
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<ca::v1::SignSVIDsResponse> r = client->SignSvids(SignRequest(entry, csr, 5));
    ASSERT_TRUE(r.ok()) << r.status();
    for (const ca::v1::X509SVID& s : r->svids()) received.push_back(s.serial());
  }
  std::set<std::string> distinct(received.begin(), received.end());
  EXPECT_EQ(distinct.size(), received.size()) << "a serial repeated";
}

TEST_F(CaServerTest, IssuingCaRotationNeverBreaksVerification) {
  // A compressed clock: each issuing CA lives 12 s, so the next is prepared after 6 s and
  // activated after 10 s. SVIDs live 3 s.
  StartCa("issuing_ca: {ttl: 12s}\nsvid: {default_ttl: 3s, max_ttl: 3s}\nnode_svid_ttl: 12s");
  Node node = Attest("node1");
  std::string entry = CreateEntry("/w", "node1");
  pki::PrivateKey key = *pki::PrivateKey::Generate(pki::KeyType::kEcP256);
  std::string csr = Csr(key);
  pki::TrustBundle bundle = Bundle();
  std::set<std::string> issuing_serials;
  int verified = 0;
  absl::Time end = absl::Now() + absl::Seconds(25);
  absl::Time node_renew_at = absl::Now();
  while (absl::Now() < end) {
    // Keep the node SVID fresh, as an agent would: renew when half of what was left is gone.
    if (absl::Now() >= node_renew_at) {
      absl::StatusOr<ca::v1::RenewNodeResponse> renewed = node.client->RenewNode(Csr(node.key));
      ASSERT_TRUE(renewed.ok()) << renewed.status();
      node.chain = *agent::ParseSvidChain(renewed->svid());
      node.client = ClientAs(node.key, node.chain);
      node_renew_at = absl::Now() + (node.chain.front().not_after() - absl::Now()) / 2;
    }
    absl::StatusOr<ca::v1::SignSVIDsResponse> r = node.client->SignSvids(SignRequest(entry, csr));
    ASSERT_TRUE(r.ok()) << r.status() << "\n" << ca_->Log();
    std::vector<pki::Certificate> chain = *agent::ParseSvidChain(r->svids(0));
    pki::VerifyResult result = pki::VerifyX509Svid(chain, bundle, {absl::Now()});
    ASSERT_TRUE(result.ok()) << pki::ChainErrorName(result.error()) << ": " << result.detail();
    EXPECT_LE(chain[0].not_after(), chain[1].not_after()) << "no SVID outlives its issuing CA";
    issuing_serials.insert(chain[1].serial_hex());
    ++verified;
    absl::SleepFor(absl::Milliseconds(250));
  }
  EXPECT_GE(issuing_serials.size(), 3u) << "two rotations in 25 s";
  EXPECT_GT(verified, 50);
  std::string log = ca_->Log();
  EXPECT_THAT(log, HasSubstr("activated issuing CA"));
  // The server renews its own TLS identity at half of what is left, and again on each
  // activation: a handful of times in 25 s, never in a loop.
  EXPECT_LE(CountSubstr(log, "server TLS identity renewed"), 25);
}

}  // namespace
}  // namespace meshid::integration
