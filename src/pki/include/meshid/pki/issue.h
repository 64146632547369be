#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "meshid/pki/certificate.h"
#include "meshid/pki/key.h"
#include "meshid/pki/spiffe_id.h"

namespace meshid::pki {

// kBackdate is how far before "now" every certificate's notBefore is set, so that peers
// whose clocks run a little behind accept a fresh certificate (SPIRE uses the same 10 s).
inline constexpr absl::Duration kBackdate = absl::Seconds(10);

// Signer is a CA certificate with its private key.
struct Signer {
  Certificate certificate;
  PrivateKey key;
};

// LeafProfile describes an X509-SVID to issue.
struct LeafProfile {
  SpiffeId id;                         // must have a non-empty path
  std::vector<std::string> dns_names;  // optional DNS SANs
  absl::Duration ttl = absl::Hours(1);
};

// CaProfile describes a signing certificate to issue.
struct CaProfile {
  TrustDomain trust_domain;  // becomes the URI SAN "spiffe://<td>"
  std::string common_name;   // subject is "O=meshid, CN=<common_name>"
  absl::Duration ttl;
  std::optional<int> path_len;  // basicConstraints pathLenConstraint
};

// IssueLeaf signs an X509-SVID for `subject_key`: an empty subject, exactly one URI SAN (the
// SPIFFE ID) plus any DNS SANs in a critical subjectAltName, CA:false, keyUsage critical
// digitalSignature (plus keyEncipherment for RSA keys, which TLS 1.2 RSA key exchange
// needs), extendedKeyUsage serverAuth + clientAuth, SKI and AKI, a positive 128-bit random
// serial, notBefore = now - kBackdate and notAfter = min(now + ttl, issuer's notAfter).
// Fails with FailedPrecondition when the signer is not a CA, is outside its validity at
// `now`, or does not match its key; InvalidArgument for an ID outside the signer's trust
// domain, an ID without a path, a bad DNS name or a non-positive TTL.
absl::StatusOr<Certificate> IssueLeaf(const Signer& signer, const PublicKey& subject_key,
                                      const LeafProfile& profile, absl::Time now);

// IssueRootCa self-signs a root: CA:true (with the optional pathlen), keyUsage critical
// keyCertSign + cRLSign, URI SAN "spiffe://<td>", SKI and AKI.
absl::StatusOr<Certificate> IssueRootCa(const PrivateKey& key, const CaProfile& profile,
                                        absl::Time now);

// IssueIntermediateCa signs a CA certificate for `subject_key` under `signer`, with the same
// extensions as a root. Its notAfter never passes the signer's.
absl::StatusOr<Certificate> IssueIntermediateCa(const Signer& signer, const PublicKey& subject_key,
                                                const CaProfile& profile, absl::Time now);

// IsValidDnsName reports whether `name` is a DNS name meshid will put in a certificate:
// letters, digits and '-' in labels of 1..63 bytes, at most 253 bytes, optionally starting
// with one "*." wildcard label.
bool IsValidDnsName(absl::string_view name);

}  // namespace meshid::pki
