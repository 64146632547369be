#include "check.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/pki/issue.h"
#include "meshid/testing/fake_clock.h"
#include "meshid/testing/test_pki.h"

namespace meshid::cli {
namespace {

using ::testing::HasSubstr;
using testing::kTestEpoch;
using testing::TestPki;

constexpr absl::Duration kDay = absl::Hours(24);

// Find returns the result named `name`; the test fails when there is none.
const CheckResult& Find(const std::vector<CheckResult>& results, const std::string& name) {
  for (const CheckResult& r : results) {
    if (r.name == name) return r;
  }
  static const CheckResult kMissing{"", "missing", CheckStatus::kFail, "no such check"};
  ADD_FAILURE() << "no check named " << name;
  return kMissing;
}

std::vector<std::string> NotOk(const std::vector<CheckResult>& results) {
  std::vector<std::string> names;
  for (const CheckResult& r : results) {
    if (r.status != CheckStatus::kOk) names.push_back(r.name);
  }
  return names;
}

class CheckTest : public ::testing::Test {
 protected:
  CheckTest() : pki_(TestPki::Create(kTestEpoch)) {}

  // Hierarchy returns the meshid layout of pki_: bundle, intermediate and its key.
  CheckInput Hierarchy() const {
    CheckInput in;
    in.bundle = {pki_.root.certificate};
    in.ca_chain = {pki_.intermediate.certificate};
    in.ca_key = pki_.intermediate.key;
    in.ca_key_source = "ca.key";
    in.levels_below_ca = 1;
    return in;
  }

  std::vector<CheckResult> Run(const CheckInput& in, absl::Time at = kTestEpoch) const {
    return RunChecks(in, Thresholds::Defaults(), at);
  }

  TestPki pki_;
};

TEST_F(CheckTest, AFreshMeshidHierarchyPasses) {
  CheckInput in = Hierarchy();
  in.leaf_chain = pki_.IssueLeaf("/ns/default/sa/web").chain;
  std::vector<CheckResult> results = Run(in);
  EXPECT_THAT(NotOk(results), ::testing::IsEmpty());
  EXPECT_EQ(Worst(results), CheckStatus::kOk);
  for (const char* name : {"bundle.roots_only",
                           "bundle.single_trust_domain",
                           "root.validity",
                           "root.lifetime",
                           "root.constraints",
                           "root.strength",
                           "intermediate.validity",
                           "intermediate.lifetime",
                           "intermediate.constraints",
                           "intermediate.strength",
                           "intermediate.outlives_issuer",
                           "chain.complete",
                           "chain.trusted",
                           "key.matches_ca",
                           "root_key.offline",
                           "leaf.validity",
                           "leaf.lifetime",
                           "leaf.svid",
                           "leaf.strength",
                           "leaf.chain"}) {
    EXPECT_EQ(Find(results, name).status, CheckStatus::kOk) << name;
  }
}

TEST_F(CheckTest, LifetimeThresholdsPerLevel) {
  CheckInput in = Hierarchy();
  absl::Time int_end = pki_.intermediate.certificate.not_after();
  EXPECT_EQ(Find(Run(in, int_end - 100 * kDay), "intermediate.lifetime").status,
            CheckStatus::kWarn);
  EXPECT_EQ(Find(Run(in, int_end - 20 * kDay), "intermediate.lifetime").status, CheckStatus::kFail);
  EXPECT_EQ(Find(Run(in, int_end - 200 * kDay), "intermediate.lifetime").status, CheckStatus::kOk);
  absl::Time root_end = pki_.root.certificate.not_after();
  EXPECT_EQ(Find(Run(Hierarchy(), root_end - 700 * kDay), "root.lifetime").status,
            CheckStatus::kWarn);
  EXPECT_THAT(Find(Run(Hierarchy(), root_end - 100 * kDay), "root.lifetime").detail,
              HasSubstr("below the critical threshold of 180d"));
}

TEST_F(CheckTest, LeafThresholdsScaleWithItsLifetime) {
  CheckInput in;
  in.bundle = {pki_.root.certificate};
  in.leaf_chain = pki_.IssueLeaf("/a", absl::Hours(1)).chain;
  absl::Time end = in.leaf_chain[0].not_after();
  // A 1-hour SVID: warning below 30 minutes (half), critical below 10 minutes (a sixth).
  EXPECT_EQ(Find(Run(in, kTestEpoch), "leaf.lifetime").status, CheckStatus::kOk);
  EXPECT_EQ(Find(Run(in, end - absl::Minutes(20)), "leaf.lifetime").status, CheckStatus::kWarn);
  EXPECT_EQ(Find(Run(in, end - absl::Minutes(5)), "leaf.lifetime").status, CheckStatus::kFail);
  EXPECT_EQ(Find(Run(in, end + absl::Minutes(5)), "leaf.validity").status, CheckStatus::kFail);
}

TEST_F(CheckTest, IssuingCaFromALeafChainUsesIssuingThresholds) {
  pki::PrivateKey key = *pki::PrivateKey::Generate(pki::KeyType::kEcP256);
  pki::Signer issuing{
      *pki::IssueIntermediateCa(pki_.intermediate, key.public_key(),
                                {pki_.trust_domain, "issuing", 24 * absl::Hours(1), 0}, kTestEpoch),
      key};
  pki::PrivateKey leaf_key = *pki::PrivateKey::Generate(pki::KeyType::kEcP256);
  pki::Certificate leaf =
      *pki::IssueLeaf(issuing, leaf_key.public_key(),
                      {*pki::SpiffeId::Parse("spiffe://example.org/a")}, kTestEpoch);
  CheckInput in = Hierarchy();
  in.leaf_chain = {leaf, issuing.certificate, pki_.intermediate.certificate};
  absl::Time end = issuing.certificate.not_after();
  // 24 h issuing CA: warning below 8 h (a third), critical below 4 h (a sixth).
  EXPECT_EQ(Find(Run(in, end - absl::Hours(10)), "issuing.lifetime").status, CheckStatus::kOk);
  EXPECT_EQ(Find(Run(in, end - absl::Hours(6)), "issuing.lifetime").status, CheckStatus::kWarn);
  EXPECT_EQ(Find(Run(in, end - absl::Hours(3)), "issuing.lifetime").status, CheckStatus::kFail);
  // The issuing CA is the level below the intermediate, so pathlen 1 is exactly enough.
  EXPECT_EQ(Find(Run(in), "intermediate.constraints").status, CheckStatus::kOk);
  EXPECT_EQ(Find(Run(in), "issuing.constraints").status, CheckStatus::kOk);
}

TEST_F(CheckTest, ExplicitThresholdsOverrideDefaults) {
  Thresholds t = Thresholds::Defaults();
  t.intermediate.critical = *ParseThreshold("10d");
  absl::Time at = pki_.intermediate.certificate.not_after() - 20 * kDay;
  EXPECT_EQ(Find(RunChecks(Hierarchy(), t, at), "intermediate.lifetime").status,
            CheckStatus::kWarn);
  t.intermediate.warn = *ParseThreshold("1%");
  EXPECT_EQ(Find(RunChecks(Hierarchy(), t, at), "intermediate.lifetime").status, CheckStatus::kOk);
}

TEST_F(CheckTest, BundleRules) {
  CheckInput in = Hierarchy();
  in.bundle.push_back(pki_.intermediate.certificate);
  EXPECT_EQ(Find(Run(in), "bundle.roots_only").status, CheckStatus::kFail);

  TestPki other = TestPki::Create(kTestEpoch, "other.org");
  in = Hierarchy();
  in.bundle.push_back(other.root.certificate);
  EXPECT_THAT(Find(Run(in), "bundle.single_trust_domain").detail,
              HasSubstr("example.org, other.org"));

  in = Hierarchy();
  in.bundle.clear();
  EXPECT_EQ(Find(Run(in), "bundle.present").status, CheckStatus::kFail);
}

TEST_F(CheckTest, PathLengthMustLeaveRoomForIssuingCas) {
  pki::PrivateKey key = *pki::PrivateKey::Generate(pki::KeyType::kEcP256);
  pki::Certificate tight = *pki::IssueIntermediateCa(
      pki_.root, key.public_key(), {pki_.trust_domain, "tight", 365 * kDay, 0}, kTestEpoch);
  CheckInput in = Hierarchy();
  in.ca_chain = {tight};
  in.ca_key = key;
  EXPECT_THAT(Find(Run(in), "intermediate.constraints").detail,
              HasSubstr("pathlen 0 allows 0 CA level(s) below it, but the hierarchy needs 1"));
  in.levels_below_ca = 0;  // Istio and Linkerd sign leaves with the CA itself
  EXPECT_EQ(Find(Run(in), "intermediate.constraints").status, CheckStatus::kOk);
}

TEST_F(CheckTest, ChainAndKeyProblems) {
  pki::PrivateKey key = *pki::PrivateKey::Generate(pki::KeyType::kEcP256);
  pki::Certificate issuing = *pki::IssueIntermediateCa(
      pki_.intermediate, key.public_key(), {pki_.trust_domain, "issuing", kDay, 0}, kTestEpoch);
  CheckInput in = Hierarchy();
  in.ca_chain = {issuing};  // the intermediate above it is missing
  in.ca_key = key;
  std::vector<CheckResult> results = Run(in);
  EXPECT_THAT(Find(results, "chain.complete").detail, HasSubstr("missing intermediate"));
  EXPECT_THAT(Find(results, "chain.trusted").detail, HasSubstr("missing_intermediate"));

  in = Hierarchy();
  in.ca_key = pki_.root.key;
  EXPECT_EQ(Find(Run(in), "key.matches_ca").status, CheckStatus::kFail);

  in = Hierarchy();
  in.root_keys_beside_ca_key = {"dir/root.key"};
  EXPECT_EQ(Find(Run(in), "root_key.offline").status, CheckStatus::kFail);
  in.root_keys_beside_ca_key.clear();
  in.root_keys_in_tree = {"pki/root/root.key"};
  EXPECT_EQ(Find(Run(in), "root_key.offline").status, CheckStatus::kWarn);
}

TEST_F(CheckTest, ARootUsedAsTheOnlineCaFails) {
  // cert-manager's CA issuer, a self-signed Istio cacerts, a Linkerd issuer that is its own
  // anchor: the root key is online.
  CheckInput in = Hierarchy();
  in.ca_chain = {pki_.root.certificate};
  in.ca_key = pki_.root.key;
  std::vector<CheckResult> results = Run(in);
  const CheckResult& r = Find(results, "root_key.offline");
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_THAT(r.detail, HasSubstr("is the private key of root"));
}

TEST_F(CheckTest, AChainThatLoopsIsIncomplete) {
  // Two CAs that name each other as issuer, both signed by the other's key.
  pki::PrivateKey ka = *pki::PrivateKey::Generate(pki::KeyType::kEcP256);
  pki::PrivateKey kb = *pki::PrivateKey::Generate(pki::KeyType::kEcP256);
  testing::CertSpec a_spec = testing::CaSpec("A", "example.org", kTestEpoch, 365 * kDay, 1);
  testing::CertSpec b_spec = testing::CaSpec("B", "example.org", kTestEpoch, 365 * kDay, 1);
  a_spec.key_ids = b_spec.key_ids = false;
  pki::Signer b_self{*testing::BuildCertificate(b_spec, kb, nullptr), kb};
  pki::Certificate a = *testing::BuildCertificate(a_spec, ka, &b_self);
  pki::Signer a_signer{a, ka};
  pki::Certificate b = *testing::BuildCertificate(b_spec, kb, &a_signer);
  CheckInput in = Hierarchy();
  in.ca_chain = {a, b};
  in.ca_key = ka;
  std::vector<CheckResult> results = Run(in);
  EXPECT_THAT(Find(results, "chain.complete").detail, HasSubstr("loops back"));
  EXPECT_EQ(Find(results, "chain.trusted").status, CheckStatus::kFail);
}

TEST_F(CheckTest, IntermediateOutlivingItsRootFails) {
  pki::PrivateKey key = *pki::PrivateKey::Generate(pki::KeyType::kEcP256);
  testing::CertSpec spec = testing::CaSpec("long", "example.org", kTestEpoch, 20 * 365 * kDay, 1);
  pki::Certificate longer = *testing::BuildCertificate(spec, key, &pki_.root);
  CheckInput in = Hierarchy();
  in.ca_chain = {longer};
  in.ca_key = key;
  EXPECT_THAT(Find(Run(in), "intermediate.outlives_issuer").detail, HasSubstr("after its issuer"));
}

TEST_F(CheckTest, LeafProfileAndTrustDomain) {
  pki::PrivateKey key = *pki::PrivateKey::Generate(pki::KeyType::kEcP256);
  testing::CertSpec spec = testing::LeafSpec("spiffe://example.org/a", kTestEpoch);
  spec.extended_key_usage = "serverAuth";
  CheckInput in = Hierarchy();
  in.leaf_chain = {*testing::BuildCertificate(spec, key, &pki_.intermediate),
                   pki_.intermediate.certificate};
  EXPECT_THAT(Find(Run(in), "leaf.svid").detail, HasSubstr("eku_missing_client_auth"));

  spec = testing::LeafSpec("spiffe://other.org/a", kTestEpoch);
  in.leaf_chain = {*testing::BuildCertificate(spec, key, &pki_.intermediate),
                   pki_.intermediate.certificate};
  EXPECT_THAT(Find(Run(in), "leaf.svid").detail, HasSubstr("trust_domain_mismatch"));
}

TEST_F(CheckTest, WeakKeysFailStrength) {
  pki::PrivateKey weak = testing::MakeWeakRsaKey(1024);
  testing::CertSpec spec = testing::CaSpec("weak", "example.org", kTestEpoch, 365 * kDay, 1);
  CheckInput in = Hierarchy();
  in.ca_chain = {*testing::BuildCertificate(spec, weak, &pki_.root)};
  in.ca_key = weak;
  EXPECT_THAT(Find(Run(in), "intermediate.strength").detail, HasSubstr("weak RSA 1024"));
  EXPECT_EQ(Find(Run(in), "chain.trusted").status, CheckStatus::kOk)
      << "strength is reported once, by the strength check";
}

TEST(ThresholdTest, ParseAndApply) {
  Threshold days = *ParseThreshold("30d");
  EXPECT_EQ(days.For(365 * kDay), 30 * kDay);
  Threshold share = *ParseThreshold("25%");
  EXPECT_EQ(share.For(absl::Hours(4)), absl::Hours(1));
  Threshold both{absl::Hours(4), 0.5};
  EXPECT_EQ(both.For(absl::Hours(1)), absl::Minutes(30));
  EXPECT_EQ(both.For(absl::Hours(24)), absl::Hours(4));
  for (const char* bad : {"", "0%", "100%", "-1%", "x%", "nan%", "inf%", "5", "-3d"}) {
    EXPECT_FALSE(ParseThreshold(bad).ok()) << bad;
  }
}

TEST(CheckStatusTest, WorstAndNames) {
  EXPECT_EQ(Worst({}), CheckStatus::kOk);
  EXPECT_EQ(Worst({{"g", "a", CheckStatus::kWarn, ""}, {"g", "b", CheckStatus::kOk, ""}}),
            CheckStatus::kWarn);
  EXPECT_EQ(CheckStatusName(CheckStatus::kFail), "fail");
  EXPECT_EQ(LevelName(Level::kIssuing), "issuing");
}

}  // namespace
}  // namespace meshid::cli
