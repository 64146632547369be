#include "authority.h"

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/pki/crypto.h"
#include "meshid/pki/verify.h"
#include "meshid/testing/fake_clock.h"
#include "meshid/testing/status.h"
#include "meshid/testing/test_pki.h"
#include "test_authority.h"

namespace meshid::ca {
namespace {

using ::testing::HasSubstr;
using testing::kTestEpoch;
using testing::MessageOf;

class AuthorityTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(ca_.initialized.ok()) << ca_.initialized; }

  std::string Csr(const pki::PrivateKey& key) {
    return pki::CertificateRequest::Create(key, *pki::SpiffeId::Parse("spiffe://example.org/x"))
        ->ToPem();
  }

  // Attest makes node `name` and returns its SPIFFE ID.
  pki::SpiffeId Attest(const std::string& name) {
    std::string token = authority_->CreateJoinToken(absl::Hours(1), name)->token;
    absl::StatusOr<IssuedSvid> svid = authority_->AttestNode(token, Csr(key_), "");
    EXPECT_TRUE(svid.ok()) << svid.status();
    return svid->id;
  }

  testing::FakeClock clock_{kTestEpoch};
  TestAuthority ca_{clock_};
  testing::TestPki& pki_ = ca_.pki;
  const CaConfig& config_ = ca_.config;
  std::unique_ptr<store::DataStore>& store_ = ca_.store;
  std::unique_ptr<Authority>& authority_ = ca_.authority;
  pki::PrivateKey key_ = *pki::PrivateKey::Generate(pki::KeyType::kEcP256);
};

TEST_F(AuthorityTest, TheBundleIsSeededFromTheUpstream) {
  pki::TrustBundle bundle = authority_->bundle();
  ASSERT_EQ(bundle.x509_authorities().size(), 1u);
  EXPECT_TRUE(bundle.x509_authorities()[0] == pki_.root.certificate);
  EXPECT_EQ(bundle.sequence(), 1u);
}

TEST_F(AuthorityTest, TokensAreRandomHashedAndBounded) {
  Authority::NewToken a = *authority_->CreateJoinToken(absl::Hours(1), "n1");
  Authority::NewToken b = *authority_->CreateJoinToken(absl::Hours(1), "");
  EXPECT_NE(a.token, b.token);
  EXPECT_EQ(a.token.size(), 7u + 43u) << "meshid- and 32 random bytes in base64url";
  EXPECT_EQ(a.record.token_hash, pki::Sha256Hex(a.token)) << "only the hash is stored";
  EXPECT_EQ(a.record.expires_at, kTestEpoch + absl::Hours(1));
  EXPECT_FALSE(authority_->CreateJoinToken(absl::ZeroDuration(), "").ok());
  EXPECT_FALSE(authority_->CreateJoinToken(absl::Hours(24 * 31), "").ok());
  EXPECT_FALSE(authority_->CreateJoinToken(absl::Hours(1), "bad name").ok());
}

TEST_F(AuthorityTest, AttestationRules) {
  std::string bound = authority_->CreateJoinToken(absl::Hours(1), "node1")->token;
  EXPECT_EQ(authority_->AttestNode(bound, Csr(key_), "other").status().code(),
            absl::StatusCode::kPermissionDenied);
  absl::StatusOr<IssuedSvid> svid = authority_->AttestNode(bound, Csr(key_), "");
  ASSERT_TRUE(svid.ok()) << svid.status();
  EXPECT_EQ(svid->id.ToString(), "spiffe://example.org/meshid/node/node1");
  EXPECT_EQ(svid->leaf.not_after, kTestEpoch + config_.node_svid_ttl);
  EXPECT_EQ(authority_->AttestNode(bound, Csr(key_), "").status().code(),
            absl::StatusCode::kPermissionDenied)
      << "single use";

  std::string unbound = authority_->CreateJoinToken(absl::Hours(1), "")->token;
  EXPECT_EQ(authority_->AttestNode(unbound, Csr(key_), "").status().code(),
            absl::StatusCode::kInvalidArgument)
      << "the agent must name itself";
  EXPECT_THAT(MessageOf(authority_->AttestNode(unbound, Csr(key_), "node1").status()),
              HasSubstr("re-attest it with a token made by meshid token create --node node1"));
  EXPECT_TRUE(authority_->AttestNode(unbound, Csr(key_), "node2").ok());

  std::string expiring = authority_->CreateJoinToken(absl::Minutes(1), "node3")->token;
  clock_.Advance(absl::Minutes(2));
  EXPECT_EQ(authority_->AttestNode(expiring, Csr(key_), "").status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(AuthorityTest, EntryValidation) {
  Attest("node1");
  auto create = [this](std::string id, std::string parent, std::vector<std::string> selectors,
                       absl::Duration ttl = absl::ZeroDuration(),
                       std::vector<std::string> dns = {}) {
    return authority_->CreateEntry({id, parent, selectors, ttl, dns, ""}).status();
  };
  const std::string parent = "spiffe://example.org/meshid/node/node1";
  EXPECT_TRUE(create("spiffe://example.org/web", parent, {"unix:uid:1000"}).ok());
  EXPECT_EQ(create("spiffe://example.org/web", parent, {"unix:uid:1000"}).code(),
            absl::StatusCode::kAlreadyExists);
  struct Case {
    absl::Status status;
    std::string message;
  } cases[] = {
      {create("spiffe://other.org/web", parent, {"unix:uid:1"}), "not in this CA's trust domain"},
      {create("spiffe://example.org", parent, {"unix:uid:1"}), "needs a path"},
      {create("spiffe://example.org/meshid/node/x", parent, {"unix:uid:1"}), "reserved"},
      {create("spiffe://example.org/w", "spiffe://example.org/meshid/node/ghost", {"unix:uid:1"}),
       "does not exist"},
      {create("spiffe://example.org/w", "spiffe://example.org/web", {"unix:uid:1"}),
       "is not a node ID"},
      {create("spiffe://example.org/w", parent, {}), "at least one selector"},
      {create("spiffe://example.org/w", parent, {"unix:uid:1"}, absl::Hours(48)), "svid.max_ttl"},
      {create("spiffe://example.org/w", parent, {"unix:uid:1"}, {}, {"bad name"}), "invalid DNS"},
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(c.status.ok()) << c.message;
    EXPECT_THAT(MessageOf(c.status), HasSubstr(c.message));
  }
}

TEST_F(AuthorityTest, SelectorRules) {
  for (const char* good : {"unix:uid:0", "unix:uid:4294967295", "unix:gid:10", "unix:user:www-data",
                           "unix:group:wheel", "unix:supplementary_gid:27",
                           "unix:supplementary_group:docker", "unix:path:/usr/bin/app",
                           "unix:sha256:"
                           "0123456789abcdef0123456789abcdef"
                           "0123456789abcdef0123456789abcdef"}) {
    EXPECT_TRUE(ValidateSelector(good).ok()) << good;
  }
  for (const char* bad : {"k8s:ns:default", "unix:uid:abc", "unix:uid:-1", "unix:uid:4294967296",
                          "unix:uid:", "unix:path:relative", "unix:sha256:ABC", "unix:bogus:1",
                          "unix:user:", "unix:user:a b", "unix", "unix:supplementary_gid:x"}) {
    absl::Status s = ValidateSelector(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(MessageOf(s), HasSubstr(bad));
  }
}

TEST_F(AuthorityTest, SigningIsAllOrNothingAndRecorded) {
  pki::SpiffeId node1 = Attest("node1");
  pki::SpiffeId node2 = Attest("node2");
  store::EntryRecord mine = *authority_->CreateEntry(
      {"spiffe://example.org/web", node1.ToString(), {"unix:uid:1"}, absl::Hours(2), {}, ""});
  store::EntryRecord theirs = *authority_->CreateEntry(
      {"spiffe://example.org/db", node2.ToString(), {"unix:uid:1"}, {}, {}, ""});
  std::string csr = Csr(key_);

  absl::StatusOr<std::vector<IssuedSvid>> ok = authority_->SignSvids(node1, {{mine.id, csr}});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->front().leaf.not_after, kTestEpoch + absl::Hours(2)) << "the entry's TTL";
  EXPECT_TRUE(pki::VerifyX509Svid(*ok->front().Chain(), authority_->bundle(), {kTestEpoch}).ok());
  EXPECT_TRUE((*store_->GetIssuance(ok->front().leaf.serial_hex)).has_value());

  int64_t before = *store_->CountIssuances();
  absl::Status mixed = authority_->SignSvids(node1, {{mine.id, csr}, {theirs.id, csr}}).status();
  EXPECT_EQ(mixed.code(), absl::StatusCode::kPermissionDenied);
  absl::Status bad_csr = authority_->SignSvids(node1, {{mine.id, csr}, {mine.id, "junk"}}).status();
  EXPECT_EQ(bad_csr.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(MessageOf(bad_csr), HasSubstr("requests[1]"));
  EXPECT_EQ(*store_->CountIssuances(), before) << "nothing issued from a refused batch";
  EXPECT_EQ(authority_->SignSvids(node1, {}).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<SignItem> too_many(kMaxSignBatch + 1, {mine.id, csr});
  EXPECT_EQ(authority_->SignSvids(node1, too_many).status().code(),
            absl::StatusCode::kInvalidArgument);

  // The default TTL applies without an entry TTL, and max_ttl caps everything.
  store::EntryRecord plain = *authority_->CreateEntry(
      {"spiffe://example.org/plain", node1.ToString(), {"unix:uid:2"}, {}, {}, ""});
  EXPECT_EQ(authority_->SignSvids(node1, {{plain.id, csr}})->front().leaf.not_after,
            kTestEpoch + config_.svid_default_ttl);
}

TEST_F(AuthorityTest, EvictionAndNonNodeCallers) {
  pki::SpiffeId node1 = Attest("node1");
  EXPECT_EQ(
      authority_->SyncEntries(*pki::SpiffeId::Parse("spiffe://example.org/web"), 0).status().code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(authority_->SyncEntries(*pki::SpiffeId::Parse("spiffe://evil.org/meshid/node/node1"), 0)
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(authority_->EvictNode("node1").ok());
  EXPECT_EQ(authority_->SyncEntries(node1, 0).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(authority_->RenewNode(node1, Csr(key_)).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(authority_->EvictNode("ghost").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(AuthorityTest, CsrRules) {
  EXPECT_TRUE(ParseWorkloadCsr(Csr(key_)).ok());
  EXPECT_THAT(MessageOf(ParseWorkloadCsr(Csr(testing::MakeWeakRsaKey(1024))).status()),
              HasSubstr("weak RSA 1024"));
  std::string ca = *testing::BuildCsrPem(key_, {{"basicConstraints", "critical,CA:TRUE"}});
  EXPECT_THAT(MessageOf(ParseWorkloadCsr(ca).status()), HasSubstr("CA:true"));
  EXPECT_FALSE(ParseWorkloadCsr(std::string(pki::kMaxCsrBytes + 1, 'a')).ok());
}

TEST_F(AuthorityTest, RootsAddRemoveAndStreamWaiters) {
  testing::TestPki next = testing::TestPki::Create(kTestEpoch);
  uint64_t seen = authority_->bundle().sequence();
  std::thread waiter([&] {
    pki::TrustBundle b =
        authority_->bundle_state().WaitForChange(seen, absl::Now() + absl::Seconds(30));
    EXPECT_EQ(b.sequence(), seen + 1);
  });
  absl::StatusOr<pki::TrustBundle> added = authority_->AddRoot(next.root.certificate.ToPem());
  waiter.join();
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->x509_authorities().size(), 2u);
  EXPECT_EQ(authority_->AddRoot(next.root.certificate.ToPem()).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(authority_->AddRoot(pki_.intermediate.certificate.ToPem()).status().code(),
            absl::StatusCode::kInvalidArgument)
      << "roots only";
  testing::TestPki foreign = testing::TestPki::Create(kTestEpoch, "other.org");
  EXPECT_EQ(authority_->AddRoot(foreign.root.certificate.ToPem()).status().code(),
            absl::StatusCode::kInvalidArgument);

  // The root the server's own chain rests on cannot be withdrawn: that is the wrong-order
  // rotation that breaks every SVID.
  EXPECT_EQ(authority_->RemoveRoot(pki_.root.certificate.ToPem()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<pki::TrustBundle> removed = authority_->RemoveRoot(next.root.certificate.ToPem());
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(removed->sequence(), seen + 2);
  EXPECT_EQ(authority_->RemoveRoot(next.root.certificate.ToPem()).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace meshid::ca
