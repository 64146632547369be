#include "meshid/pki/certificate.h"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "meshid/pki/openssl_error.h"
#include "ossl_util.h"
#include "pem_util.h"
#include "san_util.h"

namespace meshid::pki {

using internal::BioPtr;
using internal::GeneralNamesPtr;

absl::StatusOr<Certificate> WrapCertificate(X509* owned) {
  if (owned == nullptr) return absl::InternalError("null certificate");
  return Certificate(internal::SharedX509(owned));
}

namespace {

// SanNames returns the names of `type` (GEN_URI or GEN_DNS) in the subjectAltName.
std::vector<std::string> SanNames(X509* cert, int type) {
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) ClearOpenSslErrors();
  return internal::NamesOfType(names.get(), type);
}

const X509_EXTENSION* FindExtension(X509* cert, int nid) {
  int idx = X509_get_ext_by_NID(cert, nid, -1);
  return idx < 0 ? nullptr : X509_get_ext(cert, idx);
}

}  // namespace

absl::StatusOr<Certificate> Certificate::FromDer(absl::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (cert == nullptr) return OpenSslError("d2i_X509", absl::StatusCode::kInvalidArgument);
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    X509_free(cert);
    return absl::InvalidArgumentError("trailing bytes after the DER certificate");
  }
  return WrapCertificate(cert);
}

absl::StatusOr<Certificate> Certificate::FromPem(absl::string_view pem) {
  absl::StatusOr<std::vector<Certificate>> certs = ParseCertificates(pem);
  if (!certs.ok()) return certs.status();
  if (certs->size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("holds ", certs->size(), " certificates, expected one"));
  }
  return std::move(certs->front());
}

std::string Certificate::ToDer() const { return internal::I2dString(cert_.get(), i2d_X509); }

std::string Certificate::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert_.get()) != 1) return "";
  return internal::BioContents(bio.get());
}

std::string Certificate::subject() const {
  return internal::NameToString(X509_get_subject_name(cert_.get()));
}

std::string Certificate::issuer() const {
  return internal::NameToString(X509_get_issuer_name(cert_.get()));
}

std::string Certificate::serial_hex() const {
  internal::BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert_.get()), nullptr));
  if (!bn) return "";
  char* hex = BN_bn2hex(bn.get());
  std::string out = absl::AsciiStrToLower(hex);
  OPENSSL_free(hex);
  return out;
}

absl::Time Certificate::not_before() const {
  return internal::AsnTimeToTime(X509_get0_notBefore(cert_.get()));
}

absl::Time Certificate::not_after() const {
  return internal::AsnTimeToTime(X509_get0_notAfter(cert_.get()));
}

std::vector<std::string> Certificate::uri_sans() const { return SanNames(cert_.get(), GEN_URI); }
std::vector<std::string> Certificate::dns_sans() const { return SanNames(cert_.get(), GEN_DNS); }

bool Certificate::has_san() const {
  return FindExtension(cert_.get(), NID_subject_alt_name) != nullptr;
}

bool Certificate::san_critical() const {
  const X509_EXTENSION* ext = FindExtension(cert_.get(), NID_subject_alt_name);
  return ext != nullptr && X509_EXTENSION_get_critical(ext) == 1;
}

absl::StatusOr<SpiffeId> Certificate::spiffe_id() const {
  std::vector<std::string> uris = uri_sans();
  if (uris.empty()) return absl::NotFoundError("the certificate has no URI SAN");
  if (uris.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("the certificate has ", uris.size(), " URI SANs; an SVID has exactly one"));
  }
  return SpiffeId::Parse(uris.front());
}

bool Certificate::has_invalid_extensions() const {
  return (X509_get_extension_flags(cert_.get()) & EXFLAG_INVALID) != 0;
}

bool Certificate::is_ca() const {
  uint32_t flags = X509_get_extension_flags(cert_.get());
  return (flags & EXFLAG_BCONS) != 0 && (flags & EXFLAG_CA) != 0;
}

std::optional<int> Certificate::path_len() const {
  long len = X509_get_pathlen(cert_.get());
  if (len < 0) return std::nullopt;
  return static_cast<int>(len);
}

KeyUsage Certificate::key_usage() const {
  KeyUsage ku;
  const X509_EXTENSION* ext = FindExtension(cert_.get(), NID_key_usage);
  if (ext == nullptr) return ku;
  ku.present = true;
  ku.critical = X509_EXTENSION_get_critical(ext) == 1;
  uint32_t bits = X509_get_key_usage(cert_.get());
  ku.digital_signature = (bits & KU_DIGITAL_SIGNATURE) != 0;
  ku.key_encipherment = (bits & KU_KEY_ENCIPHERMENT) != 0;
  ku.key_agreement = (bits & KU_KEY_AGREEMENT) != 0;
  ku.key_cert_sign = (bits & KU_KEY_CERT_SIGN) != 0;
  ku.crl_sign = (bits & KU_CRL_SIGN) != 0;
  return ku;
}

std::vector<std::string> KeyUsage::Names() const {
  std::vector<std::string> names;
  if (digital_signature) names.emplace_back("digitalSignature");
  if (key_encipherment) names.emplace_back("keyEncipherment");
  if (key_agreement) names.emplace_back("keyAgreement");
  if (key_cert_sign) names.emplace_back("keyCertSign");
  if (crl_sign) names.emplace_back("cRLSign");
  return names;
}

ExtendedKeyUsage Certificate::extended_key_usage() const {
  ExtendedKeyUsage eku;
  internal::ExtendedKeyUsagePtr ext(static_cast<EXTENDED_KEY_USAGE*>(
      X509_get_ext_d2i(cert_.get(), NID_ext_key_usage, nullptr, nullptr)));
  if (!ext) {
    ClearOpenSslErrors();
    return eku;
  }
  eku.present = true;
  for (int i = 0; i < sk_ASN1_OBJECT_num(ext.get()); ++i) {
    const ASN1_OBJECT* obj = sk_ASN1_OBJECT_value(ext.get(), i);
    int nid = OBJ_obj2nid(obj);
    if (nid == NID_server_auth) eku.server_auth = true;
    if (nid == NID_client_auth) eku.client_auth = true;
    if (nid == NID_anyExtendedKeyUsage) eku.any = true;
    if (nid != NID_undef) {
      eku.names.emplace_back(OBJ_nid2sn(nid));
    } else {
      char buf[80];
      OBJ_obj2txt(buf, sizeof(buf), obj, 1);
      eku.names.emplace_back(buf);
    }
  }
  return eku;
}

std::string Certificate::subject_key_id() const {
  const ASN1_OCTET_STRING* id = X509_get0_subject_key_id(cert_.get());
  if (id == nullptr) return "";
  return internal::HexColon(ASN1_STRING_get0_data(id), static_cast<size_t>(ASN1_STRING_length(id)));
}

std::string Certificate::authority_key_id() const {
  const ASN1_OCTET_STRING* id = X509_get0_authority_key_id(cert_.get());
  if (id == nullptr) return "";
  return internal::HexColon(ASN1_STRING_get0_data(id), static_cast<size_t>(ASN1_STRING_length(id)));
}

std::string Certificate::sha256_fingerprint() const {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert_.get(), EVP_sha256(), md, &len) != 1) return "";
  return internal::HexColon(md, len);
}

PublicKey Certificate::public_key() const {
  EVP_PKEY* key = X509_get_pubkey(cert_.get());
  if (key != nullptr) return PublicKey(internal::SharedPkey(key));
  // A certificate meshid just issued from a copied SubjectPublicKeyInfo has no decoded key
  // in memory (see SetSubjectPublicKey): decode it from its encoding.
  ClearOpenSslErrors();
  std::string spki = internal::I2dString(X509_get_X509_PUBKEY(cert_.get()), i2d_X509_PUBKEY);
  const auto* p = reinterpret_cast<const unsigned char*>(spki.data());
  key = spki.empty() ? nullptr : d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size()));
  if (key == nullptr) ClearOpenSslErrors();
  return PublicKey(internal::SharedPkey(key), std::move(spki));
}

std::string Certificate::signature_algorithm() const {
  int nid = X509_get_signature_nid(cert_.get());
  return nid == NID_undef ? "unknown" : OBJ_nid2ln(nid);
}

bool Certificate::weak_signature() const {
  int md_nid = NID_undef;
  int pk_nid = NID_undef;
  if (OBJ_find_sigid_algs(X509_get_signature_nid(cert_.get()), &md_nid, &pk_nid) != 1) {
    return false;
  }
  return md_nid == NID_sha1 || md_nid == NID_md5 || md_nid == NID_md4 || md_nid == NID_md2 ||
         md_nid == NID_md5_sha1;
}

bool Certificate::IsSelfSigned() const {
  int rc = X509_self_signed(cert_.get(), 1);
  ClearOpenSslErrors();
  return rc == 1;
}

bool Certificate::IsIssuedBy(const Certificate& issuer) const {
  if (X509_check_issued(issuer.get0(), cert_.get()) != X509_V_OK) return false;
  EVP_PKEY* key = X509_get0_pubkey(issuer.get0());
  bool ok = key != nullptr && X509_verify(cert_.get(), key) == 1;
  ClearOpenSslErrors();
  return ok;
}

bool operator==(const Certificate& a, const Certificate& b) {
  return X509_cmp(a.cert_.get(), b.cert_.get()) == 0;
}

absl::StatusOr<std::vector<Certificate>> ParseCertificates(absl::string_view data) {
  if (data.empty()) return absl::InvalidArgumentError("file is empty, expected a certificate");
  std::vector<Certificate> certs;
  if (internal::LooksLikePem(data)) {
    absl::StatusOr<std::vector<internal::PemBlock>> blocks = internal::ReadPemBlocks(data);
    if (!blocks.ok()) return blocks.status();
    std::string other;
    for (size_t i = 0; i < blocks->size(); ++i) {
      const internal::PemBlock& block = (*blocks)[i];
      if (block.type != "CERTIFICATE" && block.type != "X509 CERTIFICATE") {
        if (other.empty()) other = block.type;
        continue;
      }
      absl::StatusOr<Certificate> cert = Certificate::FromDer(block.der);
      if (!cert.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "PEM block ", i + 1, " is not a valid certificate: ", cert.status().message()));
      }
      certs.push_back(*std::move(cert));
    }
    if (certs.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("holds a PEM \"", other, "\", not a certificate"));
    }
    return certs;
  }
  // DER: one certificate or several concatenated.
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const auto* end = p + data.size();
  while (p < end) {
    X509* cert = d2i_X509(nullptr, &p, static_cast<long>(end - p));
    if (cert == nullptr) {
      ClearOpenSslErrors();
      if (certs.empty()) {
        return absl::InvalidArgumentError("not a certificate: neither PEM nor DER X.509");
      }
      return absl::InvalidArgumentError(
          absl::StrCat("bytes after DER certificate ", certs.size(), " are not a certificate"));
    }
    certs.push_back(*WrapCertificate(cert));
  }
  return certs;
}

std::string ToPem(absl::Span<const Certificate> certs) {
  std::string out;
  for (const Certificate& c : certs) out += c.ToPem();
  return out;
}

std::string ToDer(absl::Span<const Certificate> certs) {
  std::string out;
  for (const Certificate& c : certs) out += c.ToDer();
  return out;
}

}  // namespace meshid::pki
