#pragma once

// Private to the pki module: helpers over OpenSSL's ASN.1 templates, and the templates the
// CA's signing path shares (defined in fast_csr.cc).

#include <memory>
#include <string>

#include <openssl/asn1t.h>
#include <openssl/x509.h>

#include "absl/strings/string_view.h"

extern "C" {

// SubjectPublicKeyInfo (RFC 5280 4.1) with the key left as algorithm + bits, keeping the
// encoding it was decoded from.
typedef struct meshid_spki_st {
  ASN1_ENCODING enc;
  X509_ALGOR* algorithm;
  ASN1_BIT_STRING* public_key;
} MESHID_SPKI;

DECLARE_ASN1_ITEM(MESHID_SPKI)

}  // extern "C"

namespace meshid::pki::internal {

template <typename T>
struct ItemFree {
  const ASN1_ITEM* item;
  void operator()(T* p) const { ASN1_item_free(reinterpret_cast<ASN1_VALUE*>(p), item); }
};
// ItemPtr owns a value of an ASN.1 template type.
template <typename T>
using ItemPtr = std::unique_ptr<T, ItemFree<T>>;

// ItemD2i decodes exactly `len` bytes as `item` (null on an error or trailing bytes).
template <typename T>
ItemPtr<T> ItemD2i(const ASN1_ITEM* item, const unsigned char* data, long len) {
  const unsigned char* p = data;
  auto* value = reinterpret_cast<T*>(ASN1_item_d2i(nullptr, &p, len, item));
  if (value != nullptr && p != data + len) {  // trailing bytes
    ASN1_item_free(reinterpret_cast<ASN1_VALUE*>(value), item);
    value = nullptr;
  }
  return ItemPtr<T>(value, ItemFree<T>{item});
}

template <typename T>
ItemPtr<T> ItemD2i(const ASN1_ITEM* item, absl::string_view der) {
  return ItemD2i<T>(item, reinterpret_cast<const unsigned char*>(der.data()),
                    static_cast<long>(der.size()));
}

// ItemI2d DER-encodes `value` of type `item` ("" on failure).
std::string ItemI2d(const void* value, const ASN1_ITEM* item);

}  // namespace meshid::pki::internal
