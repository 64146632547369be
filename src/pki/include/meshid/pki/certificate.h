#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <openssl/types.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "meshid/pki/key.h"
#include "meshid/pki/spiffe_id.h"

namespace meshid::pki {

// KeyUsage is the keyUsage extension of a certificate.
struct KeyUsage {
  bool present = false;
  bool critical = false;
  bool digital_signature = false;
  bool key_encipherment = false;
  bool key_agreement = false;
  bool key_cert_sign = false;
  bool crl_sign = false;

  // Names lists the bits set, in RFC 5280 spelling ("digitalSignature", "keyCertSign", ...).
  std::vector<std::string> Names() const;
};

// ExtendedKeyUsage is the extendedKeyUsage extension of a certificate.
struct ExtendedKeyUsage {
  bool present = false;
  bool server_auth = false;
  bool client_auth = false;
  bool any = false;                // anyExtendedKeyUsage
  std::vector<std::string> names;  // every purpose, short names ("serverAuth", ...)

  bool AllowsServerAuth() const { return !present || server_auth || any; }
  bool AllowsClientAuth() const { return !present || client_auth || any; }
};

// Certificate is an immutable X.509 certificate, shared cheaply on copy.
class Certificate {
 public:
  static absl::StatusOr<Certificate> FromDer(absl::string_view der);
  // FromPem parses a PEM text holding exactly one certificate.
  static absl::StatusOr<Certificate> FromPem(absl::string_view pem);

  std::string ToDer() const;
  std::string ToPem() const;

  // subject and issuer are RFC 2253 one-line names; "" when the name is empty.
  std::string subject() const;
  std::string issuer() const;
  // serial_hex returns the serial number in lowercase hex without separators.
  std::string serial_hex() const;
  absl::Time not_before() const;
  absl::Time not_after() const;
  absl::Duration lifetime() const { return not_after() - not_before(); }

  std::vector<std::string> uri_sans() const;
  std::vector<std::string> dns_sans() const;
  bool has_san() const;
  bool san_critical() const;
  // spiffe_id returns the certificate's only URI SAN as a SPIFFE ID, or an error saying
  // there is none, several, or that it is not a valid SPIFFE ID.
  absl::StatusOr<SpiffeId> spiffe_id() const;

  // has_invalid_extensions reports an extension OpenSSL could not decode, or one that
  // appears twice (RFC 5280 4.2 forbids it; two subjectAltNames could hide an identity).
  bool has_invalid_extensions() const;

  bool is_ca() const;
  // path_len returns the basicConstraints pathLenConstraint, if any.
  std::optional<int> path_len() const;
  KeyUsage key_usage() const;
  ExtendedKeyUsage extended_key_usage() const;
  // Key identifiers as colon-separated uppercase hex ("A1:B2:..."), "" when absent.
  std::string subject_key_id() const;
  std::string authority_key_id() const;
  // sha256_fingerprint returns the SHA-256 of the DER as colon-separated uppercase hex.
  std::string sha256_fingerprint() const;

  PublicKey public_key() const;
  // signature_algorithm returns the long name, e.g. "ecdsa-with-SHA256".
  std::string signature_algorithm() const;
  // weak_signature is true when the signature uses SHA-1 or MD5.
  bool weak_signature() const;

  // IsSelfSigned reports whether the certificate's issuer is its own subject and its
  // signature verifies with its own key.
  bool IsSelfSigned() const;
  // IsIssuedBy reports whether `issuer`'s subject and key identifier match and `issuer`'s
  // key verifies this certificate's signature.
  bool IsIssuedBy(const Certificate& issuer) const;
  // IsValidAt reports whether `t` is within [not_before, not_after].
  bool IsValidAt(absl::Time t) const { return t >= not_before() && t <= not_after(); }

  // get0 returns the certificate; it stays owned by this object and its copies.
  X509* get0() const { return cert_.get(); }

  friend bool operator==(const Certificate& a, const Certificate& b);

 private:
  explicit Certificate(std::shared_ptr<X509> cert) : cert_(std::move(cert)) {}
  friend absl::StatusOr<Certificate> WrapCertificate(X509* owned);
  std::shared_ptr<X509> cert_;
};

// ParseCertificates reads every certificate in `data`: PEM text with one or more
// "CERTIFICATE" blocks (text between blocks is ignored, as openssl does), or DER
// certificates, one or several concatenated as the Workload API sends them. Errors say what
// was found instead: an empty input, a private key, a truncated PEM block, bytes that are
// neither PEM nor DER.
absl::StatusOr<std::vector<Certificate>> ParseCertificates(absl::string_view data);

// ToPem concatenates the PEM forms of `certs`.
std::string ToPem(absl::Span<const Certificate> certs);
// ToDer concatenates the DER forms of `certs`.
std::string ToDer(absl::Span<const Certificate> certs);

}  // namespace meshid::pki
