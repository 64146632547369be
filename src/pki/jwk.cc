// JWK import and export for JWT authorities (declared in meshid/pki/jwt.h).

#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "absl/strings/str_cat.h"
#include "jose.h"
#include "meshid/pki/jwt.h"
#include "meshid/pki/openssl_error.h"
#include "nlohmann/json.hpp"
#include "ossl_util.h"

namespace meshid::pki {
namespace {

using json = nlohmann::json;
using internal::BignumPtr;
using internal::EvpPkeyPtr;
using internal::OsslPtr;
using ParamBldPtr = OsslPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamPtr = OsslPtr<OSSL_PARAM, OSSL_PARAM_free>;
using PkeyCtxPtr = OsslPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;

// kMinRsaBits matches PublicKeyInfo::weak: a smaller modulus is not a key to trust.
constexpr int kMinRsaBits = 2048;

absl::Status Invalid(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("JWK: ", why));
}

json AuthorityJwk(const JwtAuthority& authority) {
  json jwk;
  internal::AddJwkKeyParams(authority.key, jwk);
  jwk["kid"] = authority.key_id;
  jwk["use"] = "jwt-svid";
  return jwk;
}

// BinaryMember decodes the base64url member `name` of `jwk`.
absl::StatusOr<std::string> BinaryMember(const json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) return Invalid(absl::StrCat("no \"", name, "\""));
  std::optional<std::string> bytes = internal::Base64UrlDecode(it->get<std::string>());
  if (!bytes.has_value() || bytes->empty()) {
    return Invalid(absl::StrCat("\"", name, "\" is not canonical base64url"));
  }
  return *std::move(bytes);
}

// KeyFromParams builds a public key of `type` ("EC", "RSA") from `bld`'s parameters and
// checks it as OpenSSL would check a received public key (point on the curve, sane modulus).
absl::StatusOr<PublicKey> KeyFromParams(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  if (!params) return OpenSslError("OSSL_PARAM_BLD_to_param");
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return OpenSslError("EVP_PKEY_fromdata_init");
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return OpenSslError("JWK: EVP_PKEY_fromdata", absl::StatusCode::kInvalidArgument);
  }
  EvpPkeyPtr key(raw);
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return OpenSslError("JWK: EVP_PKEY_public_check", absl::StatusCode::kInvalidArgument);
  }
  // PublicKey is built from its SubjectPublicKeyInfo, its one public way in.
  return PublicKey::FromDer(internal::I2dString(key.get(), i2d_PUBKEY));
}

absl::StatusOr<PublicKey> EcKeyFromJwk(const json& jwk) {
  struct Curve {
    absl::string_view jwk_name;
    const char* group;
    size_t width;
  };
  static constexpr Curve kCurves[] = {
      {"P-256", "prime256v1", 32}, {"P-384", "secp384r1", 48}, {"P-521", "secp521r1", 66}};
  auto crv = jwk.find("crv");
  if (crv == jwk.end() || !crv->is_string()) return Invalid("EC key without \"crv\"");
  const Curve* curve = nullptr;
  for (const Curve& c : kCurves) {
    if (c.jwk_name == crv->get<std::string>()) curve = &c;
  }
  if (curve == nullptr) {
    return Invalid(absl::StrCat("unsupported curve ", crv->dump(), " (P-256, P-384, P-521 are)"));
  }
  absl::StatusOr<std::string> x = BinaryMember(jwk, "x");
  if (!x.ok()) return x.status();
  absl::StatusOr<std::string> y = BinaryMember(jwk, "y");
  if (!y.ok()) return y.status();
  // RFC 7518 section 6.2.1.2: coordinates are the full width of the curve, no more, no less.
  if (x->size() != curve->width || y->size() != curve->width) {
    return Invalid(absl::StrCat(R"("x" and "y" must be )", curve->width, " bytes for ",
                                curve->jwk_name, ", not ", x->size(), " and ", y->size()));
  }
  std::string point = absl::StrCat("\x04", *x, *y);  // SEC 1 uncompressed point
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve->group, 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return OpenSslError("OSSL_PARAM_BLD_push");
  }
  return KeyFromParams("EC", bld.get());
}

absl::StatusOr<PublicKey> RsaKeyFromJwk(const json& jwk) {
  absl::StatusOr<std::string> n = BinaryMember(jwk, "n");
  if (!n.ok()) return n.status();
  absl::StatusOr<std::string> e = BinaryMember(jwk, "e");
  if (!e.ok()) return e.status();
  auto bytes = [](const std::string& s) {
    return reinterpret_cast<const unsigned char*>(s.data());
  };
  BignumPtr n_bn(BN_bin2bn(bytes(*n), static_cast<int>(n->size()), nullptr));
  BignumPtr e_bn(BN_bin2bn(bytes(*e), static_cast<int>(e->size()), nullptr));
  if (!n_bn || !e_bn) return OpenSslError("BN_bin2bn");
  if (BN_num_bits(n_bn.get()) < kMinRsaBits) {
    return Invalid(absl::StrCat("RSA modulus of ", BN_num_bits(n_bn.get()),
                                " bits is too weak (at least ", kMinRsaBits, ")"));
  }
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n_bn.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e_bn.get()) != 1) {
    return OpenSslError("OSSL_PARAM_BLD_push_BN");
  }
  return KeyFromParams("RSA", bld.get());
}

}  // namespace

std::string JwkJson(const JwtAuthority& authority) {
  // A key ID that is not UTF-8 comes out with U+FFFD rather than as an exception.
  return AuthorityJwk(authority).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string JwksJson(absl::Span<const JwtAuthority> authorities) {
  json keys = json::array();
  for (const JwtAuthority& authority : authorities) keys.push_back(AuthorityJwk(authority));
  return json{{"keys", std::move(keys)}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

absl::StatusOr<JwtAuthority> JwtAuthorityFromJwk(absl::string_view json_text) {
  json jwk = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (jwk.is_discarded()) return Invalid("not valid JSON");
  if (!jwk.is_object()) return Invalid("not a JSON object");
  auto kid = jwk.find("kid");
  if (kid == jwk.end() || !kid->is_string() || kid->get<std::string>().empty()) {
    return Invalid("no \"kid\"");
  }
  if (auto use = jwk.find("use"); use != jwk.end() && *use != "jwt-svid" && *use != "sig") {
    return Invalid(absl::StrCat("\"use\" ", use->dump(), " is not \"jwt-svid\""));
  }
  if (jwk.contains("d")) return Invalid("holds a private key (\"d\"); publish only the public key");
  auto kty = jwk.find("kty");
  if (kty == jwk.end() || !kty->is_string()) return Invalid("no \"kty\"");
  absl::StatusOr<PublicKey> key;
  if (*kty == "EC") {
    key = EcKeyFromJwk(jwk);
  } else if (*kty == "RSA") {
    key = RsaKeyFromJwk(jwk);
  } else {
    return Invalid(absl::StrCat("unsupported \"kty\" ", kty->dump(), " (EC and RSA are)"));
  }
  if (!key.ok()) return key.status();
  return JwtAuthority{kid->get<std::string>(), *std::move(key)};
}

}  // namespace meshid::pki
