#include "meshid/pki/bundle.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/testing/fake_clock.h"
#include "meshid/testing/status.h"
#include "meshid/testing/test_pki.h"
#include "nlohmann/json.hpp"

namespace meshid::pki {
namespace {

using ::testing::HasSubstr;
using testing::kTestEpoch;
using testing::TestPki;

TEST(BundleTest, PemRoundTripDeduplicates) {
  TestPki pki = TestPki::Create(kTestEpoch);
  std::string pem = pki.root.certificate.ToPem() + pki.root.certificate.ToPem();
  absl::StatusOr<TrustBundle> bundle = TrustBundle::FromPem(pki.trust_domain, pem);
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  EXPECT_EQ(bundle->x509_authorities().size(), 1u);
  EXPECT_EQ(bundle->ToPem(), pki.root.certificate.ToPem());
  EXPECT_FALSE(TrustBundle::FromPem(pki.trust_domain, "").ok());
}

TEST(BundleTest, SpiffeJsonHasTheSpecFields) {
  TestPki pki = TestPki::Create(kTestEpoch);
  TrustBundle bundle = pki.Bundle();
  bundle.set_sequence(7);
  bundle.set_refresh_hint(absl::Minutes(5));
  nlohmann::json doc = nlohmann::json::parse(bundle.ToSpiffeJson());
  EXPECT_EQ(doc["spiffe_sequence"], 7);
  EXPECT_EQ(doc["spiffe_refresh_hint"], 300);
  ASSERT_EQ(doc["keys"].size(), 1u);
  const nlohmann::json& key = doc["keys"][0];
  EXPECT_EQ(key["use"], "x509-svid");
  EXPECT_EQ(key["kty"], "EC");
  EXPECT_EQ(key["crv"], "P-256");
  EXPECT_EQ(key["x"].get<std::string>().size(), 43u) << "32 bytes, base64url unpadded";
  EXPECT_EQ(key["y"].get<std::string>().size(), 43u);
  EXPECT_FALSE(key.contains("kid")) << "x509-svid authorities carry no kid";
  ASSERT_EQ(key["x5c"].size(), 1u);
}

TEST(BundleTest, SpiffeJsonRoundTripKeepsEverything) {
  TestPki pki = TestPki::Create(kTestEpoch);
  TestPki rsa_pki = TestPki::Create(kTestEpoch);
  PrivateKey rsa_key = *PrivateKey::Generate(KeyType::kRsa2048);
  Certificate rsa_root =
      *IssueRootCa(rsa_key, {pki.trust_domain, "rsa root", absl::Hours(24), {}}, kTestEpoch);
  TrustBundle bundle = pki.Bundle();
  ASSERT_TRUE(bundle.AddX509Authority(rsa_root).ok());
  bundle.set_sequence(42);
  std::string json = bundle.ToSpiffeJson();
  nlohmann::json doc = nlohmann::json::parse(json);
  doc["keys"].push_back({{"use", "jwt-svid"},
                         {"kty", "EC"},
                         {"kid", "k1"},
                         {"crv", "P-256"},
                         {"x", "AA"},
                         {"y", "BB"}});
  doc["keys"].push_back({{"use", "something-new"}, {"kty", "EC"}});
  absl::StatusOr<TrustBundle> parsed = TrustBundle::FromSpiffeJson(pki.trust_domain, doc.dump());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->x509_authorities().size(), 2u);
  EXPECT_TRUE(parsed->x509_authorities()[1] == rsa_root);
  EXPECT_EQ(parsed->sequence(), 42u);
  EXPECT_EQ(parsed->refresh_hint(), std::nullopt);
  EXPECT_EQ(parsed->jwt_authorities().size(), 1u);
  EXPECT_EQ(parsed->ignored_keys().size(), 1u) << "the unknown use";
  nlohmann::json rsa = nlohmann::json::parse(parsed->ToSpiffeJson())["keys"][1];
  EXPECT_EQ(rsa["kty"], "RSA");
  EXPECT_EQ(rsa["e"], "AQAB");
}

TEST(BundleTest, RejectsWhatIsNotAJwkSet) {
  TestPki pki = TestPki::Create(kTestEpoch);
  struct Case {
    std::string json;
    std::string message;
  } cases[] = {
      {"", "not valid JSON"},
      {"{", "not valid JSON"},
      {"[]", "not a JSON object"},
      {"{}", "\"keys\" must be an array"},
      {R"({"keys": [], "spiffe_sequence": -1})", "spiffe_sequence"},
      {R"({"keys": [], "spiffe_refresh_hint": "5m"})", "spiffe_refresh_hint"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<TrustBundle> bundle = TrustBundle::FromSpiffeJson(pki.trust_domain, c.json);
    ASSERT_FALSE(bundle.ok()) << c.json;
    EXPECT_THAT(testing::MessageOf(bundle.status()), HasSubstr(c.message)) << c.json;
  }
}

TEST(BundleTest, IgnoresKeysItCannotUseAsTheSpecsRequire) {
  TestPki pki = TestPki::Create(kTestEpoch);
  TestPki other = TestPki::Create(kTestEpoch);
  auto x5c = [](const Certificate& c) {
    return nlohmann::json::parse(TrustBundle::FromPem(*TrustDomain::Parse("td"), c.ToPem())
                                     ->ToSpiffeJson())["keys"][0]["x5c"][0];
  };
  nlohmann::json keys = nlohmann::json::array({
      1,
      {{"kty", "EC"}},
      {{"use", "x509-svid"}, {"kty", "EC"}},
      {{"use", "x509-svid"}, {"kty", "EC"}, {"x5c", nlohmann::json::array()}},
      {{"use", "x509-svid"}, {"kty", "EC"}, {"x5c", {"!!"}}},
      {{"use", "x509-svid"}, {"kty", "EC"}, {"x5c", {"AAAA"}}},
      {{"use", "x509-svid"}, {"kty", "RSA"}, {"x5c", {x5c(pki.root.certificate)}}},
      {{"use", "jwt-svid"}, {"kty", "EC"}},
      {{"use", "something-new"}, {"kty", "EC"}},
      // Only the first x5c value counts (X509-SVID 6.2).
      {{"use", "x509-svid"},
       {"kty", "EC"},
       {"x5c", {x5c(other.root.certificate), x5c(pki.root.certificate)}}},
  });
  absl::StatusOr<TrustBundle> bundle =
      TrustBundle::FromSpiffeJson(pki.trust_domain, nlohmann::json{{"keys", keys}}.dump());
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  ASSERT_EQ(bundle->x509_authorities().size(), 1u);
  EXPECT_TRUE(bundle->x509_authorities()[0] == other.root.certificate);
  EXPECT_TRUE(bundle->jwt_authorities().empty());
  std::vector<std::string> ignored = bundle->ignored_keys();
  ASSERT_EQ(ignored.size(), 9u);
  EXPECT_EQ(ignored[0], "keys[0] ignored: no \"use\"");
  EXPECT_EQ(ignored[1], "keys[1] ignored: no \"use\"");
  EXPECT_EQ(ignored[2], "keys[2] ignored: no \"x5c\" certificate");
  EXPECT_EQ(ignored[3], "keys[3] ignored: no \"x5c\" certificate");
  EXPECT_THAT(ignored[4], HasSubstr("not valid base64"));
  EXPECT_THAT(ignored[5], HasSubstr("\"x5c\"[0]:"));
  EXPECT_THAT(ignored[6], HasSubstr("\"kty\" does not match the certificate's EC key"));
  EXPECT_THAT(ignored[7], HasSubstr("jwt-svid key without \"kid\""));
  EXPECT_THAT(ignored[8], HasSubstr("unknown \"use\" \"something-new\""));
}

TEST(BundleTest, AddAndRemoveAuthorities) {
  TestPki a = TestPki::Create(kTestEpoch);
  TestPki b = TestPki::Create(kTestEpoch);
  TrustBundle bundle = a.Bundle();
  EXPECT_EQ(bundle.AddX509Authority(a.root.certificate).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(bundle.AddX509Authority(b.root.certificate).ok());
  EXPECT_TRUE(bundle.RemoveX509Authority(a.root.certificate));
  EXPECT_FALSE(bundle.RemoveX509Authority(a.root.certificate));
  ASSERT_EQ(bundle.x509_authorities().size(), 1u);
  EXPECT_TRUE(bundle.x509_authorities()[0] == b.root.certificate);
}

TEST(BundleTest, JwtAuthoritiesAreWrittenAndReadStructurally) {
  TestPki pki = TestPki::Create(kTestEpoch);
  PublicKey ec = PrivateKey::Generate(KeyType::kEcP256)->public_key();
  PublicKey rsa = PrivateKey::Generate(KeyType::kRsa2048)->public_key();
  TrustBundle bundle = pki.Bundle();
  ASSERT_TRUE(bundle.AddJwtAuthority({"k1", ec}).ok());
  ASSERT_TRUE(bundle.AddJwtAuthority({"k2", rsa}).ok());
  EXPECT_EQ(bundle.AddJwtAuthority({"k1", rsa}).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(bundle.AddJwtAuthority({"", rsa}).code(), absl::StatusCode::kInvalidArgument);

  nlohmann::json doc = nlohmann::json::parse(bundle.ToSpiffeJson());
  ASSERT_EQ(doc["keys"].size(), 3u);
  EXPECT_EQ(doc["keys"][1]["use"], "jwt-svid");
  EXPECT_EQ(doc["keys"][1]["kid"], "k1");
  EXPECT_EQ(doc["keys"][2]["kty"], "RSA");

  absl::StatusOr<TrustBundle> parsed =
      TrustBundle::FromSpiffeJson(pki.trust_domain, bundle.ToSpiffeJson());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->ignored_keys().empty());
  std::vector<JwtAuthority> authorities = parsed->ParsedJwtAuthorities();
  ASSERT_EQ(authorities.size(), 2u);
  EXPECT_EQ(authorities[0].key_id, "k1");
  EXPECT_TRUE(authorities[0].key == ec);
  EXPECT_EQ(authorities[1].key_id, "k2");
  EXPECT_TRUE(authorities[1].key == rsa);

  EXPECT_TRUE(parsed->RemoveJwtAuthority("k1"));
  EXPECT_FALSE(parsed->RemoveJwtAuthority("k1"));
  ASSERT_EQ(parsed->ParsedJwtAuthorities().size(), 1u);
  EXPECT_EQ(parsed->ParsedJwtAuthorities()[0].key_id, "k2");
}

TEST(BundleTest, ParsedJwtAuthoritiesSkipsKeysItCannotUse) {
  TestPki pki = TestPki::Create(kTestEpoch);
  PublicKey ec = PrivateKey::Generate(KeyType::kEcP256)->public_key();
  nlohmann::json keys = nlohmann::json::array({
      {{"use", "jwt-svid"},
       {"kty", "EC"},
       {"kid", "bad"},
       {"crv", "P-256"},
       {"x", "AA"},
       {"y", "BB"}},
      nlohmann::json::parse(JwkJson({"good", ec})),
  });
  absl::StatusOr<TrustBundle> bundle =
      TrustBundle::FromSpiffeJson(pki.trust_domain, nlohmann::json{{"keys", keys}}.dump());
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  EXPECT_EQ(bundle->jwt_authorities().size(), 2u) << "both kept verbatim";
  std::vector<std::string> ignored;
  std::vector<JwtAuthority> authorities = bundle->ParsedJwtAuthorities(&ignored);
  ASSERT_EQ(authorities.size(), 1u);
  EXPECT_EQ(authorities[0].key_id, "good");
  ASSERT_EQ(ignored.size(), 1u);
  EXPECT_THAT(ignored[0], HasSubstr("jwt_authorities[0] (kid \"bad\") ignored: JWK: "));
  EXPECT_TRUE(bundle->RemoveJwtAuthority("bad"));
  EXPECT_EQ(bundle->jwt_authorities().size(), 1u);
}

}  // namespace
}  // namespace meshid::pki
