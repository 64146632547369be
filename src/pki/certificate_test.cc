#include "meshid/pki/certificate.h"

#include <string>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/pki/openssl_error.h"
#include "meshid/testing/fake_clock.h"
#include "meshid/testing/status.h"
#include "meshid/testing/test_pki.h"

namespace meshid::pki {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::kTestEpoch;
using testing::TestPki;

TEST(CertificateTest, PemAndDerRoundTrip) {
  TestPki pki = TestPki::Create(kTestEpoch);
  const Certificate& root = pki.root.certificate;
  absl::StatusOr<Certificate> from_pem = Certificate::FromPem(root.ToPem());
  ASSERT_TRUE(from_pem.ok()) << from_pem.status();
  EXPECT_TRUE(*from_pem == root);
  absl::StatusOr<Certificate> from_der = Certificate::FromDer(root.ToDer());
  ASSERT_TRUE(from_der.ok());
  EXPECT_TRUE(*from_der == root);
  EXPECT_FALSE(Certificate::FromDer(root.ToDer() + "x").ok()) << "trailing bytes";
}

TEST(CertificateTest, ParsesPemChainDerAndConcatenatedDer) {
  TestPki pki = TestPki::Create(kTestEpoch);
  TestPki::Leaf leaf = pki.IssueLeaf("/ns/default/sa/web");
  std::string pem = "some text openssl prints\n" + ToPem(leaf.chain);
  absl::StatusOr<std::vector<Certificate>> certs = ParseCertificates(pem);
  ASSERT_TRUE(certs.ok()) << certs.status();
  ASSERT_EQ(certs->size(), 2u);
  EXPECT_TRUE((*certs)[0] == leaf.certificate);

  absl::StatusOr<std::vector<Certificate>> der = ParseCertificates(ToDer(leaf.chain));
  ASSERT_TRUE(der.ok()) << der.status();
  EXPECT_EQ(der->size(), 2u);
  EXPECT_TRUE((*der)[1] == pki.intermediate.certificate);
  EXPECT_THAT(testing::MessageOf(Certificate::FromPem(pem).status()), HasSubstr("2 certificates"));
}

TEST(CertificateTest, RejectsWhatIsNotACertificate) {
  TestPki pki = TestPki::Create(kTestEpoch);
  std::string key_pem(pki.root.key.ToPkcs8Pem()->view());
  std::string cert_pem = pki.root.certificate.ToPem();
  std::string der = pki.root.certificate.ToDer();
  struct Case {
    std::string data;
    std::string message;
  } cases[] = {
      {"", "empty"},
      {key_pem, "holds a PEM \"PRIVATE KEY\", not a certificate"},
      {cert_pem.substr(0, cert_pem.size() / 2), "truncated"},
      {std::string(4096, '\x5a'), "neither PEM nor DER"},
      {der.substr(0, der.size() - 10), "neither PEM nor DER"},
      {der + "garbage", "bytes after DER certificate 1"},
      {"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
       "PEM block 1 is not a valid certificate"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<Certificate>> certs = ParseCertificates(c.data);
    ASSERT_FALSE(certs.ok()) << c.message;
    EXPECT_EQ(certs.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(testing::MessageOf(certs.status()), HasSubstr(c.message));
  }
}

TEST(CertificateTest, ReadsEveryField) {
  TestPki pki = TestPki::Create(kTestEpoch);
  TestPki::Leaf leaf = pki.IssueLeaf("/ns/default/sa/web", absl::Hours(2));
  const Certificate& c = leaf.certificate;
  EXPECT_EQ(c.subject(), "");
  EXPECT_EQ(c.issuer(), pki.intermediate.certificate.subject());
  EXPECT_THAT(c.uri_sans(), ElementsAre("spiffe://example.org/ns/default/sa/web"));
  EXPECT_TRUE(c.dns_sans().empty());
  EXPECT_TRUE(c.san_critical());
  EXPECT_EQ(c.spiffe_id()->ToString(), "spiffe://example.org/ns/default/sa/web");
  EXPECT_FALSE(c.is_ca());
  EXPECT_EQ(c.not_before(), kTestEpoch - absl::Seconds(10));
  EXPECT_EQ(c.not_after(), kTestEpoch + absl::Hours(2));
  EXPECT_THAT(c.key_usage().Names(), ElementsAre("digitalSignature"));
  EXPECT_THAT(c.extended_key_usage().names, ElementsAre("serverAuth", "clientAuth"));
  EXPECT_EQ(c.authority_key_id(), pki.intermediate.certificate.subject_key_id());
  EXPECT_EQ(c.sha256_fingerprint().size(), 32u * 3 - 1);
  EXPECT_EQ(c.signature_algorithm(), "ecdsa-with-SHA256");
  EXPECT_FALSE(c.weak_signature());
  EXPECT_TRUE(c.IsIssuedBy(pki.intermediate.certificate));
  EXPECT_FALSE(c.IsIssuedBy(pki.root.certificate));
  EXPECT_FALSE(c.IsSelfSigned());
  EXPECT_TRUE(pki.root.certificate.IsSelfSigned());
  EXPECT_TRUE(c.IsValidAt(kTestEpoch));
  EXPECT_FALSE(c.IsValidAt(kTestEpoch + absl::Hours(3)));
}

TEST(CertificateTest, SpiffeIdErrors) {
  TestPki pki = TestPki::Create(kTestEpoch);
  PrivateKey key = *PrivateKey::Generate(KeyType::kEcP256);
  testing::CertSpec none = testing::LeafSpec("spiffe://example.org/a", kTestEpoch);
  none.uris.clear();
  none.dns = {"web.example.org"};
  Certificate no_uri = *testing::BuildCertificate(none, key, &pki.intermediate);
  EXPECT_EQ(no_uri.spiffe_id().status().code(), absl::StatusCode::kNotFound);
  testing::CertSpec two = testing::LeafSpec("spiffe://example.org/a", kTestEpoch);
  two.uris.push_back("spiffe://example.org/b");
  Certificate two_uris = *testing::BuildCertificate(two, key, &pki.intermediate);
  EXPECT_THAT(testing::MessageOf(two_uris.spiffe_id().status()), HasSubstr("2 URI SANs"));
}

TEST(OpenSslErrorTest, NamesTheCallAndDrainsTheQueue) {
  const unsigned char junk[] = {0x30, 0x03, 0x02, 0x01};
  const unsigned char* p = junk;
  ASSERT_EQ(d2i_X509(nullptr, &p, sizeof(junk)), nullptr);
  ASSERT_NE(ERR_peek_error(), 0u);
  absl::Status status = OpenSslError("d2i_X509", absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(testing::MessageOf(status), ::testing::StartsWith("d2i_X509 failed: error:"));
  EXPECT_EQ(testing::MessageOf(status).find('\n'), std::string::npos) << "one line";
  EXPECT_EQ(ERR_peek_error(), 0u);
  EXPECT_EQ(testing::MessageOf(OpenSslError("X509_new")), "X509_new failed");
}

}  // namespace
}  // namespace meshid::pki
