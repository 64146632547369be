#include "jose.h"

#include <algorithm>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "meshid/pki/openssl_error.h"
#include "ossl_util.h"

namespace meshid::pki::internal {
namespace {

using EcdsaSigPtr = OsslPtr<ECDSA_SIG, ECDSA_SIG_free>;
using EvpMdCtxPtr = OsslPtr<EVP_MD_CTX, EVP_MD_CTX_free>;

// The JWT-SVID spec allows exactly these: the RS, ES and PS families of RFC 7518.
constexpr JwsAlgorithm kAlgorithms[] = {
    {"RS256", JwsFamily::kRsaPkcs1, EVP_sha256, "", 0},
    {"RS384", JwsFamily::kRsaPkcs1, EVP_sha384, "", 0},
    {"RS512", JwsFamily::kRsaPkcs1, EVP_sha512, "", 0},
    {"ES256", JwsFamily::kEcdsa, EVP_sha256, "P-256", 32},
    {"ES384", JwsFamily::kEcdsa, EVP_sha384, "P-384", 48},
    {"ES512", JwsFamily::kEcdsa, EVP_sha512, "P-521", 66},
    {"PS256", JwsFamily::kRsaPss, EVP_sha256, "", 0},
    {"PS384", JwsFamily::kRsaPss, EVP_sha384, "", 0},
    {"PS512", JwsFamily::kRsaPss, EVP_sha512, "", 0},
};

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// DigestInit prepares `ctx` to sign (private key) or verify with `alg`'s digest and padding.
absl::Status DigestInit(EVP_MD_CTX* ctx, EVP_PKEY* key, const JwsAlgorithm& alg, bool sign) {
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  int ok = sign ? EVP_DigestSignInit(ctx, &pctx, alg.digest(), nullptr, key)
                : EVP_DigestVerifyInit(ctx, &pctx, alg.digest(), nullptr, key);
  if (ok != 1) return OpenSslError(sign ? "EVP_DigestSignInit" : "EVP_DigestVerifyInit");
  if (alg.family != JwsFamily::kRsaPss) return absl::OkStatus();
  // RFC 7518 section 3.5: MGF1 with the same hash, salt as long as the hash.
  if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1) {
    return OpenSslError("EVP_PKEY_CTX_set_rsa_padding");
  }
  return absl::OkStatus();
}

// EcdsaDerToJws turns OpenSSL's DER ECDSA-Sig-Value into JWS's fixed-width r||s.
absl::StatusOr<std::string> EcdsaDerToJws(absl::string_view der, int width) {
  const unsigned char* p = Bytes(der);
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return OpenSslError("d2i_ECDSA_SIG");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(static_cast<size_t>(2 * width), '\0');
  auto* buf = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(r, buf, width) != width || BN_bn2binpad(s, buf + width, width) != width) {
    return OpenSslError("BN_bn2binpad");
  }
  return out;
}

// EcdsaJwsToDer turns a JWS r||s signature into DER for EVP_DigestVerify.
absl::StatusOr<std::string> EcdsaJwsToDer(absl::string_view jws, const JwsAlgorithm& alg) {
  if (jws.size() != 2 * static_cast<size_t>(alg.coordinate_bytes)) {
    return absl::InvalidArgumentError(absl::StrCat("JWT-SVID signature is ", jws.size(), " bytes; ",
                                                   alg.name, " signatures are ",
                                                   2 * alg.coordinate_bytes));
  }
  BignumPtr r(BN_bin2bn(Bytes(jws), alg.coordinate_bytes, nullptr));
  BignumPtr s(BN_bin2bn(Bytes(jws) + alg.coordinate_bytes, alg.coordinate_bytes, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig) return OpenSslError("ECDSA_SIG_new");
  // ECDSA_SIG_set0 takes r and s; it fails only on null arguments, excluded above.
  ECDSA_SIG_set0(sig.get(), r.release(), s.release());
  std::string der = I2dString(sig.get(), i2d_ECDSA_SIG);
  if (der.empty()) return OpenSslError("i2d_ECDSA_SIG");
  return der;
}

}  // namespace

std::string Base64UrlEncode(absl::string_view bytes) { return absl::WebSafeBase64Escape(bytes); }

std::optional<std::string> Base64UrlDecode(absl::string_view text) {
  std::string out;
  // absl tolerates padding and stray bits; re-encoding rejects every non-canonical form.
  if (!absl::WebSafeBase64Unescape(text, &out) || absl::WebSafeBase64Escape(out) != text) {
    return std::nullopt;
  }
  return out;
}

const JwsAlgorithm* FindJwsAlgorithm(absl::string_view name) {
  for (const JwsAlgorithm& alg : kAlgorithms) {
    if (alg.name == name) return &alg;
  }
  return nullptr;
}

std::string JwsAlgorithmNames() {
  std::vector<absl::string_view> names;
  for (const JwsAlgorithm& alg : kAlgorithms) names.push_back(alg.name);
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<const JwsAlgorithm*> JwsAlgorithmForKey(const PublicKey& key) {
  PublicKeyInfo info = key.info();
  if (info.algorithm == "RSA") return FindJwsAlgorithm("RS256");
  if (info.algorithm == "EC") {
    for (const JwsAlgorithm& alg : kAlgorithms) {
      if (alg.family == JwsFamily::kEcdsa && alg.curve == info.curve) return &alg;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "a ", info.Describe(), " key cannot sign JWT-SVIDs (EC P-256, P-384, P-521 or RSA can)"));
}

absl::Status CheckKeyFitsAlgorithm(const PublicKey& key, const JwsAlgorithm& alg) {
  PublicKeyInfo info = key.info();
  bool fits = alg.family == JwsFamily::kEcdsa ? info.algorithm == "EC" && info.curve == alg.curve
                                              : info.algorithm == "RSA";
  if (fits) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("JWT-SVID alg ", alg.name, " does not fit the ", info.Describe(), " key"));
}

absl::StatusOr<std::string> JwsSign(const PrivateKey& key, const JwsAlgorithm& alg,
                                    absl::string_view input) {
  if (absl::Status fits = CheckKeyFitsAlgorithm(key.public_key(), alg); !fits.ok()) return fits;
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return OpenSslError("EVP_MD_CTX_new");
  if (absl::Status init = DigestInit(ctx.get(), key.get0(), alg, true); !init.ok()) return init;
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, Bytes(input), input.size()) != 1) {
    return OpenSslError("EVP_DigestSign");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, Bytes(input),
                     input.size()) != 1) {
    return OpenSslError("EVP_DigestSign");
  }
  sig.resize(len);
  if (alg.family != JwsFamily::kEcdsa) return sig;
  return EcdsaDerToJws(sig, alg.coordinate_bytes);
}

absl::Status JwsVerify(const PublicKey& key, const JwsAlgorithm& alg, absl::string_view input,
                       absl::string_view signature) {
  if (absl::Status fits = CheckKeyFitsAlgorithm(key, alg); !fits.ok()) return fits;
  std::string der;
  if (alg.family == JwsFamily::kEcdsa) {
    absl::StatusOr<std::string> converted = EcdsaJwsToDer(signature, alg);
    if (!converted.ok()) return converted.status();
    der = *std::move(converted);
    signature = der;
  }
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return OpenSslError("EVP_MD_CTX_new");
  if (absl::Status init = DigestInit(ctx.get(), key.get0(), alg, false); !init.ok()) return init;
  int ok =
      EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(input), input.size());
  if (ok == 1) return absl::OkStatus();
  // A forged or damaged signature is bad input, not a library failure; the queue holds
  // only OpenSSL's "bad signature".
  ClearOpenSslErrors();
  return absl::InvalidArgumentError(
      absl::StrCat("JWT-SVID signature does not verify (", alg.name, ")"));
}

namespace {

// BignumParam returns a key parameter as big-endian bytes, left-padded to `width` bytes.
std::string BignumParam(const EVP_PKEY* key, const char* name, int width) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) {
    ClearOpenSslErrors();
    return "";
  }
  BignumPtr owned(bn);
  int len = std::max(width, BN_num_bytes(bn));
  std::string out(static_cast<size_t>(len), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), len);
  return out;
}

}  // namespace

void AddJwkKeyParams(const PublicKey& key, nlohmann::json& jwk) {
  PublicKeyInfo info = key.info();
  EVP_PKEY* pkey = key.get0();
  if (info.algorithm == "EC") {
    // RFC 7518 section 6.2.1.2: each coordinate is the full width of the curve.
    int width = (info.bits + 7) / 8;
    jwk["kty"] = "EC";
    jwk["crv"] = info.curve;
    jwk["x"] = Base64UrlEncode(BignumParam(pkey, OSSL_PKEY_PARAM_EC_PUB_X, width));
    jwk["y"] = Base64UrlEncode(BignumParam(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, width));
  } else if (info.algorithm == "RSA") {
    jwk["kty"] = "RSA";
    jwk["n"] = Base64UrlEncode(BignumParam(pkey, OSSL_PKEY_PARAM_RSA_N, 0));
    jwk["e"] = Base64UrlEncode(BignumParam(pkey, OSSL_PKEY_PARAM_RSA_E, 0));
  } else if (info.algorithm == "ED25519" || info.algorithm == "ED448") {
    jwk["kty"] = "OKP";
    jwk["crv"] = info.algorithm == "ED25519" ? "Ed25519" : "Ed448";
    std::string raw(64, '\0');
    size_t len = raw.size();
    if (EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(raw.data()), &len) ==
        1) {
      raw.resize(len);
      jwk["x"] = Base64UrlEncode(raw);
    }
    ClearOpenSslErrors();
  } else {
    // Nothing in JOSE fits (DSA, say); bundle.cc has always written this and reads it back.
    jwk["kty"] = "OKP";
    jwk["crv"] = info.algorithm;
  }
}

}  // namespace meshid::pki::internal
