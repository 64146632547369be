#include "jwt_keys.h"

#include <filesystem>

#include "authority.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/base/files.h"
#include "meshid/pki/jwt.h"
#include "meshid/testing/fake_clock.h"
#include "meshid/testing/temp_dir.h"

namespace meshid::ca {
namespace {

namespace fs = std::filesystem;
using testing::FakeClock;
using testing::kTestEpoch;

constexpr absl::Duration kKeyTtl = absl::Hours(24);

class JwtKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ + "/keys");
    store_ = *store::OpenSqlite(dir_ + "/ca.db");
  }

  std::unique_ptr<JwtKeyManager> Manager() {
    return std::make_unique<JwtKeyManager>(*store_, bundle_, JwtKeyOptions{kKeyTtl, dir_ + "/keys"},
                                           clock_);
  }

  // SignerOf returns the key ID that signed a fresh token, after checking it validates
  // against the published bundle.
  std::string SignerOf(JwtKeyManager& keys) {
    absl::StatusOr<std::pair<std::string, absl::Time>> token =
        keys.Sign(subject_, {"db"}, absl::Minutes(5));
    EXPECT_TRUE(token.ok()) << token.status();
    if (!token.ok()) return "";
    absl::StatusOr<pki::JwtSvid> valid = pki::ValidateJwtSvid(
        token->first, "db", bundle_.Get().ParsedJwtAuthorities(), clock_.Now());
    EXPECT_TRUE(valid.ok()) << valid.status();
    return valid.ok() ? valid->key_id : "";
  }

  FakeClock clock_{kTestEpoch};
  testing::TempDir temp_;
  std::string dir_ = temp_.path();
  std::unique_ptr<store::DataStore> store_;
  BundleState bundle_{*pki::TrustDomain::Parse("example.org")};
  pki::SpiffeId subject_ = *pki::SpiffeId::Parse("spiffe://example.org/ns/a/sa/b");
};

TEST_F(JwtKeysTest, PublishesAtHalfLifeSwitchesAtFiveSixthsWithdrawsAtExpiry) {
  std::unique_ptr<JwtKeyManager> keys = Manager();
  EXPECT_EQ(keys->Sign(subject_, {"db"}, absl::Minutes(5)).status().code(),
            absl::StatusCode::kUnavailable)
      << "no key before the first tick";
  absl::StatusOr<absl::Time> next = keys->Tick();
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(*next, kTestEpoch + kKeyTtl / 2);
  ASSERT_EQ(bundle_.Get().ParsedJwtAuthorities().size(), 1u);
  const std::string first = SignerOf(*keys);
  struct stat st {};
  ASSERT_EQ(stat((dir_ + "/keys/jwt-" + first + ".key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);

  clock_.Set(kTestEpoch + kKeyTtl / 2);
  ASSERT_TRUE(keys->Tick().ok());
  ASSERT_EQ(bundle_.Get().ParsedJwtAuthorities().size(), 2u) << "the successor is published";
  EXPECT_EQ(SignerOf(*keys), first) << "but does not sign yet";

  clock_.Set(kTestEpoch + kKeyTtl * 5 / 6 + absl::Seconds(1));
  ASSERT_TRUE(keys->Tick().ok());
  const std::string second = SignerOf(*keys);
  EXPECT_NE(second, first);

  // A token never outlives its key.
  absl::StatusOr<std::pair<std::string, absl::Time>> long_token =
      keys->Sign(subject_, {"db"}, absl::Hours(48));
  ASSERT_TRUE(long_token.ok());
  EXPECT_LE(long_token->second, kTestEpoch + kKeyTtl / 2 + kKeyTtl);

  clock_.Set(kTestEpoch + kKeyTtl);
  ASSERT_TRUE(keys->Tick().ok());
  std::vector<pki::JwtAuthority> published = bundle_.Get().ParsedJwtAuthorities();
  ASSERT_EQ(published.size(), 2u) << "the expired key left, a third was published";
  EXPECT_NE(published[0].key_id, first);
  EXPECT_NE(published[1].key_id, first);
  EXPECT_FALSE(fs::exists(dir_ + "/keys/jwt-" + first + ".key"));
}

TEST_F(JwtKeysTest, ARestartSignsWithThePublishedKey) {
  std::unique_ptr<JwtKeyManager> first = Manager();
  ASSERT_TRUE(first->Tick().ok());
  const std::string before = SignerOf(*first);
  first.reset();
  std::unique_ptr<JwtKeyManager> restarted = Manager();
  ASSERT_TRUE(restarted->Tick().ok());
  EXPECT_EQ(bundle_.Get().ParsedJwtAuthorities().size(), 1u) << "no new key on restart";
  EXPECT_EQ(store_->GetBundle()->jwt_keys.size(), 1u);
  EXPECT_EQ(SignerOf(*restarted), before);
}

TEST_F(JwtKeysTest, AKeyFileThatDoesNotMatchItsPublishedKeyIsNotUsed) {
  std::unique_ptr<JwtKeyManager> first = Manager();
  ASSERT_TRUE(first->Tick().ok());
  const std::string published = SignerOf(*first);
  first.reset();
  // Another key in its place (a restored backup of the wrong data_dir, say).
  base::StagedFiles files;
  files.AddSecret(dir_ + "/keys/jwt-" + published + ".key",
                  *pki::PrivateKey::Generate(pki::KeyType::kEcP256)->ToPkcs8Pem());
  ASSERT_TRUE(files.Commit(/*overwrite=*/true).ok());
  std::unique_ptr<JwtKeyManager> restarted = Manager();
  ASSERT_TRUE(restarted->Tick().ok());
  EXPECT_EQ(bundle_.Get().ParsedJwtAuthorities().size(), 2u) << "a usable key was published";
  const std::string signer = SignerOf(*restarted);  // and validates against the bundle
  EXPECT_NE(signer, published);
  EXPECT_FALSE(signer.empty());
}

}  // namespace
}  // namespace meshid::ca
