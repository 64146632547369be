#include "meshid/pki/crypto.h"

#include <cerrno>
#include <cstring>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "meshid/pki/key.h"
#include "meshid/pki/openssl_error.h"
#include "ossl_util.h"

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

absl::StatusOr<std::string> Sha256HexOfFile(int fd, size_t max_bytes) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("fstat: ", strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError("not a regular file");
  }
  auto too_large = [max_bytes] {
    return absl::ResourceExhaustedError(
        absl::StrCat("file is larger than the limit of ", max_bytes, " bytes"));
  };
  if (static_cast<size_t>(st.st_size) > max_bytes) return too_large();

  internal::OsslPtr<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) return OpenSslError("EVP_MD_CTX_new");
  if (EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return OpenSslError("EVP_DigestInit_ex");
  }
  // 64 KiB blocks make the syscalls cheap next to hashing; on the heap, because callers
  // may run on threads with small stacks.
  std::vector<unsigned char> buf(size_t{64} * 1024);
  size_t total = 0;
  while (true) {
    ssize_t n = pread(fd, buf.data(), buf.size(), static_cast<off_t>(total));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::UnavailableError(absl::StrCat("read: ", strerror(errno)));
    if (n == 0) break;
    total += static_cast<size_t>(n);
    if (total > max_bytes) return too_large();
    if (EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(n)) != 1) {
      return OpenSslError("EVP_DigestUpdate");
    }
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), md, &len) != 1) return OpenSslError("EVP_DigestFinal_ex");
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
