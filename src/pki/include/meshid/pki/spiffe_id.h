#pragma once

#include <compare>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace meshid::pki {

// kMaxSpiffeIdBytes and kMaxTrustDomainBytes are the SPIFFE-ID spec's length limits.
inline constexpr size_t kMaxSpiffeIdBytes = 2048;
inline constexpr size_t kMaxTrustDomainBytes = 255;

// TrustDomain is a validated SPIFFE trust domain name such as "example.org": lowercase
// letters, digits, '.', '-' and '_', at most 255 bytes.
class TrustDomain {
 public:
  // Parse accepts a bare name ("example.org") or any SPIFFE ID, whose trust domain it takes
  // ("spiffe://example.org/ns/a" gives "example.org"). Errors name the broken rule.
  static absl::StatusOr<TrustDomain> Parse(absl::string_view name_or_id);

  // name returns the bare name, "example.org".
  const std::string& name() const { return name_; }
  // IdString returns the trust domain's SPIFFE ID, "spiffe://example.org".
  std::string IdString() const;

  friend bool operator==(const TrustDomain&, const TrustDomain&) = default;
  friend auto operator<=>(const TrustDomain&, const TrustDomain&) = default;

 private:
  explicit TrustDomain(std::string name) : name_(std::move(name)) {}
  friend class SpiffeId;
  std::string name_;
};

// SpiffeId is a validated SPIFFE ID: "spiffe://" + trust domain + optional path. Parsing is
// strict and accepts only the canonical form (lowercase scheme and trust domain), as the
// reference SPIFFE libraries do, so two equal IDs are always byte-for-byte equal.
class SpiffeId {
 public:
  // Parse validates `id` against every rule of the SPIFFE-ID spec. The error message quotes
  // the input and names the rule that was broken, e.g.
  // `invalid SPIFFE ID "spiffe://td/a//b": path must not contain empty segments ("//")`.
  static absl::StatusOr<SpiffeId> Parse(absl::string_view id);

  // FromPath builds the ID `path` (empty, or starting with '/') in `trust_domain`.
  static absl::StatusOr<SpiffeId> FromPath(const TrustDomain& trust_domain, absl::string_view path);

  const TrustDomain& trust_domain() const { return trust_domain_; }
  // path returns "" for a trust-domain ID, otherwise a string starting with '/'.
  const std::string& path() const { return path_; }
  std::string ToString() const;

  bool IsMemberOf(const TrustDomain& trust_domain) const { return trust_domain_ == trust_domain; }

  friend bool operator==(const SpiffeId&, const SpiffeId&) = default;
  friend auto operator<=>(const SpiffeId&, const SpiffeId&) = default;

 private:
  SpiffeId(TrustDomain trust_domain, std::string path)
      : trust_domain_(std::move(trust_domain)), path_(std::move(path)) {}
  TrustDomain trust_domain_;
  std::string path_;
};

}  // namespace meshid::pki
