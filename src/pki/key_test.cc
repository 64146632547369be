#include "meshid/pki/key.h"

#include <string>

#include <openssl/pem.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/pki/certificate.h"
#include "meshid/testing/fake_clock.h"
#include "meshid/testing/status.h"
#include "meshid/testing/test_pki.h"

namespace meshid::pki {
namespace {

using ::testing::HasSubstr;

class KeyTypeTest : public ::testing::TestWithParam<KeyType> {};

TEST_P(KeyTypeTest, GeneratesRoundTripsAndDescribes) {
  absl::StatusOr<PrivateKey> key = PrivateKey::Generate(GetParam());
  ASSERT_TRUE(key.ok()) << key.status();
  absl::StatusOr<base::SecretString> pem = key->ToPkcs8Pem();
  ASSERT_TRUE(pem.ok());
  EXPECT_THAT(std::string(pem->view()), HasSubstr("-----BEGIN PRIVATE KEY-----"));
  absl::StatusOr<PrivateKey> again = PrivateKey::Parse(pem->view());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->Matches(key->public_key()));

  absl::StatusOr<base::SecretString> der = key->ToPkcs8Der();
  ASSERT_TRUE(der.ok());
  absl::StatusOr<PrivateKey> from_der = PrivateKey::Parse(der->view());
  ASSERT_TRUE(from_der.ok()) << from_der.status();
  EXPECT_TRUE(from_der->Matches(key->public_key()));

  PublicKeyInfo info = key->public_key().info();
  EXPECT_FALSE(info.weak);
  switch (GetParam()) {
    case KeyType::kEcP256:
      EXPECT_EQ(info.Describe(), "EC P-256");
      break;
    case KeyType::kEcP384:
      EXPECT_EQ(info.Describe(), "EC P-384");
      break;
    case KeyType::kRsa2048:
      EXPECT_EQ(info.Describe(), "RSA 2048");
      break;
    case KeyType::kRsa3072:
      EXPECT_EQ(info.Describe(), "RSA 3072");
      break;
    case KeyType::kRsa4096:
      EXPECT_EQ(info.Describe(), "RSA 4096");
      break;
  }
  EXPECT_EQ(*ParseKeyType(KeyTypeName(GetParam())), GetParam());
}

INSTANTIATE_TEST_SUITE_P(All, KeyTypeTest,
                         ::testing::Values(KeyType::kEcP256, KeyType::kEcP384, KeyType::kRsa2048,
                                           KeyType::kRsa3072, KeyType::kRsa4096));

TEST(KeyTest, UnknownKeyTypeListsTheChoices) {
  absl::StatusOr<KeyType> t = ParseKeyType("ec-p521");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(testing::MessageOf(t.status()),
              HasSubstr("ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096"));
}

TEST(KeyTest, EncryptedKeyNeedsTheRightPassphrase) {
  PrivateKey key = *PrivateKey::Generate(KeyType::kEcP256);
  absl::StatusOr<base::SecretString> pem = key.ToEncryptedPkcs8Pem("correct horse battery");
  ASSERT_TRUE(pem.ok());
  EXPECT_THAT(std::string(pem->view()), HasSubstr("ENCRYPTED PRIVATE KEY"));
  EXPECT_TRUE(PrivateKey::IsEncryptedPem(pem->view()));

  absl::StatusOr<PrivateKey> no_pass = PrivateKey::Parse(pem->view());
  EXPECT_THAT(testing::MessageOf(no_pass.status()), HasSubstr("--passphrase-file"));
  absl::StatusOr<PrivateKey> wrong = PrivateKey::Parse(pem->view(), "wrong");
  EXPECT_THAT(testing::MessageOf(wrong.status()), HasSubstr("wrong passphrase"));
  absl::StatusOr<PrivateKey> right = PrivateKey::Parse(pem->view(), "correct horse battery");
  ASSERT_TRUE(right.ok()) << right.status();
  EXPECT_TRUE(right->Matches(key.public_key()));
  EXPECT_FALSE(key.ToEncryptedPkcs8Pem("").ok());
}

// TraditionalPem writes `key` in the pre-PKCS#8 form ("EC PRIVATE KEY", "RSA PRIVATE KEY")
// that Linkerd's issuer.key and Istio's ca-key.pem often take.
std::string TraditionalPem(const PrivateKey& key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey_traditional(bio, key.get0(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

TEST(KeyTest, ReadsTraditionalEcAndRsaPem) {
  for (KeyType type : {KeyType::kEcP256, KeyType::kRsa2048}) {
    PrivateKey key = *PrivateKey::Generate(type);
    std::string pem = TraditionalPem(key);
    EXPECT_THAT(pem, HasSubstr(type == KeyType::kEcP256 ? "BEGIN EC PRIVATE KEY"
                                                        : "BEGIN RSA PRIVATE KEY"));
    absl::StatusOr<PrivateKey> parsed = PrivateKey::Parse(pem);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_TRUE(parsed->Matches(key.public_key()));
  }
}

TEST(KeyTest, RejectsWhatIsNotAKey) {
  testing::TestPki pki = testing::TestPki::Create(testing::kTestEpoch);
  std::string cert_pem = pki.root.certificate.ToPem();
  struct Case {
    std::string data;
    std::string message;
  } cases[] = {
      {"", "empty"},
      {cert_pem, "holds a PEM \"CERTIFICATE\", not a private key"},
      {"garbage bytes \x01\x02", "not a private key"},
      {"-----BEGIN PRIVATE KEY-----\nMIGHAgEA\n", "truncated"},
      {"-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n", "damaged"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<PrivateKey> key = PrivateKey::Parse(c.data);
    ASSERT_FALSE(key.ok()) << c.message;
    EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(testing::MessageOf(key.status()), HasSubstr(c.message));
  }
  PrivateKey a = *PrivateKey::Generate(KeyType::kEcP256);
  PrivateKey b = *PrivateKey::Generate(KeyType::kEcP256);
  std::string two = std::string(a.ToPkcs8Pem()->view()) + std::string(b.ToPkcs8Pem()->view());
  EXPECT_THAT(testing::MessageOf(PrivateKey::Parse(two).status()), HasSubstr("2 private keys"));
}

TEST(KeyTest, WeakKeysAreFlagged) {
  EXPECT_TRUE(testing::MakeWeakRsaKey(1024).public_key().info().weak);
  EXPECT_FALSE(PrivateKey::Generate(KeyType::kRsa2048)->public_key().info().weak);
}

TEST(KeyTest, PublicKeyEqualityAndDer) {
  PrivateKey a = *PrivateKey::Generate(KeyType::kEcP256);
  PrivateKey b = *PrivateKey::Generate(KeyType::kEcP256);
  EXPECT_TRUE(a.public_key() == a.public_key());
  EXPECT_FALSE(a.public_key() == b.public_key());
  absl::StatusOr<PublicKey> parsed = PublicKey::FromDer(a.public_key().ToDer());
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(*parsed == a.public_key());
  EXPECT_FALSE(PublicKey::FromDer("junk").ok());
  EXPECT_FALSE(a.Matches(b.public_key()));
}

}  // namespace
}  // namespace meshid::pki
