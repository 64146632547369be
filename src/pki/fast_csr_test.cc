#include <string>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/pki/csr.h"
#include "meshid/pki/issue.h"
#include "meshid/testing/fake_clock.h"
#include "meshid/testing/status.h"
#include "meshid/testing/test_pki.h"

namespace meshid::pki {
namespace {

using ::testing::HasSubstr;
using testing::MessageOf;

const SpiffeId& Id() {
  static const SpiffeId* id = new SpiffeId(*SpiffeId::Parse("spiffe://example.org/w"));
  return *id;
}

TEST(ParseCsrPublicKeyTest, AgreesWithTheGeneralParserForEveryKeyType) {
  std::vector<PrivateKey> keys = {
      *PrivateKey::Generate(KeyType::kEcP256), *PrivateKey::Generate(KeyType::kEcP384),
      *PrivateKey::Generate(KeyType::kRsa2048), testing::MakeEd25519Key()};
  for (const PrivateKey& key : keys) {
    CertificateRequest csr = *CertificateRequest::Create(key, Id());
    for (const std::string& encoded : {csr.ToDer(), csr.ToPem()}) {
      absl::StatusOr<CsrPublicKey> fast = ParseCsrPublicKey(encoded);
      ASSERT_TRUE(fast.ok()) << key.public_key().info().Describe() << ": " << fast.status();
      EXPECT_TRUE(key.Matches(fast->key)) << key.public_key().info().Describe();
      EXPECT_FALSE(fast->requests_ca);
      EXPECT_EQ(fast->key.info().Describe(), key.public_key().info().Describe());
    }
  }
}

TEST(ParseCsrPublicKeyTest, IssuanceCopiesTheKeyExactly) {
  testing::TestPki pki = testing::TestPki::Create(testing::kTestEpoch);
  for (KeyType type : {KeyType::kEcP256, KeyType::kRsa2048}) {
    PrivateKey key = *PrivateKey::Generate(type);
    CsrPublicKey csr = *ParseCsrPublicKey(CertificateRequest::Create(key, Id())->ToDer());
    ASSERT_FALSE(csr.key.spki_der().empty());
    Certificate leaf = *IssueLeaf(pki.intermediate, csr.key, {Id()}, testing::kTestEpoch);
    EXPECT_TRUE(key.Matches(leaf.public_key()));
    EXPECT_EQ(leaf.public_key().ToDer(), csr.key.spki_der());
    EXPECT_TRUE(leaf.IsIssuedBy(pki.intermediate.certificate));
  }
}

// Tlv DER-encodes a tag and its content (minimal length).
std::string Tlv(unsigned char tag, const std::string& content) {
  std::string out(1, static_cast<char>(tag));
  size_t n = content.size();
  if (n < 0x80) {
    out.push_back(static_cast<char>(n));
  } else {
    std::string len;
    for (; n > 0; n >>= 8) len.insert(len.begin(), static_cast<char>(n & 0xff));
    out.push_back(static_cast<char>(0x80 | len.size()));
    out += len;
  }
  return out + content;
}

// CsrWithPart re-signs `der` (an ECDSA P-256 CSR of `key`) with element `part` of its
// certificationRequestInfo (0 version, 1 subject, 2 subjectPKInfo, 3 attributes) replaced by
// `encoded`, encoded any way a test wants.
std::string CsrWithPart(const PrivateKey& key, const std::string& der, int part,
                        const std::string& encoded) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509_REQ* req = d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size()));
  unsigned char* info_der = nullptr;
  int info_len = i2d_re_X509_REQ_tbs(req, &info_der);
  X509_REQ_free(req);
  p = info_der;
  ASN1_SEQUENCE_ANY* parts = d2i_ASN1_SEQUENCE_ANY(nullptr, &p, info_len);
  OPENSSL_free(info_der);
  std::string info;
  for (int i = 0; i < sk_ASN1_TYPE_num(parts); ++i) {
    if (i == part) {
      info += encoded;
      continue;
    }
    unsigned char* part = nullptr;
    int part_len = i2d_ASN1_TYPE(sk_ASN1_TYPE_value(parts, i), &part);
    info.append(reinterpret_cast<char*>(part), static_cast<size_t>(part_len));
    OPENSSL_free(part);
  }
  sk_ASN1_TYPE_pop_free(parts, ASN1_TYPE_free);
  info = Tlv(0x30, info);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t sig_len = 128;
  std::string sig(sig_len, '\0');
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key.get0());
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                 reinterpret_cast<const unsigned char*>(info.data()), info.size());
  EVP_MD_CTX_free(ctx);
  sig.resize(sig_len);
  const std::string ecdsa_with_sha256("\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02", 12);
  return Tlv(0x30, info + ecdsa_with_sha256 + Tlv(0x03, std::string(1, '\0') + sig));
}

// The SubjectPublicKeyInfo goes into the leaf as received, so BER that OpenSSL's decoder
// takes must be refused: a certificate carries DER (RFC 5280), and strict parsers (Go,
// BoringSSL) would refuse the SVID.
TEST(ParseCsrPublicKeyTest, RefusesABerKeyAndASubjectThatIsNotAName) {
  PrivateKey key = *PrivateKey::Generate(KeyType::kEcP256);
  std::string der = CertificateRequest::Create(key, Id())->ToDer();
  const std::string spki = key.public_key().ToDer();  // 30 59 <algorithm> <bit string>
  ASSERT_EQ(spki.substr(0, 2), std::string("\x30\x59", 2));
  const std::string content = spki.substr(2);

  // The helper itself makes a valid CSR when given the DER key.
  absl::StatusOr<CsrPublicKey> same = ParseCsrPublicKey(CsrWithPart(key, der, 2, spki));
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->key.spki_der(), spki);

  std::string long_length = CsrWithPart(key, der, 2, std::string("\x30\x81\x59", 3) + content);
  std::string indefinite =
      CsrWithPart(key, der, 2, std::string("\x30\x80", 2) + content + std::string(2, '\0'));
  for (const std::string& ber : {long_length, indefinite}) {
    EXPECT_THAT(MessageOf(ParseCsrPublicKey(ber).status()), HasSubstr("not DER-encoded"));
  }

  // The subject is not decoded, but it must be a SEQUENCE, as a Name is.
  std::string integer_subject = CsrWithPart(key, der, 1, std::string("\x02\x01\x05", 3));
  EXPECT_THAT(MessageOf(ParseCsrPublicKey(integer_subject).status()),
              HasSubstr("not a valid PKCS#10"));
  EXPECT_FALSE(CertificateRequest::Parse(integer_subject).ok()) << "the general parser agrees";
}

TEST(ParseCsrPublicKeyTest, RefusesWhatTheGeneralParserRefuses) {
  PrivateKey key = *PrivateKey::Generate(KeyType::kEcP256);
  std::string der = CertificateRequest::Create(key, Id())->ToDer();

  std::string tampered = der;
  tampered[tampered.find("example.org")] ^= 0x01;  // signed content changed
  EXPECT_THAT(MessageOf(ParseCsrPublicKey(tampered).status()), HasSubstr("does not verify"));

  std::string bad_signature = der;
  bad_signature[bad_signature.size() - 3] ^= 0x01;
  EXPECT_FALSE(ParseCsrPublicKey(bad_signature).ok());

  // A point that is not on the curve: the fast import refuses it, the general parser too.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509_REQ* parsed = d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size()));
  const unsigned char* point = nullptr;
  int point_len = 0;
  X509_PUBKEY_get0_param(nullptr, &point, &point_len, nullptr, X509_REQ_get_X509_PUBKEY(parsed));
  std::string point_bytes(reinterpret_cast<const char*>(point), static_cast<size_t>(point_len));
  X509_REQ_free(parsed);
  std::string off_curve = der;
  size_t at = off_curve.find(point_bytes);
  ASSERT_NE(at, std::string::npos);
  off_curve[at + point_len - 1] ^= 0x01;  // last byte of y
  EXPECT_FALSE(ParseCsrPublicKey(off_curve).ok());

  // The signature BIT STRING claims unused bits: refused, as ASN1_item_verify refuses it.
  const ASN1_BIT_STRING* sig = nullptr;
  p = reinterpret_cast<const unsigned char*>(der.data());
  parsed = d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size()));
  X509_REQ_get0_signature(parsed, &sig, nullptr);
  std::string sig_bytes(reinterpret_cast<const char*>(ASN1_STRING_get0_data(sig)),
                        static_cast<size_t>(ASN1_STRING_length(sig)));
  X509_REQ_free(parsed);
  std::string unused_bits = der;
  size_t sig_at = unused_bits.rfind(sig_bytes);
  ASSERT_NE(sig_at, std::string::npos);
  ASSERT_EQ(unused_bits[sig_at - 1], '\0');
  unused_bits[sig_at - 1] = '\x01';
  EXPECT_THAT(MessageOf(ParseCsrPublicKey(unused_bits).status()), HasSubstr("does not verify"));

  // ecdsa-with-SHA256 relabelled ecdsa-with-SHA384 (the label is outside the signed part):
  // the digest follows the label, so the signature no longer verifies.
  const std::string sha256_oid("\x2a\x86\x48\xce\x3d\x04\x03\x02", 8);
  std::string relabelled = der;
  size_t oid_at = relabelled.rfind(sha256_oid);
  ASSERT_NE(oid_at, std::string::npos);
  relabelled[oid_at + sha256_oid.size() - 1] = '\x03';
  EXPECT_THAT(MessageOf(ParseCsrPublicKey(relabelled).status()), HasSubstr("does not verify"));

  EXPECT_FALSE(ParseCsrPublicKey(der + "x").ok()) << "trailing bytes";
  EXPECT_FALSE(ParseCsrPublicKey(der.substr(0, der.size() / 2)).ok());
  EXPECT_FALSE(ParseCsrPublicKey("").ok());
  EXPECT_FALSE(ParseCsrPublicKey(std::string(kMaxCsrBytes + 1, '\x30')).ok());
  EXPECT_FALSE(ParseCsrPublicKey(absl::string_view("\x30\x03\x02\x01\x00", 5)).ok());

  std::string ca_true = *testing::BuildCsrPem(
      key,
      {{"subjectAltName", "URI:spiffe://example.org/w"}, {"basicConstraints", "critical,CA:TRUE"}});
  absl::StatusOr<CsrPublicKey> ca = ParseCsrPublicKey(ca_true);
  ASSERT_TRUE(ca.ok());
  EXPECT_TRUE(ca->requests_ca);
  absl::StatusOr<CsrPublicKey> ca_der =
      ParseCsrPublicKey(CertificateRequest::Parse(ca_true)->ToDer());
  ASSERT_TRUE(ca_der.ok());
  EXPECT_TRUE(ca_der->requests_ca) << "the DER path reads the extension request too";
}

}  // namespace
}  // namespace meshid::pki
