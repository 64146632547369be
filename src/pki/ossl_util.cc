#include "ossl_util.h"

#include <ctime>

#include <openssl/asn1.h>
#include <openssl/err.h>

#include "absl/strings/str_join.h"
#include "meshid/pki/openssl_error.h"

namespace meshid::pki {

absl::Status OpenSslError(absl::string_view call, absl::StatusCode code) {
  std::vector<std::string> errors;
  unsigned long err = 0;
  const char* data = nullptr;
  int flags = 0;
  while ((err = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) != 0) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof(buf));
    std::string entry(buf);
    if (data != nullptr && (flags & ERR_TXT_STRING) != 0 && *data != '\0') {
      entry.append(" (").append(data).append(")");
    }
    errors.push_back(std::move(entry));
  }
  std::string message(call);
  message.append(" failed");
  if (!errors.empty()) {
    message.append(": ").append(absl::StrJoin(errors, "; "));
  }
  return absl::Status(code, message);
}

void ClearOpenSslErrors() { ERR_clear_error(); }

namespace internal {

std::shared_ptr<X509> SharedX509(X509* owned) { return std::shared_ptr<X509>(owned, X509_free); }

std::shared_ptr<EVP_PKEY> SharedPkey(EVP_PKEY* owned) {
  return std::shared_ptr<EVP_PKEY>(owned, EVP_PKEY_free);
}

BioPtr MemBio(absl::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return "";
  return std::string(data, static_cast<size_t>(len));
}

absl::Time AsnTimeToTime(const ASN1_TIME* t) {
  struct tm tm = {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return absl::InfinitePast();
  }
  return absl::FromTimeT(timegm(&tm));
}

std::string HexColon(const unsigned char* data, size_t len) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(len * 3);
  for (size_t i = 0; i < len; ++i) {
    if (i > 0) out.push_back(':');
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0xf]);
  }
  return out;
}

std::string NameToString(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || name == nullptr) return "";
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  return BioContents(bio.get());
}

bool LooksLikePem(absl::string_view data) {
  return data.find("-----BEGIN ") != absl::string_view::npos;
}

}  // namespace internal
}  // namespace meshid::pki
