#include "meshid/pki/verify.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/testing/fake_clock.h"
#include "meshid/testing/test_pki.h"

namespace meshid::pki {
namespace {

using testing::BuildCertificate;
using testing::CertSpec;
using ::testing::HasSubstr;
using testing::kTestEpoch;
using testing::LeafSpec;
using testing::TestPki;

constexpr char kId[] = "spiffe://example.org/ns/default/sa/web";

class VerifyTest : public ::testing::Test {
 protected:
  VerifyTest() : pki_(TestPki::Create(kTestEpoch)), key_(*PrivateKey::Generate(KeyType::kEcP256)) {}

  // Verify checks `leaf` presented with the intermediate.
  VerifyResult Verify(const Certificate& leaf, VerifyOptions options = {}) {
    if (options.at == absl::Time()) options.at = kTestEpoch;
    std::vector<Certificate> chain = {leaf, pki_.intermediate.certificate};
    return VerifyX509Svid(chain, pki_.Bundle(), options);
  }

  Certificate Build(const CertSpec& spec, const Signer* issuer = nullptr) {
    absl::StatusOr<Certificate> cert =
        BuildCertificate(spec, key_, issuer ? issuer : &pki_.intermediate);
    EXPECT_TRUE(cert.ok()) << cert.status();
    return *cert;
  }

  void ExpectError(const VerifyResult& result, ChainError error, const std::string& detail = "") {
    ASSERT_FALSE(result.ok()) << "expected " << ChainErrorName(error);
    EXPECT_EQ(ChainErrorName(result.error()), ChainErrorName(error)) << result.detail();
    EXPECT_THAT(result.detail(), HasSubstr(detail));
  }

  TestPki pki_;
  PrivateKey key_;
};

TEST_F(VerifyTest, AcceptsAConformingSvid) {
  TestPki::Leaf leaf = pki_.IssueLeaf("/ns/default/sa/web");
  VerifyResult result = Verify(leaf.certificate);
  ASSERT_TRUE(result.ok()) << result.detail();
  ASSERT_EQ(result.chain().certificates.size(), 3u);
  EXPECT_TRUE(result.chain().certificates[2] == pki_.root.certificate);
  EXPECT_EQ(result.chain().spiffe_id->ToString(), kId);
}

TEST_F(VerifyTest, IntermediatesMayComeInAnyOrder) {
  PrivateKey issuing_key = *PrivateKey::Generate(KeyType::kEcP256);
  Signer issuing{
      *IssueIntermediateCa(pki_.intermediate, issuing_key.public_key(),
                           {pki_.trust_domain, "issuing", absl::Hours(24), 0}, kTestEpoch),
      issuing_key};
  Certificate leaf = *IssueLeaf(issuing, key_.public_key(), {*SpiffeId::Parse(kId)}, kTestEpoch);
  std::vector<Certificate> chain = {leaf, pki_.intermediate.certificate, issuing.certificate};
  VerifyResult result = VerifyX509Svid(chain, pki_.Bundle(), {kTestEpoch});
  ASSERT_TRUE(result.ok()) << result.detail();
  EXPECT_EQ(result.chain().certificates.size(), 4u);
}

TEST_F(VerifyTest, EmptyChain) {
  ExpectError(VerifyX509Svid({}, pki_.Bundle(), {kTestEpoch}), ChainError::kEmptyChain);
}

TEST_F(VerifyTest, ExpiredAndNotYetValid) {
  TestPki::Leaf leaf = pki_.IssueLeaf("/a");
  ExpectError(Verify(leaf.certificate, {kTestEpoch + absl::Hours(2)}), ChainError::kExpired,
              "expired at");
  ExpectError(Verify(leaf.certificate, {kTestEpoch - absl::Hours(1)}), ChainError::kNotYetValid);
  // Past the intermediate's end, the intermediate is the one reported.
  ExpectError(Verify(leaf.certificate, {kTestEpoch + absl::Hours(24 * 400)}), ChainError::kExpired,
              "CA certificate");
}

TEST_F(VerifyTest, MissingIntermediate) {
  TestPki::Leaf leaf = pki_.IssueLeaf("/a");
  VerifyResult result = VerifyX509Svid({leaf.certificate}, pki_.Bundle(), {kTestEpoch});
  ExpectError(result, ChainError::kMissingIntermediate, "test intermediate");
}

TEST_F(VerifyTest, UnknownAuthority) {
  // Another hierarchy of the same trust domain, with the same root name: what a root rotated
  // before the bundle was updated looks like.
  TestPki rotated = TestPki::Create(kTestEpoch);
  TestPki::Leaf leaf = rotated.IssueLeaf("/a");
  ExpectError(VerifyX509Svid(leaf.chain, pki_.Bundle(), {kTestEpoch}),
              ChainError::kUnknownAuthority, "other than the bundle's root");
  std::vector<Certificate> with_root = leaf.chain;
  with_root.push_back(rotated.root.certificate);
  ExpectError(VerifyX509Svid(with_root, pki_.Bundle(), {kTestEpoch}), ChainError::kUnknownAuthority,
              "which the bundle does not hold");
  TrustBundle empty(pki_.trust_domain);
  ExpectError(VerifyX509Svid(leaf.chain, empty, {kTestEpoch}), ChainError::kUnknownAuthority,
              "no root");
}

TEST_F(VerifyTest, BadSignature) {
  Signer forger{pki_.intermediate.certificate, *PrivateKey::Generate(KeyType::kEcP256)};
  ExpectError(Verify(Build(LeafSpec(kId, kTestEpoch), &forger)), ChainError::kBadSignature);
}

TEST_F(VerifyTest, LeafProfileRules) {
  CertSpec spec = LeafSpec(kId, kTestEpoch);
  spec.basic_constraints = "critical,CA:TRUE";
  spec.key_usage = "critical,digitalSignature,keyCertSign";
  ExpectError(Verify(Build(spec)), ChainError::kLeafIsCa);

  spec = LeafSpec(kId, kTestEpoch);
  spec.key_usage = "critical,digitalSignature,cRLSign";
  ExpectError(Verify(Build(spec)), ChainError::kLeafCanSign);

  spec = LeafSpec(kId, kTestEpoch);
  spec.dns = {"a.example.org"};
  spec.uris.push_back("spiffe://example.org/other");
  Certificate two = Build(spec);
  ExpectError(Verify(two), ChainError::kMultipleUriSans);
}

// keyUsage and SAN criticality bind issuers; validators (go-spiffe among them) do not reject
// on them, so the verifier accepts and the issuance profile reports.
TEST_F(VerifyTest, IssuanceProfileRulesBindIssuersNotValidators) {
  struct Case {
    std::string key_usage;
    bool san_critical;
    ChainError error;
    std::string detail;
  } cases[] = {
      {"", true, ChainError::kLeafKeyUsage, "no keyUsage"},
      {"critical,keyEncipherment", true, ChainError::kLeafKeyUsage, "digitalSignature"},
      {"digitalSignature", true, ChainError::kLeafKeyUsage, "not critical"},
      {"critical,digitalSignature", false, ChainError::kSanNotCritical, "non-critical"},
  };
  for (const Case& c : cases) {
    CertSpec spec = LeafSpec(kId, kTestEpoch);
    spec.key_usage = c.key_usage;
    spec.san_critical = c.san_critical;
    Certificate leaf = Build(spec);
    EXPECT_TRUE(Verify(leaf).ok()) << c.detail;
    std::optional<VerifyResult> bad = CheckSvidIssuanceProfile(leaf);
    ASSERT_TRUE(bad.has_value()) << c.detail;
    ExpectError(*bad, c.error, c.detail);
  }
  EXPECT_FALSE(CheckSvidIssuanceProfile(pki_.IssueLeaf("/ok").certificate).has_value());
}

TEST_F(VerifyTest, DuplicatedExtensionsAreMalformed) {
  // Two subjectAltName extensions: one could hide the identity a peer would check.
  CertSpec spec = LeafSpec(kId, kTestEpoch);
  spec.extra_extensions = {{"subjectAltName", "URI:spiffe://example.org/other"}};
  ExpectError(Verify(Build(spec)), ChainError::kMalformed, "duplicated extension");
}

TEST_F(VerifyTest, IdentityRules) {
  CertSpec spec = LeafSpec(kId, kTestEpoch);
  spec.uris.clear();
  spec.dns = {"web.example.org"};
  ExpectError(Verify(Build(spec)), ChainError::kNoSpiffeId);

  spec = LeafSpec(kId, kTestEpoch);
  spec.uris.push_back("spiffe://example.org/other");
  ExpectError(Verify(Build(spec)), ChainError::kMultipleUriSans);

  ExpectError(Verify(Build(LeafSpec("https://example.org/a", kTestEpoch))),
              ChainError::kInvalidSpiffeId, "scheme");
  ExpectError(Verify(Build(LeafSpec("spiffe://example.org", kTestEpoch))),
              ChainError::kInvalidSpiffeId, "has no path");
  ExpectError(Verify(Build(LeafSpec("spiffe://other.org/a", kTestEpoch))),
              ChainError::kTrustDomainMismatch, "other.org");

  TestPki::Leaf leaf = pki_.IssueLeaf("/a");
  VerifyOptions expect_b{kTestEpoch};
  expect_b.expected_id = *SpiffeId::Parse("spiffe://example.org/b");
  ExpectError(Verify(leaf.certificate, expect_b), ChainError::kIdMismatch, "expected");
  expect_b.expected_id = *SpiffeId::Parse("spiffe://example.org/a");
  EXPECT_TRUE(Verify(leaf.certificate, expect_b).ok());
}

TEST_F(VerifyTest, ExtendedKeyUsageRules) {
  CertSpec spec = LeafSpec(kId, kTestEpoch);
  spec.extended_key_usage = "serverAuth";
  Certificate server_only = Build(spec);
  ExpectError(Verify(server_only), ChainError::kEkuMissingClientAuth);
  EXPECT_TRUE(Verify(server_only, {kTestEpoch, Usage::kServer}).ok());

  spec.extended_key_usage = "clientAuth";
  Certificate client_only = Build(spec);
  ExpectError(Verify(client_only), ChainError::kEkuMissingServerAuth);
  EXPECT_TRUE(Verify(client_only, {kTestEpoch, Usage::kClient}).ok());

  spec.extended_key_usage = "";
  EXPECT_TRUE(Verify(Build(spec)).ok()) << "no EKU means any usage";
}

TEST_F(VerifyTest, IssuerMustBeACa) {
  CertSpec not_ca = testing::CaSpec("fake ca", "example.org", kTestEpoch, absl::Hours(24));
  not_ca.basic_constraints = "critical,CA:FALSE";
  PrivateKey fake_key = *PrivateKey::Generate(KeyType::kEcP256);
  Signer fake{*BuildCertificate(not_ca, fake_key, &pki_.intermediate), fake_key};
  Certificate leaf = Build(LeafSpec(kId, kTestEpoch), &fake);
  std::vector<Certificate> chain = {leaf, fake.certificate, pki_.intermediate.certificate};
  ExpectError(VerifyX509Svid(chain, pki_.Bundle(), {kTestEpoch}), ChainError::kInvalidCa);
}

TEST_F(VerifyTest, PathLengthExceeded) {
  PrivateKey k1 = *PrivateKey::Generate(KeyType::kEcP256);
  PrivateKey k2 = *PrivateKey::Generate(KeyType::kEcP256);
  Signer zero{
      *BuildCertificate(testing::CaSpec("len0", "example.org", kTestEpoch, absl::Hours(24), 0), k1,
                        &pki_.intermediate),
      k1};
  Signer below{*BuildCertificate(
                   testing::CaSpec("below", "example.org", kTestEpoch, absl::Hours(24)), k2, &zero),
               k2};
  Certificate leaf = Build(LeafSpec(kId, kTestEpoch), &below);
  std::vector<Certificate> chain = {leaf, below.certificate, zero.certificate,
                                    pki_.intermediate.certificate};
  ExpectError(VerifyX509Svid(chain, pki_.Bundle(), {kTestEpoch}), ChainError::kPathLengthExceeded);
}

TEST_F(VerifyTest, WeakKeyAndWeakSignature) {
  PrivateKey weak = testing::MakeWeakRsaKey(1024);
  Certificate weak_leaf = *BuildCertificate(LeafSpec(kId, kTestEpoch), weak, &pki_.intermediate);
  ExpectError(Verify(weak_leaf), ChainError::kWeakKey, "RSA 1024");

  CertSpec sha1 = LeafSpec(kId, kTestEpoch);
  sha1.sha1 = true;
  ExpectError(Verify(Build(sha1)), ChainError::kWeakSignature, "SHA1");
}

TEST_F(VerifyTest, VerifyCaChain) {
  std::vector<Certificate> roots = {pki_.root.certificate};
  VerifyResult ok = VerifyCaChain({pki_.intermediate.certificate}, roots, kTestEpoch);
  ASSERT_TRUE(ok.ok()) << ok.detail();
  EXPECT_EQ(ok.chain().certificates.size(), 2u);
  TestPki other = TestPki::Create(kTestEpoch, "other.org");
  std::vector<Certificate> other_roots = {other.root.certificate};
  EXPECT_FALSE(VerifyCaChain({pki_.intermediate.certificate}, other_roots, kTestEpoch).ok());
}

TEST(ChainErrorTest, NamesAreStable) {
  EXPECT_EQ(ChainErrorName(ChainError::kMissingIntermediate), "missing_intermediate");
  EXPECT_EQ(ChainErrorName(ChainError::kEkuMissingClientAuth), "eku_missing_client_auth");
  EXPECT_EQ(ChainErrorName(ChainError::kWeakSignature), "weak_signature");
}

}  // namespace
}  // namespace meshid::pki
