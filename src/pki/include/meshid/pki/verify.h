#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "meshid/pki/bundle.h"
#include "meshid/pki/certificate.h"
#include "meshid/pki/spiffe_id.h"

namespace meshid::pki {

// ChainError is the one reason a chain failed verification. ChainErrorName gives the stable
// snake_case name that CLI output, JSON and metrics use.
enum class ChainError {
  kEmptyChain,            // no certificate presented
  kExpired,               // a certificate in the path is past notAfter
  kNotYetValid,           // a certificate in the path is before notBefore
  kUnknownAuthority,      // the path ends at an authority the bundle does not hold
  kMissingIntermediate,   // an issuer is neither presented nor a root in the bundle
  kBadSignature,          // a signature does not verify
  kLeafIsCa,              // the leaf has CA:true
  kLeafCanSign,           // the leaf has keyCertSign or cRLSign
  kLeafKeyUsage,          // issuance profile: keyUsage absent, not critical, or no digitalSignature
  kSanNotCritical,        // issuance profile: empty subject with a non-critical subjectAltName
  kNoSpiffeId,            // the leaf has no URI SAN
  kMultipleUriSans,       // the leaf has more than one URI SAN
  kInvalidSpiffeId,       // the URI SAN is not a SPIFFE ID, or has no path
  kTrustDomainMismatch,   // the leaf's trust domain is not the bundle's
  kIdMismatch,            // the leaf's SPIFFE ID is not the one expected
  kEkuMissingClientAuth,  // extendedKeyUsage without clientAuth
  kEkuMissingServerAuth,  // extendedKeyUsage without serverAuth
  kInvalidCa,             // an issuer is not a CA or lacks keyCertSign
  kPathLengthExceeded,    // a pathLenConstraint is exceeded
  kWeakKey,               // RSA below 2048 bits, EC below 256 bits
  kWeakSignature,         // SHA-1 or MD5 signature
  kUnhandledCriticalExtension,
  kMalformed,  // anything else OpenSSL rejects
};

absl::string_view ChainErrorName(ChainError error);

// Usage is what the leaf must be good for, checked against extendedKeyUsage when present.
enum class Usage { kClientAndServer, kClient, kServer, kAny };

struct VerifyOptions {
  absl::Time at;  // the time to verify at
  Usage usage = Usage::kClientAndServer;
  std::optional<SpiffeId> expected_id;
};

// VerifiedChain is a verified path, leaf (or verified CA) first, trust anchor last.
struct VerifiedChain {
  std::vector<Certificate> certificates;
  std::optional<SpiffeId> spiffe_id;  // the leaf's, when an SVID was verified
};

// VerifyResult holds either a verified chain or the one reason verification failed.
class VerifyResult {
 public:
  static VerifyResult Ok(VerifiedChain chain) { return VerifyResult(std::move(chain)); }
  static VerifyResult Fail(ChainError error, std::string detail) {
    return VerifyResult(error, std::move(detail));
  }

  bool ok() const { return chain_.has_value(); }
  // chain is only meaningful when ok().
  const VerifiedChain& chain() const { return *chain_; }
  // error and detail are only meaningful when !ok(). detail is one line naming the
  // certificate concerned.
  ChainError error() const { return error_; }
  const std::string& detail() const { return detail_; }

 private:
  explicit VerifyResult(VerifiedChain chain) : chain_(std::move(chain)) {}
  VerifyResult(ChainError error, std::string detail) : error_(error), detail_(std::move(detail)) {}
  std::optional<VerifiedChain> chain_;
  ChainError error_ = ChainError::kMalformed;
  std::string detail_;
};

// VerifyX509Svid verifies `chain` (leaf first, then any intermediates, in any order) the way
// the X509-SVID spec says: RFC 5280 path building to one of `bundle`'s authorities, which
// are trust anchors whether or not self-signed (as in go-spiffe); the leaf must be a
// conforming SVID of `bundle`'s trust domain. Checks run leaf profile first, then the path,
// then key and signature strength, and the first failure is the reason.
VerifyResult VerifyX509Svid(absl::Span<const Certificate> chain, const TrustBundle& bundle,
                            const VerifyOptions& options);

// VerifyCaChain verifies that `chain` (a CA certificate first, then its issuers) leads to one
// of `roots` at `at`, with the same path and strength rules but no leaf profile.
VerifyResult VerifyCaChain(absl::Span<const Certificate> chain, absl::Span<const Certificate> roots,
                           absl::Time at);

// CheckSvidProfile returns the first rule the X509-SVID spec has validators enforce that
// `leaf` breaks — one URI SAN that is a SPIFFE ID with a path, CA:false, no keyCertSign or
// cRLSign — or the extendedKeyUsage `usage` needs; nullopt when it passes.
std::optional<VerifyResult> CheckSvidProfile(const Certificate& leaf, Usage usage);

// CheckSvidIssuanceProfile returns the first rule an issuer must follow that `leaf` breaks
// although validators accept it: keyUsage present, critical, with digitalSignature; a
// critical subjectAltName when the subject is empty. `meshid check` reports these; the
// verifier does not reject on them, as other SPIFFE verifiers do not.
std::optional<VerifyResult> CheckSvidIssuanceProfile(const Certificate& leaf);

}  // namespace meshid::pki
