#include "material.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "meshid/base/files.h"
#include "meshid/base/status.h"

namespace meshid::cli {

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
  base::SecretString pass;
  if (!passphrase_file.empty()) {
    MESHID_ASSIGN_OR_RETURN(pass, ReadPassphrase(passphrase_file));
  }
  return pki::ReadCaDirectory(dir, pass.view());
}

}  // namespace meshid::cli
