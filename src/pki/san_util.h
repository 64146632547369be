#pragma once

// Private to the pki module: subjectAltName building and reading, digest choice.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ossl_util.h"

namespace meshid::pki::internal {

// MakeSanExtension builds a subjectAltName extension with `uri` (when not empty) followed by
// `dns_names`.
absl::StatusOr<X509ExtensionPtr> MakeSanExtension(absl::string_view uri,
                                                  absl::Span<const std::string> dns_names,
                                                  bool critical);

// NamesOfType returns the GEN_URI or GEN_DNS entries of `names` (may be null).
std::vector<std::string> NamesOfType(const GENERAL_NAMES* names, int type);

// DigestFor returns the digest to sign with `key`: SHA-384 for P-384, SHA-512 for P-521,
// none for Ed25519/Ed448, SHA-256 otherwise.
const EVP_MD* DigestFor(const EVP_PKEY* key);

}  // namespace meshid::pki::internal
