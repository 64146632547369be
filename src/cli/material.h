#pragma once

// Loading certificates, keys, CSRs, bundles and CA directories from files, with errors
// that name the file.

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "meshid/base/secret.h"
#include "meshid/pki/bundle.h"
#include "meshid/pki/certificate.h"
#include "meshid/pki/csr.h"
#include "meshid/pki/issue.h"
#include "meshid/pki/key.h"

namespace meshid::cli {

// LoadCertificates reads PEM or DER certificates from `path`.
absl::StatusOr<std::vector<pki::Certificate>> LoadCertificates(const std::string& path);

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

// CaDirectory is a signing CA loaded from disk: `meshid pki init`'s root/ directory
// (root.crt, root.key) or a CA directory (ca.crt, ca.key, chain.pem, bundle.pem).
struct CaDirectory {
  pki::Signer signer;
  std::vector<pki::Certificate> chain;  // signer certificate first, then issuers; no root
  std::vector<pki::Certificate> roots;
  bool is_root = false;
};

absl::StatusOr<CaDirectory> LoadCaDirectory(const std::string& dir,
                                            const std::string& passphrase_file);

// JoinPath joins a directory and a file name.
std::string JoinPath(const std::string& dir, const std::string& name);

}  // namespace meshid::cli
