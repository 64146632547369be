#pragma once

// Loading certificates, keys, CSRs, bundles and CA directories from files, with errors
// that name the file.

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "meshid/base/secret.h"
#include "meshid/pki/bundle.h"
#include "meshid/pki/ca_directory.h"
#include "meshid/pki/certificate.h"
#include "meshid/pki/csr.h"
#include "meshid/pki/issue.h"
#include "meshid/pki/key.h"

namespace meshid::cli {

// LoadCertificates reads PEM or DER certificates from `path`.
inline absl::StatusOr<std::vector<pki::Certificate>> LoadCertificates(const std::string& path) {
  return pki::ReadCertificatesFile(path);
}

// ReadPassphrase reads a passphrase file; one trailing newline is dropped. Empty is an error.
absl::StatusOr<base::SecretString> ReadPassphrase(const std::string& path);

// ParsePrivateKeyAt parses key `data` that came from `name`, using the passphrase file when
// one is given.
absl::StatusOr<pki::PrivateKey> ParsePrivateKeyAt(const std::string& name, absl::string_view data,
                                                  const std::string& passphrase_file);

// LoadPrivateKey reads a private key from `path`.
absl::StatusOr<pki::PrivateKey> LoadPrivateKey(const std::string& path,
                                               const std::string& passphrase_file);

// LoadCsr reads a PEM or DER CSR and verifies its signature.
absl::StatusOr<pki::CertificateRequest> LoadCsr(const std::string& path);

// ParseBundle reads `data` from `name` as SPIFFE bundle JSON when it starts with '{', else
// as PEM or DER certificates. JWKs the bundle spec has us ignore are noted on `notes`.
absl::StatusOr<pki::TrustBundle> ParseBundle(const std::string& name, absl::string_view data,
                                             const pki::TrustDomain& trust_domain,
                                             std::ostream& notes);

using pki::CaDirectory;

// LoadCaDirectory reads a CA directory (see pki::ReadCaDirectory), with the passphrase file
// when one is given.
absl::StatusOr<CaDirectory> LoadCaDirectory(const std::string& dir,
                                            const std::string& passphrase_file);

using pki::JoinPath;

}  // namespace meshid::cli
