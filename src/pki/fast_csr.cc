// The CA's hot path: CSR parsing that avoids OpenSSL 3.0's generic key decoding.
//
// Decoding an X509_REQ makes OpenSSL 3.0 decode its SubjectPublicKeyInfo through the
// OSSL_DECODER framework, which rebuilds its decoder set on every call (~0.12 ms on this
// class of machine, openssl/openssl#20051): more than the ECDSA verification itself. The
// templates below describe the same DER with the key as plain algorithm + bits; an EC key is
// then made from a per-curve template plus its point (~4.5 µs; other types through
// EVP_PKEY_fromdata), and the signature verified over the original encoding of
// certificationRequestInfo.

#include <map>
#include <mutex>
#include <optional>

#include <openssl/asn1t.h>
#include <openssl/core_names.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "absl/strings/str_cat.h"
#include "asn1_util.h"
#include "meshid/base/status.h"
#include "meshid/pki/csr.h"
#include "meshid/pki/openssl_error.h"
#include "ossl_util.h"
#include "pem_util.h"

// clang-format cannot lay out OpenSSL's ASN.1 template macros.
// clang-format off
extern "C" {

ASN1_SEQUENCE_enc(MESHID_SPKI, enc, 0) = {
  ASN1_SIMPLE(MESHID_SPKI, algorithm, X509_ALGOR),
  ASN1_SIMPLE(MESHID_SPKI, public_key, ASN1_BIT_STRING),
} ASN1_SEQUENCE_END_enc(MESHID_SPKI, MESHID_SPKI)

// certificationRequestInfo (RFC 2986), keeping its encoding for the signature check. The
// subject is kept as undecoded DER: a CA ignores it, and decoding a Name is not free.
typedef struct meshid_csr_info_st {
  ASN1_ENCODING enc;
  ASN1_INTEGER* version;
  ASN1_TYPE* subject;
  MESHID_SPKI* spki;
  STACK_OF(X509_ATTRIBUTE)* attributes;
} MESHID_CSR_INFO;

ASN1_SEQUENCE_enc(MESHID_CSR_INFO, enc, 0) = {
  ASN1_SIMPLE(MESHID_CSR_INFO, version, ASN1_INTEGER),
  ASN1_SIMPLE(MESHID_CSR_INFO, subject, ASN1_ANY),
  ASN1_SIMPLE(MESHID_CSR_INFO, spki, MESHID_SPKI),
  ASN1_IMP_SET_OF_OPT(MESHID_CSR_INFO, attributes, X509_ATTRIBUTE, 0),
} ASN1_SEQUENCE_END_enc(MESHID_CSR_INFO, MESHID_CSR_INFO)

typedef struct meshid_csr_st {
  MESHID_CSR_INFO* info;
  X509_ALGOR* signature_algorithm;
  ASN1_BIT_STRING* signature;
} MESHID_CSR;

ASN1_SEQUENCE(MESHID_CSR) = {
  ASN1_SIMPLE(MESHID_CSR, info, MESHID_CSR_INFO),
  ASN1_SIMPLE(MESHID_CSR, signature_algorithm, X509_ALGOR),
  ASN1_SIMPLE(MESHID_CSR, signature, ASN1_BIT_STRING),
} ASN1_SEQUENCE_END(MESHID_CSR)

// RSAPublicKey (RFC 8017).
typedef struct meshid_rsa_public_st {
  ASN1_INTEGER* n;
  ASN1_INTEGER* e;
} MESHID_RSA_PUBLIC;

ASN1_SEQUENCE(MESHID_RSA_PUBLIC) = {
  ASN1_SIMPLE(MESHID_RSA_PUBLIC, n, ASN1_INTEGER),
  ASN1_SIMPLE(MESHID_RSA_PUBLIC, e, ASN1_INTEGER),
} ASN1_SEQUENCE_END(MESHID_RSA_PUBLIC)

}  // extern "C"
// clang-format on

namespace meshid::pki {
namespace {

using internal::ItemD2i;
using internal::ItemPtr;

// FromData imports a public key of `type` from OSSL_PARAMs.
EVP_PKEY* FromData(const char* type, OSSL_PARAM* params) {
  internal::OsslPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    return nullptr;
  }
  return key;
}

// EcTemplate returns a parameters-only key of the named curve, made once per curve: a key
// duplicated from it gets its point without OpenSSL building the curve's group again.
EVP_PKEY* EcTemplate(const char* group) {
  static std::mutex mu;
  static auto* templates = new std::map<std::string, EVP_PKEY*>();  // never freed
  std::lock_guard<std::mutex> lock(mu);
  auto it = templates->find(group);
  if (it != templates->end()) return it->second;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(group), 0),
      OSSL_PARAM_construct_end()};
  internal::OsslPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_KEY_PARAMETERS, params) != 1) {
    return nullptr;
  }
  templates->emplace(group, key);
  return key;
}

// ImportKey builds an EVP_PKEY from SubjectPublicKeyInfo parts for the key types meshid
// issues to (EC named curves, RSA, Ed25519, Ed448); nullptr for anything else.
EVP_PKEY* ImportKey(const MESHID_SPKI& spki) {
  const ASN1_OBJECT* algorithm = nullptr;
  int param_type = 0;
  const void* param = nullptr;
  X509_ALGOR_get0(&algorithm, &param_type, &param, spki.algorithm);
  const unsigned char* bits = ASN1_STRING_get0_data(spki.public_key);
  int bits_len = ASN1_STRING_length(spki.public_key);
  switch (OBJ_obj2nid(algorithm)) {
    case NID_X9_62_id_ecPublicKey: {
      if (param_type != V_ASN1_OBJECT) return nullptr;  // explicit curves: not for us
      const char* group = OBJ_nid2sn(OBJ_obj2nid(static_cast<const ASN1_OBJECT*>(param)));
      EVP_PKEY* tmpl = group != nullptr ? EcTemplate(group) : nullptr;
      if (tmpl == nullptr) return nullptr;
      // The point is decoded and checked to lie on the curve (EC_POINT_oct2point).
      EVP_PKEY* key = EVP_PKEY_dup(tmpl);
      if (key != nullptr && EVP_PKEY_set1_encoded_public_key(key, bits, bits_len) != 1) {
        EVP_PKEY_free(key);
        return nullptr;
      }
      return key;
    }
    case NID_rsaEncryption: {
      ItemPtr<MESHID_RSA_PUBLIC> rsa =
          ItemD2i<MESHID_RSA_PUBLIC>(ASN1_ITEM_rptr(MESHID_RSA_PUBLIC), bits, bits_len);
      if (!rsa) return nullptr;
      internal::BignumPtr n(ASN1_INTEGER_to_BN(rsa->n, nullptr));
      internal::BignumPtr e(ASN1_INTEGER_to_BN(rsa->e, nullptr));
      internal::OsslPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free> build(OSSL_PARAM_BLD_new());
      if (!n || !e || !build ||
          OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
          OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
        return nullptr;
      }
      internal::OsslPtr<OSSL_PARAM, OSSL_PARAM_free> params(OSSL_PARAM_BLD_to_param(build.get()));
      return params ? FromData("RSA", params.get()) : nullptr;
    }
    case NID_ED25519:
      return EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, bits, bits_len);
    case NID_ED448:
      return EVP_PKEY_new_raw_public_key_ex(nullptr, "ED448", nullptr, bits, bits_len);
    default:
      return nullptr;
  }
}

// SpkiIsDer reports whether a SubjectPublicKeyInfo came in DER. OpenSSL's decoder also takes
// BER (long-form or indefinite lengths, a constructed BIT STRING) and unused bits in the key,
// and issuance copies the SubjectPublicKeyInfo into the leaf as received.
bool SpkiIsDer(MESHID_SPKI& spki) {
  if ((spki.public_key->flags & 0x07) != 0) return false;
  const std::string received(reinterpret_cast<const char*>(spki.enc.enc),
                             static_cast<size_t>(spki.enc.len));
  spki.enc.modified = 1;  // encode the decoded fields instead of returning `received`
  const std::string der = internal::ItemI2d(&spki, ASN1_ITEM_rptr(MESHID_SPKI));
  spki.enc.modified = 0;
  return der == received;
}

// Sha2 returns SHA-256, SHA-384 or SHA-512 by NID, fetched once per process.
const EVP_MD* Sha2(int nid) {
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  static EVP_MD* const sha384 = EVP_MD_fetch(nullptr, "SHA384", nullptr);
  static EVP_MD* const sha512 = EVP_MD_fetch(nullptr, "SHA512", nullptr);
  switch (nid) {
    case NID_sha256:
      return sha256;
    case NID_sha384:
      return sha384;
    case NID_sha512:
      return sha512;
    default:
      return nullptr;
  }
}

// VerifiesEcdsa checks an ecdsa-with-SHA256/384/512 signature on `csr` with its EC `key`
// the way ASN1_item_verify does (whole-byte BIT STRING, the digest of the received
// certificationRequestInfo), minus the per-call digest fetch and context copy of
// EVP_DigestVerify; nullopt for any other algorithm or key, which ASN1_item_verify handles.
std::optional<bool> VerifiesEcdsa(const MESHID_CSR& csr, EVP_PKEY* key) {
  int md_nid = NID_undef;
  int pkey_nid = NID_undef;
  const ASN1_OBJECT* algorithm = nullptr;
  X509_ALGOR_get0(&algorithm, nullptr, nullptr, csr.signature_algorithm);
  if (OBJ_find_sigid_algs(OBJ_obj2nid(algorithm), &md_nid, &pkey_nid) != 1 ||
      pkey_nid != NID_X9_62_id_ecPublicKey || EVP_PKEY_is_a(key, "EC") != 1) {
    return std::nullopt;
  }
  const EVP_MD* md = Sha2(md_nid);
  if (md == nullptr) return std::nullopt;
  if ((csr.signature->flags & 0x07) != 0) return false;  // not whole bytes
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  const ASN1_ENCODING& tbs = csr.info->enc;
  internal::OsslPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free> ctx(
      EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  return ctx &&
         EVP_Digest(tbs.enc, static_cast<size_t>(tbs.len), digest, &digest_len, md, nullptr) == 1 &&
         EVP_PKEY_verify_init(ctx.get()) == 1 &&
         EVP_PKEY_verify(ctx.get(), ASN1_STRING_get0_data(csr.signature),
                         static_cast<size_t>(ASN1_STRING_length(csr.signature)), digest,
                         digest_len) == 1;
}

// RequestsCaIn reports whether the extensionRequest attribute asks for CA:true.
bool RequestsCaIn(const STACK_OF(X509_ATTRIBUTE) * attributes) {
  for (int i = 0; i < sk_X509_ATTRIBUTE_num(attributes); ++i) {
    X509_ATTRIBUTE* attr = sk_X509_ATTRIBUTE_value(attributes, i);
    if (OBJ_obj2nid(X509_ATTRIBUTE_get0_object(attr)) != NID_ext_req) continue;
    ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(attr, 0);
    if (value == nullptr || value->type != V_ASN1_SEQUENCE) continue;
    auto* exts = static_cast<STACK_OF(X509_EXTENSION)*>(
        ASN1_item_unpack(value->value.sequence, ASN1_ITEM_rptr(X509_EXTENSIONS)));
    auto* bc = static_cast<BASIC_CONSTRAINTS*>(
        X509V3_get_d2i(exts, NID_basic_constraints, nullptr, nullptr));
    bool ca = bc != nullptr && bc->ca != 0;
    BASIC_CONSTRAINTS_free(bc);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    if (ca) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<CsrPublicKey> ParseCsrPublicKey(absl::string_view data) {
  if (data.empty()) return absl::InvalidArgumentError("file is empty, expected a CSR");
  if (data.size() > kMaxCsrBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("CSR is ", data.size(), " bytes, more than the ", kMaxCsrBytes, " allowed"));
  }
  if (internal::LooksLikePem(data)) {
    // PEM is rare on this path (agents send DER); take the general route for it.
    MESHID_ASSIGN_OR_RETURN(CertificateRequest csr, CertificateRequest::Parse(data));
    return CsrPublicKey{csr.public_key(), csr.RequestsCa()};
  }
  ItemPtr<MESHID_CSR> csr = ItemD2i<MESHID_CSR>(ASN1_ITEM_rptr(MESHID_CSR), data);
  // The subject is not decoded (a CA ignores it), but it has to be a SEQUENCE, as a Name is.
  if (!csr || csr->info->subject->type != V_ASN1_SEQUENCE) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError("not a valid PKCS#10 certificate request");
  }
  if (!SpkiIsDer(*csr->info->spki)) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError(
        "the CSR's public key is not DER-encoded, and a certificate must carry it in DER "
        "(RFC 5280)");
  }
  EVP_PKEY* raw = ImportKey(*csr->info->spki);
  if (raw == nullptr) {
    // A key type outside meshid's set: the general route knows every type OpenSSL does.
    ClearOpenSslErrors();
    MESHID_ASSIGN_OR_RETURN(CertificateRequest general, CertificateRequest::Parse(data));
    return CsrPublicKey{general.public_key(), general.RequestsCa()};
  }
  std::shared_ptr<EVP_PKEY> key = internal::SharedPkey(raw);
  std::optional<bool> verified = VerifiesEcdsa(*csr, key.get());
  if (!verified.has_value()) {
    verified = ASN1_item_verify(ASN1_ITEM_rptr(MESHID_CSR_INFO), csr->signature_algorithm,
                                csr->signature, csr->info, key.get()) == 1;
  }
  if (!*verified) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError(
        "the CSR's signature does not verify with its own public key");
  }
  // The SubjectPublicKeyInfo as received (its encoding is kept by the decoder).
  const ASN1_ENCODING& enc = csr->info->spki->enc;
  std::string spki(reinterpret_cast<const char*>(enc.enc), static_cast<size_t>(enc.len));
  return CsrPublicKey{PublicKey(std::move(key), std::move(spki)),
                      RequestsCaIn(csr->info->attributes)};
}

namespace internal {

absl::Status SetSubjectPublicKey(X509* cert, const PublicKey& key) {
  if (key.spki_der().empty()) {
    if (X509_set_pubkey(cert, key.get0()) != 1) return OpenSslError("X509_set_pubkey");
    return absl::OkStatus();
  }
  // Copy the SubjectPublicKeyInfo as it was received, without re-encoding the key.
  const std::string& der = key.spki_der();
  ItemPtr<MESHID_SPKI> spki = ItemD2i<MESHID_SPKI>(ASN1_ITEM_rptr(MESHID_SPKI), der);
  if (!spki) return OpenSslError("d2i(SubjectPublicKeyInfo)");
  const ASN1_OBJECT* algorithm = nullptr;
  int param_type = 0;
  const void* param = nullptr;
  X509_ALGOR_get0(&algorithm, &param_type, &param, spki->algorithm);
  void* param_copy = nullptr;
  if (param_type == V_ASN1_OBJECT) {
    param_copy = OBJ_dup(static_cast<const ASN1_OBJECT*>(param));
  } else if (param_type != V_ASN1_NULL && param_type != V_ASN1_UNDEF) {
    param_copy = ASN1_STRING_dup(static_cast<const ASN1_STRING*>(param));
  }
  int bits_len = ASN1_STRING_length(spki->public_key);
  auto* bits = static_cast<unsigned char*>(
      OPENSSL_memdup(ASN1_STRING_get0_data(spki->public_key), static_cast<size_t>(bits_len)));
  if (X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(cert), OBJ_dup(algorithm), param_type, param_copy,
                             bits, bits_len) != 1) {
    return OpenSslError("X509_PUBKEY_set0_param");
  }
  return absl::OkStatus();
}

std::string ItemI2d(const void* value, const ASN1_ITEM* item) {
  unsigned char* der = nullptr;
  int len = ASN1_item_i2d(static_cast<const ASN1_VALUE*>(value), &der, item);
  if (len <= 0) return "";
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace internal
}  // namespace meshid::pki
