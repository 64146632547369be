#pragma once

// Private to the pki module: the JOSE pieces under JWT-SVIDs and JWT bundles — base64url,
// JWS signature algorithms over OpenSSL EVP, and a public key's JWK parameters.

#include <optional>
#include <string>

#include <openssl/evp.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "meshid/pki/key.h"
#include "nlohmann/json.hpp"

namespace meshid::pki::internal {

// Base64UrlEncode returns `bytes` in base64url without padding (RFC 7515 section 2).
std::string Base64UrlEncode(absl::string_view bytes);

// Base64UrlDecode accepts only the canonical unpadded base64url encoding: no padding, no
// whitespace, no stray bits in the last character. std::nullopt otherwise.
std::optional<std::string> Base64UrlDecode(absl::string_view text);

enum class JwsFamily { kEcdsa, kRsaPkcs1, kRsaPss };

// JwsAlgorithm is one JWS "alg" that JWT-SVIDs may use (RFC 7518 section 3).
struct JwsAlgorithm {
  absl::string_view name;  // "ES256"
  JwsFamily family;
  const EVP_MD* (*digest)();
  absl::string_view curve;  // NIST curve an ES* key must be on, else empty
  int coordinate_bytes;     // width of r and s in an ES* signature, else 0
};

// FindJwsAlgorithm returns the JWT-SVID algorithm named `name`, or nullptr for anything
// else ("none", HS256, EdDSA, a typo).
const JwsAlgorithm* FindJwsAlgorithm(absl::string_view name);

// JwsAlgorithmNames lists the accepted names, comma-separated, for error messages.
std::string JwsAlgorithmNames();

// JwsAlgorithmForKey returns the algorithm meshid signs with for `key`: ES256, ES384 or
// ES512 by curve for EC keys, RS256 for RSA. Other keys are InvalidArgument.
absl::StatusOr<const JwsAlgorithm*> JwsAlgorithmForKey(const PublicKey& key);

// CheckKeyFitsAlgorithm says (InvalidArgument) when `key` cannot verify `alg`: an ES* key on
// another curve, an RSA algorithm with a non-RSA key, and so on.
absl::Status CheckKeyFitsAlgorithm(const PublicKey& key, const JwsAlgorithm& alg);

// JwsSign returns the JWS signature of `input` by `key`: r||s at fixed width for ECDSA.
absl::StatusOr<std::string> JwsSign(const PrivateKey& key, const JwsAlgorithm& alg,
                                    absl::string_view input);

// JwsVerify checks a JWS signature: OK, InvalidArgument when it does not verify or has the
// wrong shape, Internal when OpenSSL fails for another reason.
absl::Status JwsVerify(const PublicKey& key, const JwsAlgorithm& alg, absl::string_view input,
                       absl::string_view signature);

// AddJwkKeyParams writes the public key parameters of `key` into `jwk` (RFC 7518 section 6,
// RFC 8037): "kty" and "crv"/"x"/"y" for EC, "n"/"e" for RSA, "crv"/"x" for Ed25519 and
// Ed448. Other keys get "kty" "OKP" with their OpenSSL name as "crv".
void AddJwkKeyParams(const PublicKey& key, nlohmann::json& jwk);

}  // namespace meshid::pki::internal
