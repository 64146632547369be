#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "meshid/pki/certificate.h"
#include "meshid/pki/issue.h"
#include "meshid/pki/key.h"

namespace meshid::pki {

// ReadCertificatesFile reads PEM or DER certificates from `path`; errors name the path.
absl::StatusOr<std::vector<Certificate>> ReadCertificatesFile(const std::string& path);

// ReadPrivateKeyFile reads a private key from `path` (see PrivateKey::Parse); errors name
// the path. `passphrase` is needed only for an encrypted key.
absl::StatusOr<PrivateKey> ReadPrivateKeyFile(const std::string& path,
                                              absl::string_view passphrase = {});

// CaDirectory is a signing CA on disk: `meshid pki init`'s root/ directory (root.crt,
// root.key) or a CA directory (ca.crt, ca.key, chain.pem, bundle.pem).
struct CaDirectory {
  Signer signer;
  std::vector<Certificate> chain;  // signer certificate first, then its issuers; no root
  std::vector<Certificate> roots;
  bool is_root = false;
};

// ReadCaDirectory loads `dir`; the key must belong to the certificate.
absl::StatusOr<CaDirectory> ReadCaDirectory(const std::string& dir,
                                            absl::string_view passphrase = {});

// JoinPath joins a directory and a file name.
std::string JoinPath(const std::string& dir, const std::string& name);

}  // namespace meshid::pki
