#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "meshid/pki/bundle.h"
#include "meshid/pki/certificate.h"
#include "meshid/pki/issue.h"
#include "meshid/pki/key.h"

namespace meshid::testing {

// CertSpec describes any certificate, conforming or not, for tests that need the broken
// ones (a CA leaf, a SHA-1 signature, serverAuth only, ...). Extension values use OpenSSL's
// configuration syntax; an empty string leaves the extension out.
struct CertSpec {
  std::string common_name;  // empty: empty subject
  std::vector<std::string> uris;
  std::vector<std::string> dns;
  bool san_critical = true;
  std::string basic_constraints = "critical,CA:FALSE";
  std::string key_usage = "critical,digitalSignature";
  std::string extended_key_usage = "serverAuth,clientAuth";
  bool key_ids = true;  // subjectKeyIdentifier and authorityKeyIdentifier
  absl::Time not_before;
  absl::Time not_after;
  bool sha1 = false;  // sign with SHA-1 instead of SHA-256
  // More extensions (name, value), added after the others even when one repeats.
  std::vector<std::pair<std::string, std::string>> extra_extensions;
};

// LeafSpec returns a spec for a conforming X509-SVID leaf for `id`, valid for `ttl` from `now`.
CertSpec LeafSpec(const std::string& id, absl::Time now, absl::Duration ttl = absl::Hours(1));
// CaSpec returns a spec for a conforming CA named `cn` in `trust_domain`.
CertSpec CaSpec(const std::string& cn, const std::string& trust_domain, absl::Time now,
                absl::Duration ttl, std::optional<int> path_len = std::nullopt);

// BuildCertificate signs `spec` for `subject_key` with `issuer`, or self-signs with
// `subject_private` when `issuer` is null.
absl::StatusOr<pki::Certificate> BuildCertificate(const CertSpec& spec,
                                                  const pki::PrivateKey& subject_private,
                                                  const pki::Signer* issuer);

// BuildCsrPem signs a PEM CSR with `key` carrying `extensions` (name, OpenSSL
// configuration value), e.g. {{"subjectAltName", "URI:spiffe://example.org/a"},
// {"basicConstraints", "critical,CA:TRUE"}}. It makes CSRs meshid itself never would.
absl::StatusOr<std::string> BuildCsrPem(
    const pki::PrivateKey& key, const std::vector<std::pair<std::string, std::string>>& extensions);

// MakeWeakRsaKey returns an RSA key of `bits` (e.g. 1024), which meshid never generates.
pki::PrivateKey MakeWeakRsaKey(int bits);

// MakeEd25519Key returns an Ed25519 key: not a type meshid generates, but one a CSR or an
// upstream CA may carry.
pki::PrivateKey MakeEd25519Key();

// TestPki is an in-memory hierarchy root → intermediate for trust domain "example.org",
// minted with meshid's own issuance at `now`.
struct TestPki {
  static TestPki Create(absl::Time now, const std::string& trust_domain = "example.org");

  // IssueLeaf issues an SVID for "spiffe://<td><path>" under the intermediate.
  struct Leaf {
    pki::Certificate certificate;
    pki::PrivateKey key;
    // chain returns the leaf then the intermediate (no root), as a workload presents it.
    std::vector<pki::Certificate> chain;
  };
  Leaf IssueLeaf(const std::string& path, absl::Duration ttl = absl::Hours(1)) const;

  pki::TrustBundle Bundle() const;

  pki::TrustDomain trust_domain;
  pki::Signer root;
  pki::Signer intermediate;
  absl::Time now;
};

}  // namespace meshid::testing
