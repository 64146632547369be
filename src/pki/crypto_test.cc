#include "meshid/pki/crypto.h"

#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/pki/csr.h"
#include "meshid/testing/fake_clock.h"
#include "meshid/testing/test_pki.h"

namespace meshid::pki {
namespace {

using ::testing::ElementsAre;
using testing::kTestEpoch;
using testing::TestPki;

TEST(CryptoTest, RandomBytesAndSha256) {
  std::set<std::string> seen;
  for (int i = 0; i < 10; ++i) seen.insert(*RandomBytes(16));
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(RandomBytes(32)->size(), 32u);
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(CryptoTest, FindRootKeys) {
  TestPki pki = TestPki::Create(kTestEpoch);
  std::string root_key(pki.root.key.ToPkcs8Pem()->view());
  std::string int_key(pki.intermediate.key.ToPkcs8Pem()->view());
  std::string encrypted(pki.intermediate.key.ToEncryptedPkcs8Pem("pw")->view());
  std::vector<Certificate> roots = {pki.root.certificate};
  std::vector<std::pair<std::string, absl::string_view>> files = {
      {"ca.key", int_key},
      {"old-root.pem", root_key},
      {"backup.key", encrypted},
      {"root.key.enc", encrypted},
      {"ca.crt", "-----BEGIN CERTIFICATE-----"}};
  EXPECT_THAT(FindRootKeys(files, roots), ElementsAre("old-root.pem", "root.key.enc"));
}

TEST(CsrTest, RequestsCa) {
  TestPki pki = TestPki::Create(kTestEpoch);
  PrivateKey key = *PrivateKey::Generate(KeyType::kEcP256);
  CertificateRequest plain =
      *CertificateRequest::Create(key, *SpiffeId::Parse("spiffe://example.org/a"));
  EXPECT_FALSE(plain.RequestsCa());
  absl::StatusOr<std::string> ca_pem = testing::BuildCsrPem(
      key,
      {{"subjectAltName", "URI:spiffe://example.org/a"}, {"basicConstraints", "critical,CA:TRUE"}});
  ASSERT_TRUE(ca_pem.ok()) << ca_pem.status();
  EXPECT_TRUE(CertificateRequest::Parse(*ca_pem)->RequestsCa());
}

}  // namespace
}  // namespace meshid::pki
