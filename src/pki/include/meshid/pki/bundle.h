#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "meshid/pki/certificate.h"
#include "meshid/pki/jwt.h"
#include "meshid/pki/spiffe_id.h"

namespace meshid::pki {

// TrustBundle is the set of X.509 authorities (roots) of one trust domain, with the SPIFFE
// bundle's sequence number and refresh hint. JWT authorities read from a SPIFFE bundle are
// kept verbatim so that a bundle read and written again loses nothing.
class TrustBundle {
 public:
  explicit TrustBundle(TrustDomain trust_domain) : trust_domain_(std::move(trust_domain)) {}

  // FromPem reads one or more PEM certificates as the bundle's X.509 authorities.
  static absl::StatusOr<TrustBundle> FromPem(const TrustDomain& trust_domain,
                                             absl::string_view pem);

  // FromSpiffeJson reads a SPIFFE bundle (a JWK Set with "spiffe_sequence" and
  // "spiffe_refresh_hint"). As the bundle and X509-SVID specs require, a JWK that cannot be
  // used is ignored rather than rejected: no or unknown "use", no "x5c", an "x5c"[0] that is
  // not a certificate, a "kty" that does not match it, a jwt-svid key without "kid". Only
  // the first "x5c" value counts. ignored_keys() says what was ignored and why. JWT
  // authorities are kept verbatim. A document that is not a JWK Set is InvalidArgument.
  static absl::StatusOr<TrustBundle> FromSpiffeJson(const TrustDomain& trust_domain,
                                                    absl::string_view json_text);

  std::string ToPem() const;
  // ToSpiffeJson writes the SPIFFE bundle JSON, X.509 authorities first.
  std::string ToSpiffeJson() const;

  const TrustDomain& trust_domain() const { return trust_domain_; }
  const std::vector<Certificate>& x509_authorities() const { return x509_authorities_; }

  // AddX509Authority adds `cert` unless it is already present (AlreadyExists).
  absl::Status AddX509Authority(const Certificate& cert);
  // RemoveX509Authority removes `cert` and reports whether it was present.
  bool RemoveX509Authority(const Certificate& cert);

  uint64_t sequence() const { return sequence_; }
  void set_sequence(uint64_t sequence) { sequence_ = sequence; }
  std::optional<absl::Duration> refresh_hint() const { return refresh_hint_; }
  void set_refresh_hint(std::optional<absl::Duration> hint) { refresh_hint_ = hint; }

  // jwt_authorities returns the JWT authority JWKs, each a JSON object text, verbatim as
  // read or as AddJwtAuthority wrote them.
  const std::vector<std::string>& jwt_authorities() const { return jwt_authorities_; }

  // AddJwtAuthority adds `authority` as a "jwt-svid" JWK. AlreadyExists when the bundle holds
  // a JWT authority with its key ID; InvalidArgument when its key cannot be a JWT authority
  // (see JwtAuthorityFromJwk) or its key ID is empty or not UTF-8.
  absl::Status AddJwtAuthority(const JwtAuthority& authority);
  // RemoveJwtAuthority removes every JWT authority with `key_id` and reports whether there
  // was one.
  bool RemoveJwtAuthority(absl::string_view key_id);
  // ParsedJwtAuthorities returns the JWT authorities meshid can verify with. As the bundle
  // spec has consumers ignore a key they cannot use rather than the whole bundle, a JWK that
  // does not parse is skipped, and when `ignored` is given a line saying why is appended:
  // "jwt_authorities[1] (kid \"k2\") ignored: JWK: ...".
  std::vector<JwtAuthority> ParsedJwtAuthorities(std::vector<std::string>* ignored = nullptr) const;

  // ignored_keys explains each JWK FromSpiffeJson ignored: "keys[2] ignored: no \"x5c\"".
  const std::vector<std::string>& ignored_keys() const { return ignored_keys_; }

 private:
  TrustDomain trust_domain_;
  std::vector<Certificate> x509_authorities_;
  std::vector<std::string> jwt_authorities_;
  std::vector<std::string> ignored_keys_;
  uint64_t sequence_ = 0;
  std::optional<absl::Duration> refresh_hint_;
};

}  // namespace meshid::pki
