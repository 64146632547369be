#include "material.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "meshid/base/files.h"
#include "meshid/base/status.h"

namespace meshid::cli {

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (dir.empty() || absl::EndsWith(dir, "/")) return dir + name;
  return absl::StrCat(dir, "/", name);
}

absl::StatusOr<std::vector<pki::Certificate>> LoadCertificates(const std::string& path) {
  MESHID_ASSIGN_OR_RETURN(std::string data, base::ReadFile(path));
  absl::StatusOr<std::vector<pki::Certificate>> certs = pki::ParseCertificates(data);
  return certs.ok() ? certs : base::Annotate(certs.status(), path);
}

absl::StatusOr<base::SecretString> ReadPassphrase(const std::string& path) {
  MESHID_ASSIGN_OR_RETURN(base::SecretString data, base::ReadSecretFile(path, 4096));
  absl::string_view value = data.view();
  absl::ConsumeSuffix(&value, "\n");
  absl::ConsumeSuffix(&value, "\r");
  base::SecretString pass(value);
  if (pass.empty())
    return absl::InvalidArgumentError(absl::StrCat(path, ": the passphrase is empty"));
  return pass;
}

absl::StatusOr<pki::PrivateKey> ParsePrivateKeyAt(const std::string& name, absl::string_view data,
                                                  const std::string& passphrase_file) {
  base::SecretString pass;
  if (!passphrase_file.empty() && pki::PrivateKey::IsEncryptedPem(data)) {
    MESHID_ASSIGN_OR_RETURN(pass, ReadPassphrase(passphrase_file));
  }
  absl::StatusOr<pki::PrivateKey> key = pki::PrivateKey::Parse(data, pass.view());
  return key.ok() ? key : base::Annotate(key.status(), name);
}

absl::StatusOr<pki::PrivateKey> LoadPrivateKey(const std::string& path,
                                               const std::string& passphrase_file) {
  MESHID_ASSIGN_OR_RETURN(base::SecretString data, base::ReadSecretFile(path));
  return ParsePrivateKeyAt(path, data.view(), passphrase_file);
}

absl::StatusOr<pki::CertificateRequest> LoadCsr(const std::string& path) {
  MESHID_ASSIGN_OR_RETURN(std::string data, base::ReadFile(path, pki::kMaxCsrBytes));
  absl::StatusOr<pki::CertificateRequest> csr = pki::CertificateRequest::Parse(data);
  return csr.ok() ? csr : base::Annotate(csr.status(), path);
}

absl::StatusOr<pki::TrustBundle> ParseBundle(const std::string& name, absl::string_view data,
                                             const pki::TrustDomain& trust_domain,
                                             std::ostream& notes) {
  absl::string_view trimmed = absl::StripLeadingAsciiWhitespace(data);
  absl::StatusOr<pki::TrustBundle> bundle =
      absl::StartsWith(trimmed, "{") ? pki::TrustBundle::FromSpiffeJson(trust_domain, data)
                                     : pki::TrustBundle::FromPem(trust_domain, data);
  if (!bundle.ok()) return base::Annotate(bundle.status(), name);
  for (const std::string& ignored : bundle->ignored_keys()) {
    notes << "note: " << name << ": " << ignored << "\n";
  }
  return bundle;
}

absl::StatusOr<CaDirectory> LoadCaDirectory(const std::string& dir,
                                            const std::string& passphrase_file) {
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
  MESHID_ASSIGN_OR_RETURN(std::vector<pki::Certificate> certs, LoadCertificates(cert_path));
  MESHID_ASSIGN_OR_RETURN(pki::PrivateKey key, LoadPrivateKey(key_path, passphrase_file));
  const pki::Certificate& cert = certs.front();
  if (!key.Matches(cert.public_key())) {
    return absl::InvalidArgumentError(
        absl::StrCat(key_path, ": does not belong to the certificate in ", cert_path));
  }
  CaDirectory ca{pki::Signer{cert, key}, {}, {}, is_root};
  if (is_root) {
    ca.roots = {cert};
    return ca;
  }
  ca.chain = {cert};
  std::string chain_path = JoinPath(dir, "chain.pem");
  if (base::PathExists(chain_path)) {
    MESHID_ASSIGN_OR_RETURN(std::vector<pki::Certificate> chain, LoadCertificates(chain_path));
    for (const pki::Certificate& c : chain) {
      if (!(c == cert) && !c.IsSelfSigned()) ca.chain.push_back(c);
    }
  }
  MESHID_ASSIGN_OR_RETURN(ca.roots, LoadCertificates(JoinPath(dir, "bundle.pem")));
  return ca;
}

}  // namespace meshid::cli
