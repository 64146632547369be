#include "san_util.h"

#include "meshid/pki/openssl_error.h"

namespace meshid::pki::internal {
namespace {

absl::Status PushName(GENERAL_NAMES* names, int type, absl::string_view value) {
  GENERAL_NAME* name = GENERAL_NAME_new();
  ASN1_IA5STRING* s = ASN1_IA5STRING_new();
  if (name == nullptr || s == nullptr ||
      ASN1_STRING_set(s, value.data(), static_cast<int>(value.size())) != 1) {
    GENERAL_NAME_free(name);
    ASN1_IA5STRING_free(s);
    return OpenSslError("ASN1_STRING_set");
  }
  GENERAL_NAME_set0_value(name, type, s);
  if (sk_GENERAL_NAME_push(names, name) == 0) {
    GENERAL_NAME_free(name);
    return OpenSslError("sk_GENERAL_NAME_push");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<X509ExtensionPtr> MakeSanExtension(absl::string_view uri,
                                                  absl::Span<const std::string> dns_names,
                                                  bool critical) {
  GeneralNamesPtr names(GENERAL_NAMES_new());
  if (!names) return OpenSslError("GENERAL_NAMES_new");
  if (!uri.empty()) {
    if (absl::Status s = PushName(names.get(), GEN_URI, uri); !s.ok()) return s;
  }
  for (const std::string& dns : dns_names) {
    if (absl::Status s = PushName(names.get(), GEN_DNS, dns); !s.ok()) return s;
  }
  X509ExtensionPtr ext(X509V3_EXT_i2d(NID_subject_alt_name, critical ? 1 : 0, names.get()));
  if (!ext) return OpenSslError("X509V3_EXT_i2d(subjectAltName)");
  return ext;
}

std::vector<std::string> NamesOfType(const GENERAL_NAMES* names, int type) {
  std::vector<std::string> out;
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != type) continue;
    const ASN1_IA5STRING* s = type == GEN_URI ? name->d.uniformResourceIdentifier : name->d.dNSName;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
  }
  return out;
}

const EVP_MD* DigestFor(const EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_ED25519:
    case EVP_PKEY_ED448:
      return nullptr;
    case EVP_PKEY_EC: {
      int bits = EVP_PKEY_get_bits(key);
      if (bits > 384) return EVP_sha512();
      if (bits > 256) return EVP_sha384();
      return EVP_sha256();
    }
    default:
      return EVP_sha256();
  }
}

}  // namespace meshid::pki::internal
