#include "pem_util.h"

#include <openssl/pem.h>

#include "absl/strings/str_cat.h"
#include "meshid/base/secret.h"
#include "meshid/pki/openssl_error.h"
#include "ossl_util.h"

namespace meshid::pki::internal {

PemBlock::~PemBlock() { base::SecureZero(der.data(), der.size()); }

absl::StatusOr<std::vector<PemBlock>> ReadPemBlocks(absl::string_view data) {
  // PEM_read_bio stops at the first damaged block, so count the begin lines to tell a
  // clean end of input from a damaged block.
  size_t begins = 0;
  for (size_t pos = data.find("-----BEGIN "); pos != absl::string_view::npos;
       pos = data.find("-----BEGIN ", pos + 1)) {
    ++begins;
  }
  BioPtr bio = MemBio(data);
  std::vector<PemBlock> blocks;
  while (blocks.size() < begins) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* body = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &body, &len) != 1) {
      ClearOpenSslErrors();
      return absl::InvalidArgumentError(
          absl::StrCat("PEM block ", blocks.size() + 1,
                       " is truncated or damaged (missing END line, or bad base64)"));
    }
    PemBlock block{name, std::string(reinterpret_cast<char*>(body), static_cast<size_t>(len))};
    base::SecureZero(body, static_cast<size_t>(len));
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(body);
    blocks.push_back(std::move(block));
  }
  ClearOpenSslErrors();
  if (blocks.empty()) return absl::InvalidArgumentError("no PEM block found");
  return blocks;
}

}  // namespace meshid::pki::internal
