#pragma once

#include <memory>
#include <string>
#include <vector>

#include <openssl/types.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "meshid/pki/key.h"
#include "meshid/pki/spiffe_id.h"

// <openssl/types.h> does not declare X509_REQ; this matches <openssl/x509.h>.
typedef struct X509_req_st X509_REQ;

namespace meshid::pki {

// kMaxCsrBytes bounds a CSR before parsing; a real one is well under 4 KiB.
inline constexpr size_t kMaxCsrBytes = size_t{64} * 1024;

// CertificateRequest is a PKCS#10 CSR whose self-signature has been verified.
class CertificateRequest {
 public:
  // Create builds and signs a CSR for `id`, with `id` as its only URI SAN and optional DNS
  // SANs.
  static absl::StatusOr<CertificateRequest> Create(const PrivateKey& key, const SpiffeId& id,
                                                   absl::Span<const std::string> dns_names = {});

  // Parse reads a PEM or DER CSR of at most kMaxCsrBytes and verifies its self-signature;
  // a CSR whose signature does not verify is InvalidArgument.
  static absl::StatusOr<CertificateRequest> Parse(absl::string_view data);

  std::string ToPem() const;
  std::string ToDer() const;

  PublicKey public_key() const;
  std::vector<std::string> uri_sans() const;
  std::vector<std::string> dns_sans() const;
  // RequestsCa reports whether the CSR asks for basicConstraints CA:true.
  bool RequestsCa() const;

  X509_REQ* get0() const { return req_.get(); }

 private:
  explicit CertificateRequest(std::shared_ptr<X509_REQ> req) : req_(std::move(req)) {}
  std::shared_ptr<X509_REQ> req_;
};

// CsrPublicKey is what a CA takes from a CSR: the public key (its signature on the CSR
// verified) and whether the CSR asks to be a CA.
struct CsrPublicKey {
  PublicKey key;
  bool requests_ca = false;
};

// ParseCsrPublicKey parses a PEM or DER CSR of at most kMaxCsrBytes just enough to verify its
// self-signature and take its key; the subject and SANs are not read (a CA ignores them).
// For DER CSRs with EC, RSA, Ed25519 or Ed448 keys it avoids OpenSSL 3.0's generic key
// decoder, several times slower than the ECDSA verification, and the returned key keeps
// the SubjectPublicKeyInfo so that issuance copies it as is. Errors are those of
// CertificateRequest::Parse.
absl::StatusOr<CsrPublicKey> ParseCsrPublicKey(absl::string_view data);

}  // namespace meshid::pki
