#include "meshid/pki/issue.h"

#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <openssl/x509.h>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/pki/csr.h"
#include "meshid/testing/fake_clock.h"
#include "meshid/testing/status.h"
#include "meshid/testing/test_pki.h"

namespace meshid::pki {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::kTestEpoch;
using testing::TestPki;

TEST(IssueTest, LeafHasExactlyTheSvidExtensions) {
  TestPki pki = TestPki::Create(kTestEpoch);
  PrivateKey key = *PrivateKey::Generate(KeyType::kEcP256);
  SpiffeId id = *SpiffeId::Parse("spiffe://example.org/ns/default/sa/web");
  absl::StatusOr<Certificate> leaf = IssueLeaf(
      pki.intermediate, key.public_key(), {id, {"web.default.svc"}, absl::Hours(1)}, kTestEpoch);
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  EXPECT_THAT(leaf->uri_sans(), ElementsAre(id.ToString()));
  EXPECT_THAT(leaf->dns_sans(), ElementsAre("web.default.svc"));
  EXPECT_TRUE(leaf->san_critical()) << "empty subject needs a critical SAN";
  EXPECT_FALSE(leaf->is_ca());
  KeyUsage ku = leaf->key_usage();
  EXPECT_TRUE(ku.present && ku.critical && ku.digital_signature);
  EXPECT_FALSE(ku.key_cert_sign || ku.crl_sign || ku.key_encipherment);
  ExtendedKeyUsage eku = leaf->extended_key_usage();
  EXPECT_TRUE(eku.server_auth && eku.client_auth);
  EXPECT_FALSE(leaf->subject_key_id().empty());
  EXPECT_EQ(leaf->authority_key_id(), pki.intermediate.certificate.subject_key_id());
  EXPECT_EQ(leaf->not_before(), kTestEpoch - kBackdate);
  EXPECT_EQ(leaf->not_after(), kTestEpoch + absl::Hours(1));
  EXPECT_TRUE(leaf->IsIssuedBy(pki.intermediate.certificate));
}

TEST(IssueTest, RsaLeafAlsoAllowsKeyEncipherment) {
  TestPki pki = TestPki::Create(kTestEpoch);
  PrivateKey key = *PrivateKey::Generate(KeyType::kRsa2048);
  Certificate leaf = *IssueLeaf(pki.intermediate, key.public_key(),
                                {*SpiffeId::Parse("spiffe://example.org/rsa")}, kTestEpoch);
  EXPECT_THAT(leaf.key_usage().Names(), ElementsAre("digitalSignature", "keyEncipherment"));
}

// Serials: 16 bytes, positive, unique; the first 6 bytes are the issuance time in
// milliseconds, so that successive serials sort in issuance order.
TEST(IssueTest, SerialsAreUniquePositiveAndStartWithTheIssuanceTime) {
  TestPki pki = TestPki::Create(kTestEpoch);
  PrivateKey key = *PrivateKey::Generate(KeyType::kEcP256);
  std::set<std::string> serials;
  std::string previous_time;
  const int64_t before = absl::ToUnixMillis(absl::Now());
  for (int i = 0; i < 20; ++i) {
    Certificate leaf = *IssueLeaf(pki.intermediate, key.public_key(),
                                  {*SpiffeId::Parse("spiffe://example.org/a")}, kTestEpoch);
    std::string serial = leaf.serial_hex();
    ASSERT_LE(serial.size(), 32u);
    EXPECT_NE(serial[0], '-');
    serial.insert(0, 32 - serial.size(), '0');  // the 16 bytes, leading zeros included
    const std::string time = serial.substr(0, 12);
    const int64_t ms = std::stoll(time, nullptr, 16);
    EXPECT_GE(ms, before);
    EXPECT_LE(ms, absl::ToUnixMillis(absl::Now()));
    EXPECT_GE(time, previous_time);  // same length: hex order is time order
    previous_time = time;
    serials.insert(serial);
  }
  // Many of them share a millisecond: the 80 random bits keep them apart.
  EXPECT_EQ(serials.size(), 20u);
}

// LeafIssuer writes the DER itself, around pre-encoded parts: OpenSSL must parse it, re-encode
// the parsed TBSCertificate to the same bytes (so the encoding is DER as OpenSSL writes it),
// and verify its signature, for every issuer key type and for keys that come from a CSR
// (SubjectPublicKeyInfo copied as received) or not.
TEST(IssueTest, LeafIssuerWritesDerOpenSslReencodesIdentically) {
  SpiffeId id = *SpiffeId::Parse("spiffe://example.org/ns/default/sa/web");
  for (std::string issuer_type : {"ec-p256", "ec-p384", "rsa-2048", "ed25519"}) {
    PrivateKey root_key = issuer_type == "ed25519"
                              ? testing::MakeEd25519Key()
                              : *PrivateKey::Generate(*ParseKeyType(issuer_type));
    Signer root{
        *IssueRootCa(root_key, {id.trust_domain(), "root", absl::Hours(24), {}}, kTestEpoch),
        root_key};
    absl::StatusOr<LeafIssuer> issuer = LeafIssuer::Create(root);
    ASSERT_TRUE(issuer.ok()) << issuer.status();
    PrivateKey ec = *PrivateKey::Generate(KeyType::kEcP256);
    PrivateKey rsa = *PrivateKey::Generate(KeyType::kRsa2048);
    std::string csr = CertificateRequest::Create(ec, id)->ToDer();
    for (const PublicKey& subject :
         {ec.public_key(), rsa.public_key(), ParseCsrPublicKey(csr)->key}) {
      // Ten leaves each: a signature whose last byte ends in zero bits must still be whole
      // bytes in its BIT STRING.
      for (int i = 0; i < 10; ++i) {
        absl::StatusOr<IssuedLeaf> leaf =
            issuer->Issue(subject, {id, {"web.default.svc"}, absl::Hours(1)}, kTestEpoch);
        ASSERT_TRUE(leaf.ok()) << leaf.status();
        const auto* p = reinterpret_cast<const unsigned char*>(leaf->der.data());
        X509* x = d2i_X509(nullptr, &p, static_cast<long>(leaf->der.size()));
        ASSERT_NE(x, nullptr) << issuer_type;
        EXPECT_EQ(p, reinterpret_cast<const unsigned char*>(leaf->der.data()) + leaf->der.size());
        // The TBSCertificate as written: the first element of the Certificate SEQUENCE.
        p = reinterpret_cast<const unsigned char*>(leaf->der.data());
        ASN1_SEQUENCE_ANY* parts = d2i_ASN1_SEQUENCE_ANY(nullptr, &p, leaf->der.size());
        ASSERT_NE(parts, nullptr);
        const ASN1_STRING* written = sk_ASN1_TYPE_value(parts, 0)->value.sequence;
        unsigned char* reencoded = nullptr;
        int reencoded_len = i2d_re_X509_tbs(x, &reencoded);
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(written)),
                              ASN1_STRING_length(written)),
                  std::string(reinterpret_cast<char*>(reencoded), reencoded_len))
            << issuer_type;
        OPENSSL_free(reencoded);
        sk_ASN1_TYPE_pop_free(parts, ASN1_TYPE_free);
        const X509_ALGOR* outer = nullptr;
        X509_get0_signature(nullptr, &outer, x);
        EXPECT_EQ(X509_ALGOR_cmp(outer, X509_get0_tbs_sigalg(x)), 0);
        EXPECT_EQ(X509_verify(x, root.certificate.public_key().get0()), 1) << issuer_type;
        X509_free(x);

        Certificate cert = *Certificate::FromDer(leaf->der);
        EXPECT_EQ(cert.serial_hex(), leaf->serial_hex);
        EXPECT_EQ(cert.not_before(), leaf->not_before);
        EXPECT_EQ(cert.not_after(), leaf->not_after);
        EXPECT_TRUE(cert.public_key() == subject);
        EXPECT_EQ(cert.authority_key_id(), root.certificate.subject_key_id());
      }
    }
  }
}

// The CA calls one LeafIssuer from every gRPC thread: each leaf must come out whole and signed.
TEST(IssueTest, LeafIssuerSignsOnManyThreadsAtOnce) {
  TestPki pki = TestPki::Create(kTestEpoch);
  LeafIssuer issuer = *LeafIssuer::Create(pki.intermediate);
  PublicKey subject = PrivateKey::Generate(KeyType::kEcP256)->public_key();
  SpiffeId id = *SpiffeId::Parse("spiffe://example.org/a");
  std::vector<std::vector<std::string>> ders(4);
  std::vector<std::thread> threads;
  for (auto& out : ders) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) out.push_back(issuer.Issue(subject, {id}, kTestEpoch)->der);
    });
  }
  for (std::thread& t : threads) t.join();
  std::set<std::string> serials;
  for (const auto& out : ders) {
    for (const std::string& der : out) {
      absl::StatusOr<Certificate> cert = Certificate::FromDer(der);
      ASSERT_TRUE(cert.ok()) << cert.status();
      EXPECT_TRUE(cert->IsIssuedBy(pki.intermediate.certificate));
      serials.insert(cert->serial_hex());
    }
  }
  EXPECT_EQ(serials.size(), 100u);
}

TEST(IssueTest, LeafNeverOutlivesItsIssuer) {
  TestPki pki = TestPki::Create(kTestEpoch);
  PrivateKey key = *PrivateKey::Generate(KeyType::kEcP256);
  Certificate leaf = *IssueLeaf(
      pki.intermediate, key.public_key(),
      {*SpiffeId::Parse("spiffe://example.org/a"), {}, absl::Hours(24 * 10000)}, kTestEpoch);
  EXPECT_EQ(leaf.not_after(), pki.intermediate.certificate.not_after());
}

TEST(IssueTest, CaCertificatesHaveCaExtensions) {
  TestPki pki = TestPki::Create(kTestEpoch);
  for (const Certificate* ca : {&pki.root.certificate, &pki.intermediate.certificate}) {
    EXPECT_TRUE(ca->is_ca());
    KeyUsage ku = ca->key_usage();
    EXPECT_TRUE(ku.critical && ku.key_cert_sign && ku.crl_sign);
    EXPECT_FALSE(ku.digital_signature);
    EXPECT_THAT(ca->uri_sans(), ElementsAre("spiffe://example.org"));
    EXPECT_FALSE(ca->extended_key_usage().present);
    EXPECT_FALSE(ca->subject_key_id().empty());
  }
  EXPECT_EQ(pki.root.certificate.path_len(), std::nullopt);
  EXPECT_EQ(pki.intermediate.certificate.path_len(), 1);
  EXPECT_EQ(pki.root.certificate.authority_key_id(), pki.root.certificate.subject_key_id());
  EXPECT_EQ(pki.intermediate.certificate.authority_key_id(), pki.root.certificate.subject_key_id());
  EXPECT_THAT(pki.root.certificate.subject(), HasSubstr("O=meshid"));
}

TEST(IssueTest, IntermediateNeverOutlivesItsRoot) {
  TestPki pki = TestPki::Create(kTestEpoch);
  PrivateKey key = *PrivateKey::Generate(KeyType::kEcP256);
  Certificate ca =
      *IssueIntermediateCa(pki.root, key.public_key(),
                           {pki.trust_domain, "long", absl::Hours(24 * 365 * 50), 0}, kTestEpoch);
  EXPECT_EQ(ca.not_after(), pki.root.certificate.not_after());
}

TEST(IssueTest, RefusesBadRequests) {
  TestPki pki = TestPki::Create(kTestEpoch);
  PublicKey pub = PrivateKey::Generate(KeyType::kEcP256)->public_key();
  auto leaf = [&](const std::string& id, std::vector<std::string> dns = {},
                  absl::Duration ttl = absl::Hours(1), absl::Time now = kTestEpoch,
                  const Signer* signer = nullptr) {
    return IssueLeaf(signer ? *signer : pki.intermediate, pub,
                     {*SpiffeId::Parse(id), std::move(dns), ttl}, now);
  };
  EXPECT_THAT(testing::MessageOf(leaf("spiffe://example.org").status()), HasSubstr("has no path"));
  EXPECT_THAT(testing::MessageOf(leaf("spiffe://other.org/a").status()),
              HasSubstr("not the signing CA's"));
  EXPECT_THAT(testing::MessageOf(leaf("spiffe://example.org/a", {"bad_name!"}).status()),
              HasSubstr("invalid DNS name"));
  EXPECT_THAT(testing::MessageOf(leaf("spiffe://example.org/a", {}, absl::ZeroDuration()).status()),
              HasSubstr("TTL must be positive"));
  absl::Status expired =
      leaf("spiffe://example.org/a", {}, absl::Hours(1), kTestEpoch + absl::Hours(24 * 400))
          .status();
  EXPECT_EQ(expired.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(testing::MessageOf(expired), HasSubstr("expired at"));

  Signer wrong_key{pki.intermediate.certificate, pki.root.key};
  EXPECT_THAT(
      testing::MessageOf(
          leaf("spiffe://example.org/a", {}, absl::Hours(1), kTestEpoch, &wrong_key).status()),
      HasSubstr("does not belong"));
  TestPki::Leaf svid = pki.IssueLeaf("/svid");
  Signer not_ca{svid.certificate, svid.key};
  EXPECT_THAT(testing::MessageOf(
                  leaf("spiffe://example.org/a", {}, absl::Hours(1), kTestEpoch, &not_ca).status()),
              HasSubstr("is not a CA"));

  PrivateKey issuing_key = *PrivateKey::Generate(KeyType::kEcP256);
  Signer issuing{
      *IssueIntermediateCa(pki.intermediate, issuing_key.public_key(),
                           {pki.trust_domain, "issuing", absl::Hours(24), 0}, kTestEpoch),
      issuing_key};
  EXPECT_THAT(testing::MessageOf(IssueIntermediateCa(issuing, pub,
                                                     {pki.trust_domain, "below", absl::Hours(1), 0},
                                                     kTestEpoch)
                                     .status()),
              HasSubstr("pathlen 0"));
  EXPECT_FALSE(
      IssueRootCa(issuing_key, {pki.trust_domain, "", absl::Hours(1), {}}, kTestEpoch).ok());
  EXPECT_FALSE(
      IssueRootCa(issuing_key, {pki.trust_domain, "r", -absl::Hours(1), {}}, kTestEpoch).ok());
}

TEST(IssueTest, DnsNameRules) {
  for (const char* good : {"a", "web.default.svc", "*.example.org", "x-1.y2"}) {
    EXPECT_TRUE(IsValidDnsName(good)) << good;
  }
  for (const char* bad : {"", "-a", "a-", "a..b", "a_b", "*", "a.*.b", "sp ace", "a/b"}) {
    EXPECT_FALSE(IsValidDnsName(bad)) << bad;
  }
  EXPECT_FALSE(IsValidDnsName(std::string(64, 'a')));
}

}  // namespace
}  // namespace meshid::pki
