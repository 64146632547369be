#include "meshid/pki/csr.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/testing/status.h"

namespace meshid::pki {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(CsrTest, CreateParseRoundTrip) {
  PrivateKey key = *PrivateKey::Generate(KeyType::kEcP256);
  SpiffeId id = *SpiffeId::Parse("spiffe://example.org/ns/a/sa/b");
  std::vector<std::string> dns = {"b.a.svc"};
  absl::StatusOr<CertificateRequest> csr = CertificateRequest::Create(key, id, dns);
  ASSERT_TRUE(csr.ok()) << csr.status();
  for (const std::string& encoded : {csr->ToPem(), csr->ToDer()}) {
    absl::StatusOr<CertificateRequest> parsed = CertificateRequest::Parse(encoded);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_THAT(parsed->uri_sans(), ElementsAre("spiffe://example.org/ns/a/sa/b"));
    EXPECT_THAT(parsed->dns_sans(), ElementsAre("b.a.svc"));
    EXPECT_TRUE(key.Matches(parsed->public_key()));
  }
}

TEST(CsrTest, RejectsATamperedSignature) {
  PrivateKey key = *PrivateKey::Generate(KeyType::kEcP256);
  CertificateRequest csr =
      *CertificateRequest::Create(key, *SpiffeId::Parse("spiffe://example.org/a"));
  std::string der = csr.ToDer();
  // Flip one bit inside the URI SAN: the structure stays valid, the signature does not.
  size_t pos = der.find("example.org");
  ASSERT_NE(pos, std::string::npos);
  der[pos] ^= 0x01;
  absl::StatusOr<CertificateRequest> parsed = CertificateRequest::Parse(der);
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(testing::MessageOf(parsed.status()), HasSubstr("signature does not verify"));
}

TEST(CsrTest, RejectsBadInput) {
  PrivateKey key = *PrivateKey::Generate(KeyType::kEcP256);
  std::string key_pem(key.ToPkcs8Pem()->view());
  struct Case {
    std::string data;
    std::string message;
  } cases[] = {
      {"", "empty"},
      {std::string(kMaxCsrBytes + 1, 'a'), "more than the 65536 allowed"},
      {key_pem, "not a CSR"},
      {"\x30\x03\x02\x01\x00", "not a valid PKCS#10"},
      {"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n", "truncated"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<CertificateRequest> csr = CertificateRequest::Parse(c.data);
    ASSERT_FALSE(csr.ok()) << c.message;
    EXPECT_EQ(csr.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(testing::MessageOf(csr.status()), HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace meshid::pki
