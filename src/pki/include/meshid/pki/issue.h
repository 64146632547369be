#pragma once

#include <memory>
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

// IssuedLeaf is a signed X509-SVID leaf: its DER and the fields a CA records about it.
struct IssuedLeaf {
  std::string der;
  std::string serial_hex;  // as Certificate::serial_hex
  absl::Time not_before;
  absl::Time not_after;
};

// LeafIssuer signs X509-SVID leaves under one CA: the CA's signing path. What every leaf
// shares (the issuer's name and key identifier, the signature algorithm, the constant
// extensions) is encoded once; each leaf's TBSCertificate is encoded by OpenSSL's ASN.1
// encoder around the subject's SubjectPublicKeyInfo as received, and no X509 object is built
// (OpenSSL 3.0 spends more on one than on the signature; see BENCHMARKS.md). Copies share
// state; Issue may be called from any number of threads.
class LeafIssuer {
 public:
  // Create fails with FailedPrecondition when the signer is not a CA, lacks keyCertSign, or
  // does not match its key.
  static absl::StatusOr<LeafIssuer> Create(const Signer& signer);

  // Issue signs a leaf as IssueLeaf describes, with the same checks and errors.
  absl::StatusOr<IssuedLeaf> Issue(const PublicKey& subject_key, const LeafProfile& profile,
                                   absl::Time now) const;

 private:
  struct State;
  explicit LeafIssuer(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

// IssueLeaf signs an X509-SVID for `subject_key`: an empty subject, exactly one URI SAN (the
// SPIFFE ID) plus any DNS SANs in a critical subjectAltName, CA:false, keyUsage critical
// digitalSignature (plus keyEncipherment for RSA keys, which TLS 1.2 RSA key exchange
// needs), extendedKeyUsage serverAuth + clientAuth, SKI and AKI, a positive 128-bit serial
// (the issuance time in milliseconds, then 80 random bits), notBefore = now - kBackdate and
// notAfter = min(now + ttl, issuer's notAfter). Fails with FailedPrecondition when the signer is
// not a CA, is outside its validity at `now`, or does not match its key; InvalidArgument for an ID
// outside the signer's trust domain, an ID without a path, a bad DNS name or a non-positive TTL.
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
