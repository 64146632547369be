#include <string>
#include <vector>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/pki/jwt.h"
#include "meshid/testing/fake_clock.h"
#include "meshid/testing/status.h"
#include "nlohmann/json.hpp"

namespace meshid::pki {
namespace {

using ::testing::HasSubstr;
using testing::kTestEpoch;
using testing::MessageOf;
using json = nlohmann::json;

// GenerateP521 makes a key PrivateKey::Generate does not offer but JWKs and ES512 use.
PrivateKey GenerateP521() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521");
  unsigned char* der = nullptr;
  int len = i2d_PrivateKey(key, &der);
  absl::StatusOr<PrivateKey> parsed =
      PrivateKey::Parse(absl::string_view(reinterpret_cast<char*>(der), static_cast<size_t>(len)));
  OPENSSL_free(der);
  EVP_PKEY_free(key);
  return *parsed;
}

std::string Unb64(const json& value) {
  std::string out;
  EXPECT_TRUE(absl::WebSafeBase64Unescape(value.get<std::string>(), &out)) << value;
  return out;
}

TEST(JwkTest, EcRoundTrip) {
  for (KeyType type : {KeyType::kEcP256, KeyType::kEcP384}) {
    PublicKey key = PrivateKey::Generate(type)->public_key();
    std::string text = JwkJson({"k1", key});
    json jwk = json::parse(text);
    int width = type == KeyType::kEcP256 ? 32 : 48;
    EXPECT_EQ(jwk["kty"], "EC");
    EXPECT_EQ(jwk["crv"], type == KeyType::kEcP256 ? "P-256" : "P-384");
    EXPECT_EQ(jwk["use"], "jwt-svid");
    EXPECT_EQ(jwk["kid"], "k1");
    EXPECT_EQ(Unb64(jwk["x"]).size(), static_cast<size_t>(width));
    EXPECT_EQ(Unb64(jwk["y"]).size(), static_cast<size_t>(width));
    absl::StatusOr<JwtAuthority> back = JwtAuthorityFromJwk(text);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->key_id, "k1");
    EXPECT_TRUE(back->key == key);
  }
}

TEST(JwkTest, P521RoundTripAndEs512) {
  PrivateKey key = GenerateP521();
  std::string text = JwkJson({"k521", key.public_key()});
  EXPECT_EQ(Unb64(json::parse(text)["x"]).size(), 66u);
  absl::StatusOr<JwtAuthority> authority = JwtAuthorityFromJwk(text);
  ASSERT_TRUE(authority.ok()) << authority.status();
  SpiffeId id = *SpiffeId::Parse("spiffe://example.org/w");
  std::vector<std::string> aud = {"x"};
  absl::StatusOr<std::string> token =
      SignJwtSvid(key, "k521", id, aud, kTestEpoch, kTestEpoch + absl::Minutes(5));
  ASSERT_TRUE(token.ok()) << token.status();
  std::vector<JwtAuthority> authorities = {*authority};
  absl::StatusOr<JwtSvid> svid = ValidateJwtSvid(*token, "x", authorities, kTestEpoch);
  ASSERT_TRUE(svid.ok()) << svid.status();
  EXPECT_EQ(svid->algorithm, "ES512");
}

TEST(JwkTest, RsaRoundTrip) {
  PublicKey key = PrivateKey::Generate(KeyType::kRsa2048)->public_key();
  std::string text = JwkJson({"r1", key});
  json jwk = json::parse(text);
  EXPECT_EQ(jwk["kty"], "RSA");
  EXPECT_EQ(jwk["e"], "AQAB");
  EXPECT_EQ(Unb64(jwk["n"]).size(), 256u);
  EXPECT_FALSE(jwk.contains("crv"));
  absl::StatusOr<JwtAuthority> back = JwtAuthorityFromJwk(text);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->key == key);
}

TEST(JwkTest, RejectsPointsOffTheCurve) {
  json good = json::parse(JwkJson({"k1", PrivateKey::Generate(KeyType::kEcP256)->public_key()}));
  std::string y = Unb64(good["y"]);
  y.back() ^= 0x01;
  json off_curve = good;
  off_curve["y"] = absl::WebSafeBase64Escape(y);
  absl::Status status = JwtAuthorityFromJwk(off_curve.dump()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(MessageOf(status), HasSubstr("JWK: EVP_PKEY_"));

  json zeros = good;
  zeros["x"] = absl::WebSafeBase64Escape(std::string(32, '\0'));
  zeros["y"] = zeros["x"];
  EXPECT_FALSE(JwtAuthorityFromJwk(zeros.dump()).ok());

  json short_x = good;
  short_x["x"] = absl::WebSafeBase64Escape(Unb64(good["x"]).substr(1));
  EXPECT_THAT(MessageOf(JwtAuthorityFromJwk(short_x.dump()).status()),
              HasSubstr("must be 32 bytes for P-256, not 31 and 32"));

  json wrong_curve = good;
  wrong_curve["crv"] = "P-384";
  EXPECT_THAT(MessageOf(JwtAuthorityFromJwk(wrong_curve.dump()).status()),
              HasSubstr("must be 48 bytes"));
}

TEST(JwkTest, RejectsWhatIsNotAUsableJwtKey) {
  json ec = json::parse(JwkJson({"k1", PrivateKey::Generate(KeyType::kEcP256)->public_key()}));
  json rsa = json::parse(JwkJson({"r1", PrivateKey::Generate(KeyType::kRsa2048)->public_key()}));
  struct Case {
    json jwk;
    std::string message;
  };
  auto with = [](json jwk, const std::string& member, const json& value) {
    if (value.is_null()) {
      jwk.erase(member);
    } else {
      jwk[member] = value;
    }
    return jwk;
  };
  std::vector<Case> cases = {
      {with(ec, "kid", nullptr), "no \"kid\""},
      {with(ec, "kid", ""), "no \"kid\""},
      {with(ec, "kid", 7), "no \"kid\""},
      {with(ec, "use", "x509-svid"), R"("use" "x509-svid")"},
      {with(ec, "d", "AAAA"), "private key"},
      {with(ec, "kty", nullptr), "no \"kty\""},
      {with(ec, "kty", "OKP"), R"(unsupported "kty" "OKP")"},
      {with(ec, "kty", "oct"), "unsupported \"kty\""},
      {with(ec, "crv", "P-192"), "unsupported curve \"P-192\""},
      {with(ec, "crv", nullptr), "without \"crv\""},
      {with(ec, "x", nullptr), "no \"x\""},
      {with(ec, "y", "not base64!"), "\"y\" is not canonical base64url"},
      {with(ec, "x", ec["x"].get<std::string>() + "="), "\"x\" is not canonical base64url"},
      {with(rsa, "e", nullptr), "no \"e\""},
      {with(rsa, "n", absl::WebSafeBase64Escape(std::string(128, '\xff'))), "too weak"},
      {json::array({ec}), "not a JSON object"},
  };
  for (const Case& c : cases) {
    absl::Status status = JwtAuthorityFromJwk(c.jwk.dump()).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.jwk.dump();
    EXPECT_THAT(MessageOf(status), HasSubstr(c.message)) << c.jwk.dump();
  }
  EXPECT_THAT(MessageOf(JwtAuthorityFromJwk("{\"kid\":").status()), HasSubstr("not valid JSON"));
  EXPECT_TRUE(JwtAuthorityFromJwk(with(ec, "use", "sig").dump()).ok());
  EXPECT_TRUE(JwtAuthorityFromJwk(with(ec, "use", nullptr).dump()).ok());
}

TEST(JwkTest, JwksHoldsEveryAuthority) {
  std::vector<JwtAuthority> authorities = {
      {"k1", PrivateKey::Generate(KeyType::kEcP256)->public_key()},
      {"r1", PrivateKey::Generate(KeyType::kRsa2048)->public_key()},
  };
  json jwks = json::parse(JwksJson(authorities));
  ASSERT_TRUE(jwks.is_object());
  EXPECT_EQ(jwks.size(), 1u) << "only \"keys\"";
  ASSERT_EQ(jwks["keys"].size(), 2u);
  EXPECT_EQ(jwks["keys"][0]["kid"], "k1");
  EXPECT_EQ(jwks["keys"][1]["kid"], "r1");
  EXPECT_EQ(jwks["keys"][1]["use"], "jwt-svid");
  EXPECT_EQ(jwks["keys"][0], json::parse(JwkJson(authorities[0])));
  EXPECT_EQ(json::parse(JwksJson({})), json::parse(R"({"keys":[]})"));
}

}  // namespace
}  // namespace meshid::pki
