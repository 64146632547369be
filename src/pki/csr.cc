#include "meshid/pki/csr.h"

#include <openssl/pem.h>

#include "absl/strings/str_cat.h"
#include "meshid/pki/openssl_error.h"
#include "ossl_util.h"
#include "pem_util.h"
#include "san_util.h"

namespace meshid::pki {
namespace {

using internal::BioPtr;
using internal::X509ReqPtr;

std::vector<std::string> ReqSanNames(X509_REQ* req, int type) {
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req);
  if (exts == nullptr) {
    ClearOpenSslErrors();
    return {};
  }
  internal::GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts, NID_subject_alt_name, nullptr, nullptr)));
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  return internal::NamesOfType(names.get(), type);
}

}  // namespace

absl::StatusOr<CertificateRequest> CertificateRequest::Create(
    const PrivateKey& key, const SpiffeId& id, absl::Span<const std::string> dns_names) {
  X509ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), 0) != 1 ||
      X509_REQ_set_pubkey(req.get(), key.get0()) != 1) {
    return OpenSslError("X509_REQ_new");
  }
  absl::StatusOr<internal::X509ExtensionPtr> san =
      internal::MakeSanExtension(id.ToString(), dns_names, /*critical=*/false);
  if (!san.ok()) return san.status();
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  if (exts == nullptr || sk_X509_EXTENSION_push(exts, san->get()) == 0 ||
      X509_REQ_add_extensions(req.get(), exts) != 1) {
    sk_X509_EXTENSION_free(exts);
    return OpenSslError("X509_REQ_add_extensions");
  }
  sk_X509_EXTENSION_free(exts);  // the extension itself is still owned by `san`
  const EVP_MD* md = internal::DigestFor(key.get0());
  if (X509_REQ_sign(req.get(), key.get0(), md) <= 0) return OpenSslError("X509_REQ_sign");
  return CertificateRequest(std::shared_ptr<X509_REQ>(req.release(), X509_REQ_free));
}

absl::StatusOr<CertificateRequest> CertificateRequest::Parse(absl::string_view data) {
  if (data.empty()) return absl::InvalidArgumentError("file is empty, expected a CSR");
  if (data.size() > kMaxCsrBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("CSR is ", data.size(), " bytes, more than the ", kMaxCsrBytes, " allowed"));
  }
  X509_REQ* raw = nullptr;
  if (internal::LooksLikePem(data)) {
    absl::StatusOr<std::vector<internal::PemBlock>> blocks = internal::ReadPemBlocks(data);
    if (!blocks.ok()) return blocks.status();
    const internal::PemBlock* found = nullptr;
    for (const internal::PemBlock& b : *blocks) {
      if (b.type == "CERTIFICATE REQUEST" || b.type == "NEW CERTIFICATE REQUEST") {
        if (found != nullptr) {
          return absl::InvalidArgumentError("holds more than one CSR, expected one");
        }
        found = &b;
      }
    }
    if (found == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("holds a PEM \"", blocks->front().type, "\", not a CSR"));
    }
    const auto* p = reinterpret_cast<const unsigned char*>(found->der.data());
    raw = d2i_X509_REQ(nullptr, &p, static_cast<long>(found->der.size()));
  } else {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    raw = d2i_X509_REQ(nullptr, &p, static_cast<long>(data.size()));
  }
  if (raw == nullptr) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError("not a valid PKCS#10 certificate request");
  }
  X509ReqPtr req(raw);
  EVP_PKEY* pub = X509_REQ_get0_pubkey(req.get());
  if (pub == nullptr) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError("the CSR's public key cannot be read");
  }
  if (X509_REQ_verify(req.get(), pub) != 1) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError(
        "the CSR's signature does not verify with its own public key");
  }
  return CertificateRequest(std::shared_ptr<X509_REQ>(req.release(), X509_REQ_free));
}

std::string CertificateRequest::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), req_.get()) != 1) return "";
  return internal::BioContents(bio.get());
}

std::string CertificateRequest::ToDer() const {
  return internal::I2dString(req_.get(), i2d_X509_REQ);
}

PublicKey CertificateRequest::public_key() const {
  EVP_PKEY* key = X509_REQ_get_pubkey(req_.get());
  return PublicKey(internal::SharedPkey(key));
}

std::vector<std::string> CertificateRequest::uri_sans() const {
  return ReqSanNames(req_.get(), GEN_URI);
}

bool CertificateRequest::RequestsCa() const {
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req_.get());
  if (exts == nullptr) {
    ClearOpenSslErrors();
    return false;
  }
  auto* bc = static_cast<BASIC_CONSTRAINTS*>(
      X509V3_get_d2i(exts, NID_basic_constraints, nullptr, nullptr));
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  bool ca = bc != nullptr && bc->ca != 0;
  BASIC_CONSTRAINTS_free(bc);
  ClearOpenSslErrors();
  return ca;
}

std::vector<std::string> CertificateRequest::dns_sans() const {
  return ReqSanNames(req_.get(), GEN_DNS);
}

}  // namespace meshid::pki
