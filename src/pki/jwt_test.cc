#include "meshid/pki/jwt.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <stdlib.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/testing/fake_clock.h"
#include "meshid/testing/status.h"
#include "meshid/testing/temp_dir.h"
#include "nlohmann/json.hpp"

namespace meshid::pki {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::kTestEpoch;
using testing::MessageOf;

const SpiffeId& Subject() {
  static const SpiffeId* id = new SpiffeId(*SpiffeId::Parse("spiffe://example.org/ns/a/sa/b"));
  return *id;
}

std::string B64(absl::string_view s) { return absl::WebSafeBase64Escape(s); }

std::string Unb64(absl::string_view s) {
  std::string out;
  EXPECT_TRUE(absl::WebSafeBase64Unescape(s, &out)) << s;
  return out;
}

std::vector<std::string> Parts(absl::string_view token) { return absl::StrSplit(token, '.'); }

// Fixture: one signing key per test and the matching authority.
class JwtTest : public ::testing::TestWithParam<KeyType> {
 protected:
  void SetUp() override {
    absl::StatusOr<PrivateKey> key = PrivateKey::Generate(GetParam());
    ASSERT_TRUE(key.ok()) << key.status();
    key_.emplace(*std::move(key));
    authorities_.push_back({"k1", key_->public_key()});
  }

  std::string Sign(const std::vector<std::string>& audience = {"spire-server"},
                   absl::Duration ttl = absl::Minutes(5)) {
    absl::StatusOr<std::string> token =
        SignJwtSvid(*key_, "k1", Subject(), audience, kTestEpoch, kTestEpoch + ttl);
    EXPECT_TRUE(token.ok()) << token.status();
    return token.value_or("");
  }

  // SignClaims signs arbitrary claims under "k1".
  std::string SignClaims(const nlohmann::json& claims) {
    absl::StatusOr<std::string> token = SignJwt(*key_, "k1", claims.dump());
    EXPECT_TRUE(token.ok()) << token.status();
    return token.value_or("");
  }

  absl::Status Validate(absl::string_view token, absl::string_view audience = "spire-server",
                        absl::Time now = kTestEpoch + absl::Minutes(1)) {
    return ValidateJwtSvid(token, audience, authorities_, now).status();
  }

  std::optional<PrivateKey> key_;
  std::vector<JwtAuthority> authorities_;
};

INSTANTIATE_TEST_SUITE_P(Keys, JwtTest,
                         ::testing::Values(KeyType::kEcP256, KeyType::kEcP384, KeyType::kRsa2048),
                         [](const auto& info) {
                           std::string name(KeyTypeName(info.param));
                           name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
                           return name;
                         });

TEST_P(JwtTest, RoundTrip) {
  std::string token = Sign({"spire-server", "other"});
  nlohmann::json header = nlohmann::json::parse(Unb64(Parts(token)[0]));
  const char* expected_alg = GetParam() == KeyType::kEcP256   ? "ES256"
                             : GetParam() == KeyType::kEcP384 ? "ES384"
                                                              : "RS256";
  EXPECT_EQ(header, nlohmann::json({{"alg", expected_alg}, {"kid", "k1"}, {"typ", "JWT"}}));

  absl::StatusOr<JwtSvid> svid =
      ValidateJwtSvid(token, "other", authorities_, kTestEpoch + absl::Minutes(1));
  ASSERT_TRUE(svid.ok()) << svid.status();
  EXPECT_EQ(svid->subject, Subject());
  EXPECT_THAT(svid->audience, ElementsAre("spire-server", "other"));
  EXPECT_EQ(svid->expiry, kTestEpoch + absl::Minutes(5));
  EXPECT_EQ(svid->issued_at, kTestEpoch);
  EXPECT_EQ(svid->key_id, "k1");
  EXPECT_EQ(svid->algorithm, expected_alg);
  nlohmann::json claims = nlohmann::json::parse(svid->claims_json);
  EXPECT_EQ(claims["sub"], "spiffe://example.org/ns/a/sa/b");
  EXPECT_EQ(claims["exp"], absl::ToUnixSeconds(kTestEpoch) + 300);

  absl::StatusOr<JwtSvid> unverified = ParseJwtSvidUnverified(token);
  ASSERT_TRUE(unverified.ok()) << unverified.status();
  EXPECT_EQ(unverified->subject, Subject());
}

TEST_P(JwtTest, SingleAudienceIsWrittenAsAnArray) {
  nlohmann::json claims = nlohmann::json::parse(Unb64(Parts(Sign())[1]));
  EXPECT_EQ(claims["aud"], nlohmann::json::array({"spire-server"}));
}

TEST_P(JwtTest, RejectsWrongAudience) {
  absl::Status status = Validate(Sign({"a", "b"}), "c");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(MessageOf(status), HasSubstr("audience \"c\" not in [\"a\",\"b\"]"));
  EXPECT_THAT(MessageOf(Validate(Sign(), "")), HasSubstr("needs an audience"));
}

TEST_P(JwtTest, RejectsExpired) {
  std::string token = Sign({"spire-server"}, absl::Minutes(5));
  EXPECT_TRUE(
      Validate(token, "spire-server", kTestEpoch + absl::Minutes(5) - absl::Seconds(1)).ok());
  absl::Status at_exp = Validate(token, "spire-server", kTestEpoch + absl::Minutes(5));
  EXPECT_EQ(at_exp.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(MessageOf(at_exp), HasSubstr("JWT-SVID has expired"));
}

TEST_P(JwtTest, RejectsUnknownOrMissingKid) {
  std::string token = Sign();
  authorities_[0].key_id = "k2";
  EXPECT_THAT(MessageOf(Validate(token)), HasSubstr("key ID \"k1\" is not among the 1"));
  EXPECT_THAT(MessageOf(ValidateJwtSvid(token, "spire-server", {}, kTestEpoch).status()),
              HasSubstr("is not among the 0"));

  std::vector<std::string> parts = Parts(Sign());
  std::string no_kid =
      absl::StrCat(B64(R"({"alg":"ES256","typ":"JWT"})"), ".", parts[1], ".", parts[2]);
  EXPECT_THAT(MessageOf(Validate(no_kid)), HasSubstr("header has no \"kid\""));
}

TEST_P(JwtTest, RejectsAnotherKeyWithTheSameKid) {
  std::string token = Sign();
  authorities_[0].key = PrivateKey::Generate(GetParam())->public_key();
  EXPECT_THAT(MessageOf(Validate(token)), HasSubstr("signature does not verify"));
}

TEST_P(JwtTest, RejectsAlgorithmsOutsideTheSpec) {
  std::vector<std::string> parts = Parts(Sign());
  for (const char* alg : {"none", "HS256", "EdDSA", "es256", ""}) {
    std::string header = nlohmann::json({{"alg", alg}, {"kid", "k1"}}).dump();
    std::string token = absl::StrCat(B64(header), ".", parts[1], ".", parts[2]);
    absl::Status status = Validate(token);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << alg;
    EXPECT_THAT(MessageOf(status), HasSubstr("is not allowed")) << alg;
    // The classic "alg":"none" token has an empty signature part.
    EXPECT_FALSE(Validate(absl::StrCat(B64(header), ".", parts[1], ".")).ok()) << alg;
  }
}

TEST_P(JwtTest, RejectsAlgorithmThatDoesNotFitTheKey) {
  std::vector<std::string> parts = Parts(Sign());
  std::vector<const char*> misfits = {"ES256", "ES384", "ES512"};
  if (GetParam() == KeyType::kEcP256) misfits = {"ES384", "ES512", "RS256", "PS256"};
  if (GetParam() == KeyType::kEcP384) misfits = {"ES256", "ES512", "RS384", "PS512"};
  for (const char* alg : misfits) {
    std::string header = nlohmann::json({{"alg", alg}, {"kid", "k1"}}).dump();
    absl::Status status = Validate(absl::StrCat(B64(header), ".", parts[1], ".", parts[2]));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << alg;
    EXPECT_THAT(MessageOf(status), HasSubstr("does not fit the")) << alg;
  }
}

TEST_P(JwtTest, RejectsBadTypAndCrit) {
  std::vector<std::string> parts = Parts(Sign());
  auto with_header = [&](const nlohmann::json& header) {
    return absl::StrCat(B64(header.dump()), ".", parts[1], ".", parts[2]);
  };
  nlohmann::json header = nlohmann::json::parse(Unb64(parts[0]));
  header["typ"] = "at+jwt";
  EXPECT_THAT(MessageOf(Validate(with_header(header))), HasSubstr("\"typ\""));
  header["typ"] = "JOSE";
  header["crit"] = {"exp"};
  EXPECT_THAT(MessageOf(Validate(with_header(header))), HasSubstr("\"crit\""));
}

TEST_P(JwtTest, RejectsTamperedPayloadAndSignature) {
  std::vector<std::string> parts = Parts(Sign());
  nlohmann::json claims = nlohmann::json::parse(Unb64(parts[1]));
  claims["sub"] = "spiffe://example.org/admin";
  std::string tampered = absl::StrCat(parts[0], ".", B64(claims.dump()), ".", parts[2]);
  EXPECT_THAT(MessageOf(Validate(tampered)), HasSubstr("signature does not verify"));

  std::string signature = Unb64(parts[2]);
  signature[signature.size() / 2] ^= 0x01;
  std::string bad_sig = absl::StrCat(parts[0], ".", parts[1], ".", B64(signature));
  EXPECT_THAT(MessageOf(Validate(bad_sig)), HasSubstr("signature does not verify"));
}

TEST_P(JwtTest, RejectsSignatureOfWrongLength) {
  std::vector<std::string> parts = Parts(Sign());
  std::string signature = Unb64(parts[2]);
  for (const std::string& bad : {signature.substr(1), signature + '\0', std::string()}) {
    absl::Status status = Validate(absl::StrCat(parts[0], ".", parts[1], ".", B64(bad)));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad.size();
  }
  if (GetParam() == KeyType::kEcP256) {
    EXPECT_THAT(
        MessageOf(Validate(absl::StrCat(parts[0], ".", parts[1], ".", B64(signature.substr(1))))),
        HasSubstr("signature is 63 bytes; ES256 signatures are 64"));
  }
}

TEST_P(JwtTest, RejectsNonCanonicalBase64) {
  std::string token = Sign();
  EXPECT_THAT(MessageOf(Validate(token + "=")), HasSubstr("canonical base64url"));
  std::vector<std::string> parts = Parts(token);
  std::string padded_header = absl::StrCat(absl::Base64Escape(R"({"alg":"ES256","kid":"k1"})"), ".",
                                           parts[1], ".", parts[2]);
  EXPECT_THAT(MessageOf(Validate(padded_header)), HasSubstr("header is not canonical base64url"));
}

TEST_P(JwtTest, RejectsBadClaims) {
  const int64_t exp = absl::ToUnixSeconds(kTestEpoch) + 300;
  nlohmann::json good = {{"sub", Subject().ToString()}, {"aud", "spire-server"}, {"exp", exp}};
  ASSERT_TRUE(Validate(SignClaims(good)).ok()) << "\"aud\" as a single string is valid";

  struct Case {
    std::string member;
    nlohmann::json value;  // null: remove the member
    std::string message;
  };
  std::vector<Case> cases = {
      {"sub", nullptr, "has no \"sub\" claim"},
      {"sub", "https://example.org/a", "invalid SPIFFE ID"},
      {"sub", "spiffe://Example.org/a", "invalid SPIFFE ID"},
      {"sub", 7, "has no \"sub\" claim"},
      {"aud", nullptr, "has no \"aud\" claim"},
      {"aud", nlohmann::json::array(), "\"aud\" is empty"},
      {"aud", {"spire-server", 1}, "other than strings"},
      {"aud", {{"x", "spire-server"}}, "neither a string nor an array"},
      {"exp", nullptr, "has no \"exp\" claim"},
      {"exp", "tomorrow", "\"exp\" is not a number"},
      {"exp", exp - 600, "has expired"},
      {"iat", "now", "\"iat\" is not a number"},
      {"nbf", exp, "is not valid before"},
  };
  for (const Case& c : cases) {
    nlohmann::json claims = good;
    if (c.value.is_null()) {
      claims.erase(c.member);
    } else {
      claims[c.member] = c.value;
    }
    absl::Status status = Validate(SignClaims(claims));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << claims.dump();
    EXPECT_THAT(MessageOf(status), HasSubstr(c.message)) << claims.dump();
  }
  nlohmann::json fractional = good;
  fractional["exp"] = static_cast<double>(exp) + 0.5;
  fractional["nbf"] = absl::ToUnixSeconds(kTestEpoch) + 90;  // within the one-minute leeway
  EXPECT_TRUE(Validate(SignClaims(fractional)).ok());
  EXPECT_THAT(MessageOf(Validate(SignClaims(nlohmann::json::array({good})))),
              HasSubstr("claims is not a JSON object"));
}

TEST_P(JwtTest, SigningRejectsBadInput) {
  std::vector<std::string> none;
  EXPECT_EQ(SignJwtSvid(*key_, "k1", Subject(), none, kTestEpoch, kTestEpoch + absl::Hours(1))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  std::vector<std::string> aud = {"a"};
  EXPECT_FALSE(
      SignJwtSvid(*key_, "", Subject(), aud, kTestEpoch, kTestEpoch + absl::Hours(1)).ok());
  EXPECT_FALSE(SignJwtSvid(*key_, "k1", Subject(), aud, kTestEpoch, kTestEpoch).ok());
  std::vector<std::string> empty_string = {""};
  EXPECT_FALSE(
      SignJwtSvid(*key_, "k1", Subject(), empty_string, kTestEpoch, kTestEpoch + absl::Hours(1))
          .ok());
  std::vector<std::string> not_utf8 = {"\xff\xfe"};
  absl::Status status =
      SignJwtSvid(*key_, "k1", Subject(), not_utf8, kTestEpoch, kTestEpoch + absl::Hours(1))
          .status();
  EXPECT_THAT(MessageOf(status), HasSubstr("not valid UTF-8"));
  std::vector<std::string> huge(2000, std::string(10, 'a'));
  status =
      SignJwtSvid(*key_, "k1", Subject(), huge, kTestEpoch, kTestEpoch + absl::Hours(1)).status();
  EXPECT_THAT(MessageOf(status), HasSubstr("more than the 16384 allowed"));
}

TEST(JwtValidateTest, RejectsGarbage) {
  std::vector<JwtAuthority> none;
  for (const std::string& token :
       {std::string(), std::string("garbage"), std::string("a.b"), std::string("a.b.c.d"),
        std::string(".."), std::string("e30.e30.")}) {
    absl::Status status = ValidateJwtSvid(token, "aud", none, kTestEpoch).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << token;
  }
  EXPECT_THAT(MessageOf(ValidateJwtSvid("a.b", "aud", none, kTestEpoch).status()),
              HasSubstr("has 2 dot-separated parts"));
  std::string huge = absl::StrCat(B64(R"({"alg":"ES256","kid":"k"})"), ".",
                                  std::string(kMaxJwtSvidBytes, 'A'), ".AA");
  EXPECT_THAT(MessageOf(ValidateJwtSvid(huge, "aud", none, kTestEpoch).status()),
              HasSubstr("more than the 16384 allowed"));
  std::string not_json = absl::StrCat(B64("{\"alg\":"), ".e30.AA");
  EXPECT_THAT(MessageOf(ValidateJwtSvid(not_json, "aud", none, kTestEpoch).status()),
              HasSubstr("header is not valid JSON"));
}

TEST(JwtValidateTest, SurvivesDeeplyNestedClaims) {
  // As deep as the size bound allows: parsing and destroying it must not blow the stack.
  std::string nested = std::string(5500, '[') + std::string(5500, ']');
  std::string token = absl::StrCat(B64(R"({"alg":"ES256","kid":"k"})"), ".", B64(nested), ".AA");
  ASSERT_LE(token.size(), kMaxJwtSvidBytes);
  absl::StatusOr<JwtSvid> svid = ParseJwtSvidUnverified(token);
  EXPECT_EQ(svid.status().code(), absl::StatusCode::kInvalidArgument);
}

// Cross-implementation check against PyJWT (python3-jwt) and python3-cryptography.
// "verify DIR": verify DIR/token with DIR/key.pem and with DIR/jwk.json, print the claims.
// "sign DIR": for each algorithm, make a key and a token; print [{alg, token, spki, jwk}].
// PyJWT 2.6's to_jwk writes EC coordinates without leading zeros, against RFC 7518
// section 6.2.1.2 (its own from_jwk then rejects them); the script pads them itself.
constexpr char kPyJwtScript[] = R"py(
import base64, json, sys, time
import jwt
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

mode, d = sys.argv[1], sys.argv[2]
if mode == "verify":
    token = open(d + "/token").read()
    by_pem = jwt.decode(token, open(d + "/key.pem", "rb").read(), algorithms=["ES256"],
                        audience="spire-server")
    by_jwk = jwt.decode(token, ECAlgorithm.from_jwk(open(d + "/jwk.json").read()),
                        algorithms=["ES256"], audience="spire-server")
    assert by_pem == by_jwk
    print(json.dumps({"claims": by_pem, "header": jwt.get_unverified_header(token)}))
    sys.exit(0)

def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

curves = {"ES256": (ec.SECP256R1, "P-256", 32), "ES384": (ec.SECP384R1, "P-384", 48),
          "ES512": (ec.SECP521R1, "P-521", 66)}
out = []
for alg in ["ES256", "ES384", "ES512", "RS256", "RS512", "PS256", "PS384"]:
    if alg in curves:
        curve, crv, width = curves[alg]
        key = ec.generate_private_key(curve())
        nums = key.public_key().public_numbers()
        jwk = {"kty": "EC", "crv": crv, "x": b64(nums.x.to_bytes(width, "big")),
               "y": b64(nums.y.to_bytes(width, "big"))}
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk["kid"] = "py-" + alg
    now = int(time.time())
    aud = ["spire-server", "x"] if alg == "ES384" else "spire-server"
    claims = {"sub": "spiffe://example.org/py", "aud": aud, "iat": now, "exp": now + 300}
    token = jwt.encode(claims, key, algorithm=alg, headers={"kid": "py-" + alg})
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    out.append({"alg": alg, "token": token, "spki": b64(spki), "jwk": jwk})
print(json.dumps(out))
)py";

// PythonWithPyJwt returns a python3 that imports jwt and cryptography, or "". Debian's
// python3-jwt lives in /usr/bin/python3's path, which a pyenv or venv python3 first on PATH
// does not see; MESHID_PYTHON3 overrides both.
std::string PythonWithPyJwt() {
  std::vector<std::string> candidates = {"/usr/bin/python3", "python3"};
  if (const char* env = std::getenv("MESHID_PYTHON3"); env != nullptr)
    candidates.insert(candidates.begin(), env);
  for (const std::string& python : candidates) {
    std::string probe = python + " -c 'import jwt, cryptography' >/dev/null 2>&1";
    if (std::system(probe.c_str()) == 0) return python;
  }
  return "";
}

void WriteFile(const std::string& path, absl::string_view content) {
  std::ofstream(path, std::ios::binary) << content;
}

std::string ReadWholeFile(const std::string& path) {
  std::ostringstream out;
  out << std::ifstream(path, std::ios::binary).rdbuf();
  return out.str();
}

// RunPyJwt runs the script in `mode` and returns its standard output; a failure shows
// standard error.
std::string RunPyJwt(const std::string& python, const meshid::testing::TempDir& dir,
                     const std::string& mode) {
  WriteFile(dir.Path("interop.py"), kPyJwtScript);
  std::string cmd = absl::StrCat(python, " ", dir.Path("interop.py"), " ", mode, " ", dir.path(),
                                 " >", dir.Path("out"), " 2>", dir.Path("err"));
  int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0) << cmd << "\n" << ReadWholeFile(dir.Path("err"));
  return ReadWholeFile(dir.Path("out"));
}

std::string PublicKeyPem(const PublicKey& key) {
  std::string b64 = absl::Base64Escape(key.ToDer());
  std::string pem = "-----BEGIN PUBLIC KEY-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) absl::StrAppend(&pem, b64.substr(i, 64), "\n");
  return pem + "-----END PUBLIC KEY-----\n";
}

TEST(JwtInteropTest, PyJwtVerifiesOurTokens) {
  std::string python = PythonWithPyJwt();
  if (python.empty()) {
    GTEST_SKIP() << "no python3 imports jwt and cryptography (apt-get install python3-jwt "
                    "python3-cryptography, or set MESHID_PYTHON3)";
  }
  meshid::testing::TempDir dir;
  PrivateKey key = *PrivateKey::Generate(KeyType::kEcP256);
  std::vector<std::string> aud = {"spire-server"};
  absl::Time now = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));  // PyJWT's clock
  absl::StatusOr<std::string> token =
      SignJwtSvid(key, "k1", Subject(), aud, now, now + absl::Minutes(5));
  ASSERT_TRUE(token.ok()) << token.status();
  WriteFile(dir.Path("token"), *token);
  WriteFile(dir.Path("key.pem"), PublicKeyPem(key.public_key()));
  WriteFile(dir.Path("jwk.json"), JwkJson({"k1", key.public_key()}));
  nlohmann::json out = nlohmann::json::parse(RunPyJwt(python, dir, "verify"), nullptr, false);
  ASSERT_TRUE(out.is_object()) << "PyJWT rejected the token";
  EXPECT_EQ(out["claims"]["sub"], Subject().ToString());
  EXPECT_EQ(out["claims"]["aud"], nlohmann::json::array({"spire-server"}));
  EXPECT_EQ(out["claims"]["exp"], absl::ToUnixSeconds(now) + 300);
  EXPECT_EQ(out["header"]["kid"], "k1");
  EXPECT_EQ(out["header"]["alg"], "ES256");
}

TEST(JwtInteropTest, WeVerifyPyJwtTokens) {
  std::string python = PythonWithPyJwt();
  if (python.empty()) {
    GTEST_SKIP() << "no python3 imports jwt and cryptography (apt-get install python3-jwt "
                    "python3-cryptography, or set MESHID_PYTHON3)";
  }
  meshid::testing::TempDir dir;
  nlohmann::json made = nlohmann::json::parse(RunPyJwt(python, dir, "sign"), nullptr, false);
  ASSERT_TRUE(made.is_array());
  ASSERT_EQ(made.size(), 7u);
  for (const nlohmann::json& m : made) {
    std::string alg = m["alg"];
    SCOPED_TRACE(alg);
    absl::StatusOr<JwtAuthority> authority = JwtAuthorityFromJwk(m["jwk"].dump());
    ASSERT_TRUE(authority.ok()) << authority.status();
    absl::StatusOr<PublicKey> spki = PublicKey::FromDer(Unb64(m["spki"].get<std::string>()));
    ASSERT_TRUE(spki.ok()) << spki.status();
    EXPECT_TRUE(authority->key == *spki) << "the JWK is the key";
    std::vector<JwtAuthority> authorities = {*authority};
    absl::StatusOr<JwtSvid> svid =
        ValidateJwtSvid(m["token"].get<std::string>(), "spire-server", authorities, absl::Now());
    ASSERT_TRUE(svid.ok()) << svid.status();
    EXPECT_EQ(svid->subject.ToString(), "spiffe://example.org/py");
    EXPECT_EQ(svid->algorithm, alg);
    EXPECT_EQ(svid->key_id, "py-" + alg);
    EXPECT_FALSE(
        ValidateJwtSvid(m["token"].get<std::string>(), "other", authorities, absl::Now()).ok());
  }
}

}  // namespace
}  // namespace meshid::pki
