#pragma once

// Private to the pki module: RAII handles and small helpers over OpenSSL.

#include <memory>
#include <string>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "meshid/pki/certificate.h"
#include "meshid/pki/key.h"

namespace meshid::pki {

// WrapCertificate takes ownership of `owned`.
absl::StatusOr<Certificate> WrapCertificate(X509* owned);

namespace internal {

template <typename T, void (*Free)(T*)>
struct OsslFree {
  void operator()(T* p) const noexcept { Free(p); }
};

// OsslPtr owns an OpenSSL object and frees it with `Free`.
template <typename T, void (*Free)(T*)>
using OsslPtr = std::unique_ptr<T, OsslFree<T, Free>>;

using BioPtr = OsslPtr<BIO, BIO_free_all>;
using BignumPtr = OsslPtr<BIGNUM, BN_free>;
using EvpPkeyPtr = OsslPtr<EVP_PKEY, EVP_PKEY_free>;
using X509Ptr = OsslPtr<X509, X509_free>;
using X509ReqPtr = OsslPtr<X509_REQ, X509_REQ_free>;
using X509ExtensionPtr = OsslPtr<X509_EXTENSION, X509_EXTENSION_free>;
using X509NamePtr = OsslPtr<X509_NAME, X509_NAME_free>;
using X509StorePtr = OsslPtr<X509_STORE, X509_STORE_free>;
using X509StoreCtxPtr = OsslPtr<X509_STORE_CTX, X509_STORE_CTX_free>;
using GeneralNamesPtr = OsslPtr<GENERAL_NAMES, GENERAL_NAMES_free>;
using ExtendedKeyUsagePtr = OsslPtr<EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free>;

struct X509StackFree {
  void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_pop_free(s, X509_free); }
};
// X509StackPtr owns a stack and a reference to each certificate in it.
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;

// SharedX509 and SharedPkey take ownership of one reference.
std::shared_ptr<X509> SharedX509(X509* owned);
std::shared_ptr<EVP_PKEY> SharedPkey(EVP_PKEY* owned);

// MemBio returns a read-only memory BIO over `data`, which must outlive it.
BioPtr MemBio(absl::string_view data);
// BioContents returns everything written to a memory BIO.
std::string BioContents(BIO* bio);

// AsnTimeToTime converts an ASN1_TIME to absl::Time (InfinitePast on a malformed time).
absl::Time AsnTimeToTime(const ASN1_TIME* t);

// HexColon renders bytes as "AB:CD:..".
std::string HexColon(const unsigned char* data, size_t len);

// NameToString renders an X509_NAME in RFC 2253 form.
std::string NameToString(const X509_NAME* name);

// I2dString DER-encodes `obj` with OpenSSL's i2d function for its type ("" on failure).
template <typename T>
std::string I2dString(const T* obj, int (*i2d)(const T*, unsigned char**)) {
  unsigned char* der = nullptr;
  int len = i2d(obj, &der);
  if (len <= 0) return "";
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

// SetSubjectPublicKey puts `key` in `cert`: its SubjectPublicKeyInfo as received when known
// (no re-encoding), else through X509_set_pubkey.
absl::Status SetSubjectPublicKey(X509* cert, const PublicKey& key);

// DescribeKey describes any public or private key.
PublicKeyInfo DescribeKey(const EVP_PKEY* key);

// LooksLikePem reports whether `data` contains a PEM begin line.
bool LooksLikePem(absl::string_view data);

}  // namespace internal
}  // namespace meshid::pki
