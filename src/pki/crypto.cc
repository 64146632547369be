#include "meshid/pki/crypto.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "meshid/pki/key.h"
#include "meshid/pki/openssl_error.h"

namespace meshid::pki {

absl::StatusOr<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return OpenSslError("RAND_bytes");
  }
  return out;
}

std::string Sha256Hex(absl::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(md), len));
}

std::vector<std::string> FindRootKeys(
    const std::vector<std::pair<std::string, absl::string_view>>& files,
    absl::Span<const Certificate> roots) {
  std::vector<std::string> found;
  for (const auto& [name, data] : files) {
    if (!absl::StrContains(data, "PRIVATE KEY")) continue;
    if (PrivateKey::IsEncryptedPem(data)) {
      if (absl::StrContains(name, "root")) found.push_back(name);
      continue;
    }
    absl::StatusOr<PrivateKey> key = PrivateKey::Parse(data);
    if (!key.ok()) continue;
    for (const Certificate& root : roots) {
      if (key->Matches(root.public_key())) {
        found.push_back(name);
        break;
      }
    }
  }
  return found;
}

}  // namespace meshid::pki
