#include "meshid/pki/ca_directory.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "meshid/base/files.h"
#include "meshid/base/status.h"

namespace meshid::pki {

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (dir.empty() || absl::EndsWith(dir, "/")) return dir + name;
  return absl::StrCat(dir, "/", name);
}

absl::StatusOr<std::vector<Certificate>> ReadCertificatesFile(const std::string& path) {
  MESHID_ASSIGN_OR_RETURN(std::string data, base::ReadFile(path));
  absl::StatusOr<std::vector<Certificate>> certs = ParseCertificates(data);
  return certs.ok() ? certs : base::Annotate(certs.status(), path);
}

absl::StatusOr<PrivateKey> ReadPrivateKeyFile(const std::string& path,
                                              absl::string_view passphrase) {
  MESHID_ASSIGN_OR_RETURN(base::SecretString data, base::ReadSecretFile(path));
  absl::StatusOr<PrivateKey> key = PrivateKey::Parse(data.view(), passphrase);
  return key.ok() ? key : base::Annotate(key.status(), path);
}

absl::StatusOr<CaDirectory> ReadCaDirectory(const std::string& dir, absl::string_view passphrase) {
  if (!base::IsDirectory(dir)) {
    if (!base::PathExists(dir))
      return absl::NotFoundError(absl::StrCat(dir, ": no such directory"));
    return absl::InvalidArgumentError(absl::StrCat(dir, ": is not a directory"));
  }
  bool is_root =
      !base::PathExists(JoinPath(dir, "ca.crt")) && base::PathExists(JoinPath(dir, "root.crt"));
  std::string cert_path = JoinPath(dir, is_root ? "root.crt" : "ca.crt");
  std::string key_path = JoinPath(dir, is_root ? "root.key" : "ca.key");
  if (!base::PathExists(cert_path)) {
    return absl::NotFoundError(absl::StrCat(
        dir, ": holds neither ca.crt (a CA directory) nor root.crt (a root directory)"));
  }
  MESHID_ASSIGN_OR_RETURN(std::vector<Certificate> certs, ReadCertificatesFile(cert_path));
  MESHID_ASSIGN_OR_RETURN(PrivateKey key, ReadPrivateKeyFile(key_path, passphrase));
  const Certificate& cert = certs.front();
  if (!key.Matches(cert.public_key())) {
    return absl::InvalidArgumentError(
        absl::StrCat(key_path, ": does not belong to the certificate in ", cert_path));
  }
  CaDirectory ca{Signer{cert, key}, {}, {}, is_root};
  if (is_root) {
    ca.roots = {cert};
    return ca;
  }
  ca.chain = {cert};
  std::string chain_path = JoinPath(dir, "chain.pem");
  if (base::PathExists(chain_path)) {
    MESHID_ASSIGN_OR_RETURN(std::vector<Certificate> chain, ReadCertificatesFile(chain_path));
    for (const Certificate& c : chain) {
      if (!(c == cert) && !c.IsSelfSigned()) ca.chain.push_back(c);
    }
  }
  MESHID_ASSIGN_OR_RETURN(ca.roots, ReadCertificatesFile(JoinPath(dir, "bundle.pem")));
  return ca;
}

}  // namespace meshid::pki
