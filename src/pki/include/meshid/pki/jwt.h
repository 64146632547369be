#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "meshid/pki/key.h"
#include "meshid/pki/spiffe_id.h"

// JWT-SVIDs (SPIFFE JWT-SVID spec): JWS compact serialization signed with RS*, ES* or PS*,
// and the JWKs that carry a trust domain's JWT signing keys.

namespace meshid::pki {

// kMaxJwtSvidBytes bounds the tokens meshid signs and accepts; real JWT-SVIDs are well under
// 2 KiB.
inline constexpr size_t kMaxJwtSvidBytes = size_t{16} * 1024;

// JwtAuthority is a JWT signing public key of a trust domain with its key ID ("kid").
struct JwtAuthority {
  std::string key_id;
  PublicKey key;
};

// SignJwtSvid returns a compact JWS with the header {"alg","kid","typ":"JWT"} and the claims
// {"sub","aud","exp","iat"}. "alg" follows the key: ES256, ES384 or ES512 by curve for EC
// keys, RS256 for RSA. "aud" is always an array, even of one: RFC 7519 allows it and a
// consumer then meets one shape. "exp" and "iat" are whole seconds, rounded down. An empty
// key ID, no audience, an empty audience string, text that is not UTF-8, expiry not after
// issued_at, or a token longer than kMaxJwtSvidBytes is InvalidArgument.
absl::StatusOr<std::string> SignJwtSvid(const PrivateKey& key, absl::string_view key_id,
                                        const SpiffeId& subject,
                                        absl::Span<const std::string> audience,
                                        absl::Time issued_at, absl::Time expiry);

// SignJwt signs `claims_json` verbatim (normally a JSON object text) as SignJwtSvid does,
// with the same header. It checks nothing about the claims: issuers use SignJwtSvid; this is for
// tests and tools that need a token SignJwtSvid would never make.
absl::StatusOr<std::string> SignJwt(const PrivateKey& key, absl::string_view key_id,
                                    absl::string_view claims_json);

// JwtSvid is what a JWT-SVID says.
struct JwtSvid {
  SpiffeId subject;
  // audience holds "aud" whether it was written as a string or an array.
  std::vector<std::string> audience;
  absl::Time expiry;
  std::optional<absl::Time> issued_at;
  std::optional<absl::Time> not_before;  // "nbf"
  std::string key_id;                    // header "kid"
  std::string algorithm;                 // header "alg"
  // claims_json is the whole payload object as JSON text (for ValidateJWTSVID's claims).
  std::string claims_json;
};

// ValidateJwtSvid checks `token` per the JWT-SVID spec and returns its claims. Checked, in
// order: size (kMaxJwtSvidBytes); three canonical base64url parts; a JSON header whose "alg"
// is one of RS256/384/512, ES256/384/512, PS256/384/512 ("none", HS*, anything else
// rejected), whose "kid" names one of `authorities` with a key of the type "alg" needs, whose
// "typ", if present, is "JWT" or "JOSE", and that has no "crit"; the signature; then the
// claims: "sub" a SPIFFE ID, "aud" a non-empty string or array of strings that contains
// `audience`, "exp" a number after `now` (no leeway: the issuer's short lifetime is the
// margin), "nbf", if present, at most one minute after `now` (clock skew between nodes).
// Every failure is InvalidArgument with a one-line reason: "JWT-SVID has expired (...)";
// only OpenSSL failing for reasons of its own gives Internal.
//
// `authorities` must be the JWT authorities of the one trust domain the caller trusts to
// speak for the token's subject: the signature binds the claims to the key, not the key to
// the subject's trust domain. A caller holding several trust domains finds the subject with
// ParseJwtSvidUnverified, picks that domain's authorities, validates, and compares.
absl::StatusOr<JwtSvid> ValidateJwtSvid(absl::string_view token, absl::string_view audience,
                                        absl::Span<const JwtAuthority> authorities, absl::Time now);

// ParseJwtSvidUnverified reads the header and claims as ValidateJwtSvid does but checks
// neither the signature, nor the audience, nor any time: for tools that display a token and
// for choosing the authorities to validate with. Never trust what it returns.
absl::StatusOr<JwtSvid> ParseJwtSvidUnverified(absl::string_view token);

// JwkJson returns the JWK of `authority` as the SPIFFE bundle spec wants it, on one line:
// {"crv":"P-256","kid":..,"kty":"EC","use":"jwt-svid","x":..,"y":..}; RSA has "n" and "e".
std::string JwkJson(const JwtAuthority& authority);

// JwtAuthorityFromJwk reads one JWK object with a non-empty "kid": EC on P-256, P-384 or
// P-521 (coordinates at full width, the point on the curve) or RSA of at least 2048 bits.
// "use", when present, must be "jwt-svid" or "sig"; "alg" and other members are ignored. A
// JWK holding a private key ("d") is rejected. Every failure is InvalidArgument.
absl::StatusOr<JwtAuthority> JwtAuthorityFromJwk(absl::string_view json);

// JwksJson returns the JWK Set {"keys":[...]} of `authorities`: what the Workload API's
// FetchJWTBundles sends for a trust domain.
std::string JwksJson(absl::Span<const JwtAuthority> authorities);

}  // namespace meshid::pki
