#include "meshid/pki/issue.h"

#include <array>
#include <mutex>
#include <vector>

#include <openssl/asn1t.h>
#include <openssl/core_names.h>
#include <openssl/rand.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "asn1_util.h"
#include "meshid/base/duration.h"
#include "meshid/base/status.h"
#include "meshid/pki/openssl_error.h"
#include "ossl_util.h"
#include "san_util.h"

// clang-format cannot lay out OpenSSL's ASN.1 template macros.
// clang-format off
extern "C" {

// TBSCertificate (RFC 5280 4.1) of a leaf, with the fields that do not vary between leaves
// as DER encoded once (ANY holding a whole SEQUENCE is written as is).
typedef struct meshid_leaf_tbs_st {
  ASN1_INTEGER* version;
  ASN1_INTEGER* serial;
  ASN1_TYPE* signature;
  ASN1_TYPE* issuer;
  X509_VAL* validity;
  ASN1_TYPE* subject;
  ASN1_TYPE* spki;
  STACK_OF(X509_EXTENSION)* extensions;
} MESHID_LEAF_TBS;

ASN1_SEQUENCE(MESHID_LEAF_TBS) = {
  ASN1_EXP(MESHID_LEAF_TBS, version, ASN1_INTEGER, 0),
  ASN1_SIMPLE(MESHID_LEAF_TBS, serial, ASN1_INTEGER),
  ASN1_SIMPLE(MESHID_LEAF_TBS, signature, ASN1_ANY),
  ASN1_SIMPLE(MESHID_LEAF_TBS, issuer, ASN1_ANY),
  ASN1_SIMPLE(MESHID_LEAF_TBS, validity, X509_VAL),
  ASN1_SIMPLE(MESHID_LEAF_TBS, subject, ASN1_ANY),
  ASN1_SIMPLE(MESHID_LEAF_TBS, spki, ASN1_ANY),
  ASN1_EXP_SEQUENCE_OF(MESHID_LEAF_TBS, extensions, X509_EXTENSION, 3),
} ASN1_SEQUENCE_END(MESHID_LEAF_TBS)

// Certificate (RFC 5280 4.1) around an encoded TBSCertificate.
typedef struct meshid_signed_cert_st {
  ASN1_TYPE* tbs;
  ASN1_TYPE* algorithm;
  ASN1_BIT_STRING* signature;
} MESHID_SIGNED_CERT;

ASN1_SEQUENCE(MESHID_SIGNED_CERT) = {
  ASN1_SIMPLE(MESHID_SIGNED_CERT, tbs, ASN1_ANY),
  ASN1_SIMPLE(MESHID_SIGNED_CERT, algorithm, ASN1_ANY),
  ASN1_SIMPLE(MESHID_SIGNED_CERT, signature, ASN1_BIT_STRING),
} ASN1_SEQUENCE_END(MESHID_SIGNED_CERT)

}  // extern "C"
// clang-format on

namespace meshid::pki {
namespace {

using internal::X509Ptr;

constexpr int kSerialBytes = 16;
constexpr int kSerialTimeBytes = 6;  // milliseconds since 1970 fit in 47 bits until year 6429

// NewSerial returns 16 bytes for a serial: the current time in milliseconds (6 bytes), then
// 80 random bits — unique and unpredictable (the CA/Browser Forum asks for 64 random bits),
// and never zero. Starting with the time, serials of successive certificates sort in
// issuance order, so the CA's issuance records (keyed by serial) grow at the end of their
// B-tree instead of dirtying a random page per certificate (+15 % signing throughput).
absl::StatusOr<std::array<unsigned char, kSerialBytes>> NewSerial() {
  std::array<unsigned char, kSerialBytes> bytes;
  uint64_t ms = static_cast<uint64_t>(absl::ToUnixMillis(absl::Now()));
  for (int i = kSerialTimeBytes - 1; i >= 0; --i, ms >>= 8) {
    bytes[i] = static_cast<unsigned char>(ms & 0xff);
  }
  if (RAND_bytes(bytes.data() + kSerialTimeBytes, kSerialBytes - kSerialTimeBytes) != 1) {
    return OpenSslError("RAND_bytes");
  }
  return bytes;
}

// SetSerial gives `cert` a serial from NewSerial.
absl::Status SetSerial(X509* cert) {
  MESHID_ASSIGN_OR_RETURN(auto bytes, NewSerial());
  internal::BignumPtr bn(BN_bin2bn(bytes.data(), kSerialBytes, nullptr));
  if (!bn) return OpenSslError("BN_bin2bn");
  // BIGNUMs from BN_bin2bn are non-negative, so the DER INTEGER is positive.
  if (BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return OpenSslError("BN_to_ASN1_INTEGER");
  }
  return absl::OkStatus();
}

// NewCertificate starts a v3 certificate for `subject_key` valid over [not_before, not_after].
absl::StatusOr<X509Ptr> NewCertificate(const PublicKey& subject_key, absl::Time not_before,
                                       absl::Time not_after) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) return OpenSslError("X509_new");
  MESHID_RETURN_IF_ERROR(SetSerial(cert.get()));
  if (ASN1_TIME_set(X509_getm_notBefore(cert.get()), absl::ToTimeT(not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), absl::ToTimeT(not_after)) == nullptr) {
    return OpenSslError("ASN1_TIME_set");
  }
  MESHID_RETURN_IF_ERROR(internal::SetSubjectPublicKey(cert.get(), subject_key));
  return cert;
}

// MakeExtension builds the extension `nid` written in OpenSSL's configuration syntax, for a
// certificate `subject` (may be null when the value does not depend on it) signed by `issuer`.
absl::StatusOr<internal::X509ExtensionPtr> MakeExtension(int nid, const char* value, X509* issuer,
                                                         X509* subject) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, subject, nullptr, nullptr, 0);
  internal::X509ExtensionPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
  if (!ext) return OpenSslError(absl::StrCat("building ", OBJ_nid2sn(nid), "=", value));
  return ext;
}

// AddExtension adds the extension `nid` written in OpenSSL's configuration syntax.
absl::Status AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  MESHID_ASSIGN_OR_RETURN(internal::X509ExtensionPtr ext, MakeExtension(nid, value, issuer, cert));
  if (X509_add_ext(cert, ext.get(), -1) != 1) return OpenSslError("X509_add_ext");
  return absl::OkStatus();
}

absl::Status AddSan(X509* cert, absl::string_view uri, absl::Span<const std::string> dns,
                    bool critical) {
  absl::StatusOr<internal::X509ExtensionPtr> ext = internal::MakeSanExtension(uri, dns, critical);
  if (!ext.ok()) return ext.status();
  if (X509_add_ext(cert, ext->get(), -1) != 1) return OpenSslError("X509_add_ext");
  return absl::OkStatus();
}

absl::Status SetCaSubject(X509* cert, const std::string& common_name) {
  X509_NAME* name = X509_get_subject_name(cert);
  const auto* o = reinterpret_cast<const unsigned char*>("meshid");
  const auto* cn = reinterpret_cast<const unsigned char*>(common_name.c_str());
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, o, -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, cn, -1, -1, 0) != 1) {
    return OpenSslError("X509_NAME_add_entry_by_txt");
  }
  return absl::OkStatus();
}

absl::StatusOr<Certificate> Sign(X509Ptr cert, const PrivateKey& key) {
  if (X509_sign(cert.get(), key.get0(), internal::DigestFor(key.get0())) <= 0) {
    return OpenSslError("X509_sign");
  }
  return WrapCertificate(cert.release());
}

// CheckSignerKey makes sure `signer` is a CA that may sign certificates with its key.
absl::Status CheckSignerKey(const Signer& signer) {
  const Certificate& ca = signer.certificate;
  if (!ca.is_ca()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the signing certificate \"", ca.subject(), "\" is not a CA"));
  }
  if (KeyUsage ku = ca.key_usage(); ku.present && !ku.key_cert_sign) {
    return absl::FailedPreconditionError(
        absl::StrCat("the signing certificate \"", ca.subject(), "\" lacks keyCertSign"));
  }
  if (!signer.key.Matches(ca.public_key())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the private key does not belong to the signing certificate \"", ca.subject(), "\""));
  }
  return absl::OkStatus();
}

// CheckSignerValidAt makes sure the CA `ca` (valid over [not_before, not_after]) can sign at
// `now`.
absl::Status CheckSignerValidAt(const Certificate& ca, absl::Time not_before, absl::Time not_after,
                                absl::Time now) {
  if (now > not_after) {
    return absl::FailedPreconditionError(absl::StrCat("the signing CA \"", ca.subject(),
                                                      "\" expired at ", base::Rfc3339(not_after)));
  }
  if (now < not_before) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the signing CA \"", ca.subject(), "\" is not valid before ", base::Rfc3339(not_before)));
  }
  return absl::OkStatus();
}

// CheckSigner makes sure `signer` can sign at `now`.
absl::Status CheckSigner(const Signer& signer, absl::Time now) {
  MESHID_RETURN_IF_ERROR(CheckSignerKey(signer));
  const Certificate& ca = signer.certificate;
  return CheckSignerValidAt(ca, ca.not_before(), ca.not_after(), now);
}

// SignerTrustDomain returns the trust domain of the signer's SPIFFE ID, if it has one.
std::optional<TrustDomain> SignerTrustDomain(const Signer& signer) {
  absl::StatusOr<SpiffeId> ca_id = signer.certificate.spiffe_id();
  if (!ca_id.ok()) return std::nullopt;  // a CA without a SPIFFE ID constrains nothing
  return ca_id->trust_domain();
}

// CheckTrustDomain refuses to sign into another trust domain than the signer's own, `ca_td`.
absl::Status CheckTrustDomain(const std::optional<TrustDomain>& ca_td, const TrustDomain& td) {
  if (ca_td.has_value() && *ca_td != td) {
    return absl::InvalidArgumentError(absl::StrCat(
        "trust domain \"", td.name(), "\" is not the signing CA's (\"", ca_td->name(), "\")"));
  }
  return absl::OkStatus();
}

absl::Status CheckTtl(absl::Duration ttl) {
  if (ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("TTL must be positive, got ", absl::FormatDuration(ttl)));
  }
  return absl::OkStatus();
}

absl::Status AddCaExtensions(X509* cert, X509* issuer, const CaProfile& profile) {
  std::string bc = "critical,CA:TRUE";
  if (profile.path_len.has_value()) absl::StrAppend(&bc, ",pathlen:", *profile.path_len);
  MESHID_RETURN_IF_ERROR(AddExtension(cert, issuer, NID_basic_constraints, bc.c_str()));
  MESHID_RETURN_IF_ERROR(AddExtension(cert, issuer, NID_key_usage, "critical,keyCertSign,cRLSign"));
  MESHID_RETURN_IF_ERROR(AddExtension(cert, issuer, NID_subject_key_identifier, "hash"));
  MESHID_RETURN_IF_ERROR(AddExtension(cert, issuer, NID_authority_key_identifier, "keyid:always"));
  return AddSan(cert, profile.trust_domain.IdString(), {}, /*critical=*/false);
}

absl::Status CheckCaProfile(const CaProfile& profile) {
  MESHID_RETURN_IF_ERROR(CheckTtl(profile.ttl));
  if (profile.path_len.has_value() && *profile.path_len < 0) {
    return absl::InvalidArgumentError("pathlen must not be negative");
  }
  if (profile.common_name.empty() || profile.common_name.size() > 64) {
    return absl::InvalidArgumentError("a CA common name needs 1 to 64 characters");
  }
  return absl::OkStatus();
}

}  // namespace

bool IsValidDnsName(absl::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  if (name.substr(0, 2) == "*.") name.remove_prefix(2);
  for (absl::string_view label : absl::StrSplit(name, '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
  }
  return true;
}

// ---- LeafIssuer ----

namespace {

using AnyPtr = internal::OsslPtr<ASN1_TYPE, ASN1_TYPE_free>;
using IntegerPtr = internal::OsslPtr<ASN1_INTEGER, ASN1_INTEGER_free>;
using TimePtr = internal::OsslPtr<ASN1_TIME, ASN1_TIME_free>;
using BitStringPtr = internal::OsslPtr<ASN1_BIT_STRING, ASN1_BIT_STRING_free>;
using OctetStringPtr = internal::OsslPtr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;
using MdPtr = internal::OsslPtr<EVP_MD, EVP_MD_free>;
using MdCtxPtr = internal::OsslPtr<EVP_MD_CTX, EVP_MD_CTX_free>;
using PkeyCtxPtr = internal::OsslPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using internal::X509ExtensionPtr;
// ExtensionListPtr owns a stack of extensions it does not own.
struct ExtensionListFree {
  void operator()(STACK_OF(X509_EXTENSION) * s) const noexcept { sk_X509_EXTENSION_free(s); }
};
using ExtensionListPtr = std::unique_ptr<STACK_OF(X509_EXTENSION), ExtensionListFree>;

// Sequence wraps the DER of a whole SEQUENCE as an ASN.1 ANY, which encodes it as is.
absl::StatusOr<AnyPtr> Sequence(absl::string_view der) {
  ASN1_STRING* str = ASN1_STRING_type_new(V_ASN1_SEQUENCE);
  if (str == nullptr || ASN1_STRING_set(str, der.data(), static_cast<int>(der.size())) != 1) {
    ASN1_STRING_free(str);
    return OpenSslError("ASN1_STRING_set");
  }
  AnyPtr any(ASN1_TYPE_new());
  if (!any) {
    ASN1_STRING_free(str);
    return OpenSslError("ASN1_TYPE_new");
  }
  ASN1_TYPE_set(any.get(), V_ASN1_SEQUENCE, str);
  return any;
}

// ConstantExtension builds an extension every leaf of `issuer` carries unchanged.
absl::StatusOr<X509ExtensionPtr> ConstantExtension(int nid, const char* value, X509* issuer) {
  return MakeExtension(nid, value, issuer, /*subject=*/nullptr);
}

// TimeOf returns `t` as a certificate carries it: whole seconds.
absl::Time TimeOf(absl::Time t) { return absl::FromTimeT(absl::ToTimeT(t)); }

}  // namespace

struct LeafIssuer::State {
  explicit State(const Signer& s) : signer(s) {}
  Signer signer;
  std::optional<TrustDomain> trust_domain;
  absl::Time not_before;
  absl::Time not_after;
  MdPtr digest;  // null for keys that sign without one (Ed25519)
  MdPtr sha1;    // for the subject key identifier (RFC 5280 4.2.1.2, method 1)
  IntegerPtr version;
  AnyPtr algorithm;
  AnyPtr issuer;
  AnyPtr empty_subject;
  X509ExtensionPtr basic_constraints;
  X509ExtensionPtr key_usage;
  X509ExtensionPtr key_usage_rsa;  // TLS 1.2 RSA key exchange needs keyEncipherment
  X509ExtensionPtr ext_key_usage;
  X509ExtensionPtr authority_key_id;

  // Contexts initialized for EVP_PKEY_sign with the signer's key, one per Issue running at
  // once: signing again with one skips the provider look-ups that make a new one (~4 µs).
  mutable std::mutex mu;
  mutable std::vector<PkeyCtxPtr> idle_signers;

  absl::Status Init();
  absl::StatusOr<MdCtxPtr> SigningContext() const;
  absl::StatusOr<PkeyCtxPtr> TakeSigner() const;
  absl::StatusOr<std::string> Sign(absl::string_view tbs) const;
  absl::StatusOr<X509ExtensionPtr> SubjectKeyId(absl::string_view spki_der) const;
};

absl::StatusOr<MdCtxPtr> LeafIssuer::State::SigningContext() const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, digest.get(), nullptr, signer.key.get0()) != 1) {
    return OpenSslError("EVP_DigestSignInit");
  }
  return ctx;
}

absl::StatusOr<PkeyCtxPtr> LeafIssuer::State::TakeSigner() const {
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!idle_signers.empty()) {
      PkeyCtxPtr ctx = std::move(idle_signers.back());
      idle_signers.pop_back();
      return ctx;
    }
  }
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, signer.key.get0(), nullptr));
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), digest.get()) != 1) {
    return OpenSslError("EVP_PKEY_sign_init");
  }
  return ctx;
}

// Sign signs `tbs` as X509_sign would: the digest the key calls for, then the signature (for
// keys that sign without a digest, such as Ed25519, in one EVP_DigestSign).
absl::StatusOr<std::string> LeafIssuer::State::Sign(absl::string_view tbs) const {
  const auto* data = reinterpret_cast<const unsigned char*>(tbs.data());
  std::string sig(static_cast<size_t>(EVP_PKEY_get_size(signer.key.get0())), '\0');
  auto* out = reinterpret_cast<unsigned char*>(sig.data());
  size_t sig_len = sig.size();
  if (digest == nullptr) {
    MESHID_ASSIGN_OR_RETURN(MdCtxPtr ctx, SigningContext());
    if (EVP_DigestSign(ctx.get(), out, &sig_len, data, tbs.size()) != 1) {
      return OpenSslError("EVP_DigestSign");
    }
  } else {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (EVP_Digest(data, tbs.size(), md, &md_len, digest.get(), nullptr) != 1) {
      return OpenSslError("EVP_Digest");
    }
    MESHID_ASSIGN_OR_RETURN(PkeyCtxPtr ctx, TakeSigner());
    if (EVP_PKEY_sign(ctx.get(), out, &sig_len, md, md_len) != 1) {
      return OpenSslError("EVP_PKEY_sign");
    }
    std::lock_guard<std::mutex> lock(mu);
    idle_signers.push_back(std::move(ctx));
  }
  sig.resize(sig_len);  // EVP_PKEY_get_size is the largest; a DER ECDSA signature varies
  return sig;
}

absl::Status LeafIssuer::State::Init() {
  const Certificate& ca = signer.certificate;
  trust_domain = SignerTrustDomain(signer);
  not_before = ca.not_before();
  not_after = ca.not_after();
  if (const EVP_MD* md = internal::DigestFor(signer.key.get0()); md != nullptr) {
    digest.reset(EVP_MD_fetch(nullptr, EVP_MD_get0_name(md), nullptr));
    if (!digest) return OpenSslError("EVP_MD_fetch");
  }
  sha1.reset(EVP_MD_fetch(nullptr, "SHA1", nullptr));
  version.reset(ASN1_INTEGER_new());
  if (!sha1 || !version || ASN1_INTEGER_set(version.get(), X509_VERSION_3) != 1) {
    return OpenSslError("preparing the leaf template");
  }
  // The AlgorithmIdentifier the signature provider writes for this key and digest, as
  // X509_sign would put it in the certificate.
  MESHID_ASSIGN_OR_RETURN(MdCtxPtr ctx, SigningContext());
  unsigned char aid[256];
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, aid, sizeof(aid)),
      OSSL_PARAM_construct_end()};
  if (EVP_PKEY_CTX_get_params(EVP_MD_CTX_get_pkey_ctx(ctx.get()), params) != 1 ||
      !OSSL_PARAM_modified(&params[0])) {
    return OpenSslError("EVP_PKEY_CTX_get_params(algorithm-id)");
  }
  MESHID_ASSIGN_OR_RETURN(
      algorithm, Sequence(absl::string_view(reinterpret_cast<char*>(aid), params[0].return_size)));
  X509* issuer_cert = ca.get0();
  std::string issuer_der = internal::I2dString(X509_get_subject_name(issuer_cert), i2d_X509_NAME);
  if (issuer_der.empty()) return OpenSslError("i2d(issuer name)");
  MESHID_ASSIGN_OR_RETURN(issuer, Sequence(issuer_der));
  MESHID_ASSIGN_OR_RETURN(empty_subject, Sequence(absl::string_view("\x30\x00", 2)));
  MESHID_ASSIGN_OR_RETURN(basic_constraints, ConstantExtension(NID_basic_constraints,
                                                               "critical,CA:FALSE", issuer_cert));
  MESHID_ASSIGN_OR_RETURN(
      key_usage, ConstantExtension(NID_key_usage, "critical,digitalSignature", issuer_cert));
  MESHID_ASSIGN_OR_RETURN(
      key_usage_rsa,
      ConstantExtension(NID_key_usage, "critical,digitalSignature,keyEncipherment", issuer_cert));
  MESHID_ASSIGN_OR_RETURN(
      ext_key_usage, ConstantExtension(NID_ext_key_usage, "serverAuth,clientAuth", issuer_cert));
  MESHID_ASSIGN_OR_RETURN(authority_key_id, ConstantExtension(NID_authority_key_identifier,
                                                              "keyid:always", issuer_cert));
  return absl::OkStatus();
}

absl::StatusOr<X509ExtensionPtr> LeafIssuer::State::SubjectKeyId(absl::string_view spki_der) const {
  internal::ItemPtr<MESHID_SPKI> spki =
      internal::ItemD2i<MESHID_SPKI>(ASN1_ITEM_rptr(MESHID_SPKI), spki_der);
  if (!spki) return OpenSslError("d2i(SubjectPublicKeyInfo)");
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int hash_len = 0;
  OctetStringPtr id(ASN1_OCTET_STRING_new());
  if (!id ||
      EVP_Digest(ASN1_STRING_get0_data(spki->public_key), ASN1_STRING_length(spki->public_key),
                 hash, &hash_len, sha1.get(), nullptr) != 1 ||
      ASN1_OCTET_STRING_set(id.get(), hash, static_cast<int>(hash_len)) != 1) {
    return OpenSslError("hashing the subject key");
  }
  X509ExtensionPtr ext(X509V3_EXT_i2d(NID_subject_key_identifier, 0, id.get()));
  if (!ext) return OpenSslError("X509V3_EXT_i2d(subjectKeyIdentifier)");
  return ext;
}

absl::StatusOr<LeafIssuer> LeafIssuer::Create(const Signer& signer) {
  MESHID_RETURN_IF_ERROR(CheckSignerKey(signer));
  auto state = std::make_shared<State>(signer);
  MESHID_RETURN_IF_ERROR(state->Init());
  return LeafIssuer(std::move(state));
}

absl::StatusOr<IssuedLeaf> LeafIssuer::Issue(const PublicKey& subject_key,
                                             const LeafProfile& profile, absl::Time now) const {
  const State& st = *state_;
  if (profile.id.path().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("SPIFFE ID \"", profile.id.ToString(),
                                                   "\" has no path; an X509-SVID leaf needs one"));
  }
  for (const std::string& dns : profile.dns_names) {
    if (!IsValidDnsName(dns)) {
      return absl::InvalidArgumentError(absl::StrCat("invalid DNS name \"", dns, "\""));
    }
  }
  MESHID_RETURN_IF_ERROR(CheckTtl(profile.ttl));
  MESHID_RETURN_IF_ERROR(
      CheckSignerValidAt(st.signer.certificate, st.not_before, st.not_after, now));
  MESHID_RETURN_IF_ERROR(CheckTrustDomain(st.trust_domain, profile.id.trust_domain()));
  if (subject_key.get0() == nullptr) return absl::InvalidArgumentError("no subject public key");

  IssuedLeaf leaf;
  leaf.not_before = TimeOf(now - kBackdate);
  leaf.not_after = TimeOf(std::min(now + profile.ttl, st.not_after));
  MESHID_ASSIGN_OR_RETURN(auto serial_bytes, NewSerial());
  const unsigned char* magnitude = serial_bytes.data();  // DER wants no leading zero bytes
  size_t magnitude_len = serial_bytes.size();
  while (magnitude_len > 1 && *magnitude == 0) ++magnitude, --magnitude_len;
  leaf.serial_hex = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(magnitude), magnitude_len));
  IntegerPtr serial(ASN1_INTEGER_new());
  TimePtr not_before(ASN1_TIME_set(nullptr, absl::ToTimeT(leaf.not_before)));
  TimePtr not_after(ASN1_TIME_set(nullptr, absl::ToTimeT(leaf.not_after)));
  if (!serial || ASN1_STRING_set(serial.get(), magnitude, static_cast<int>(magnitude_len)) != 1 ||
      !not_before || !not_after) {
    return OpenSslError("setting the serial and validity");
  }
  X509_VAL validity{not_before.get(), not_after.get()};

  std::string spki_der = subject_key.spki_der().empty() ? subject_key.ToDer() : "";
  absl::string_view spki_view = spki_der.empty() ? subject_key.spki_der() : spki_der;
  MESHID_ASSIGN_OR_RETURN(AnyPtr spki, Sequence(spki_view));
  MESHID_ASSIGN_OR_RETURN(X509ExtensionPtr subject_key_id, st.SubjectKeyId(spki_view));
  // The subject is empty, so the SAN must be critical (RFC 5280 4.2.1.6).
  MESHID_ASSIGN_OR_RETURN(X509ExtensionPtr san,
                          internal::MakeSanExtension(profile.id.ToString(), profile.dns_names,
                                                     /*critical=*/true));
  bool rsa = EVP_PKEY_is_a(subject_key.get0(), "RSA") == 1;
  X509_EXTENSION* order[] = {
      st.basic_constraints.get(), rsa ? st.key_usage_rsa.get() : st.key_usage.get(),
      st.ext_key_usage.get(),     subject_key_id.get(),
      st.authority_key_id.get(),  san.get()};
  ExtensionListPtr extensions(sk_X509_EXTENSION_new_reserve(nullptr, std::size(order)));
  if (!extensions) return OpenSslError("sk_X509_EXTENSION_new_reserve");
  for (X509_EXTENSION* ext : order) sk_X509_EXTENSION_push(extensions.get(), ext);

  MESHID_LEAF_TBS tbs{st.version.get(), serial.get(),    st.algorithm.get(),
                      st.issuer.get(),  &validity,       st.empty_subject.get(),
                      spki.get(),       extensions.get()};
  std::string tbs_der = internal::ItemI2d(&tbs, ASN1_ITEM_rptr(MESHID_LEAF_TBS));
  if (tbs_der.empty()) return OpenSslError("i2d(TBSCertificate)");

  MESHID_ASSIGN_OR_RETURN(std::string sig, st.Sign(tbs_der));
  BitStringPtr signature(ASN1_BIT_STRING_new());
  MESHID_ASSIGN_OR_RETURN(AnyPtr tbs_any, Sequence(tbs_der));
  if (!signature ||
      ASN1_STRING_set(signature.get(), sig.data(), static_cast<int>(sig.size())) != 1) {
    return OpenSslError("ASN1_STRING_set(signature)");
  }
  // A signature is whole bytes: no unused bits, even when its last byte ends in zeros.
  signature->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
  signature->flags |= ASN1_STRING_FLAG_BITS_LEFT;
  MESHID_SIGNED_CERT cert{tbs_any.get(), st.algorithm.get(), signature.get()};
  leaf.der = internal::ItemI2d(&cert, ASN1_ITEM_rptr(MESHID_SIGNED_CERT));
  if (leaf.der.empty()) return OpenSslError("i2d(Certificate)");
  return leaf;
}

absl::StatusOr<Certificate> IssueLeaf(const Signer& signer, const PublicKey& subject_key,
                                      const LeafProfile& profile, absl::Time now) {
  MESHID_ASSIGN_OR_RETURN(LeafIssuer issuer, LeafIssuer::Create(signer));
  MESHID_ASSIGN_OR_RETURN(IssuedLeaf leaf, issuer.Issue(subject_key, profile, now));
  return Certificate::FromDer(leaf.der);
}

absl::StatusOr<Certificate> IssueRootCa(const PrivateKey& key, const CaProfile& profile,
                                        absl::Time now) {
  MESHID_RETURN_IF_ERROR(CheckCaProfile(profile));
  MESHID_ASSIGN_OR_RETURN(X509Ptr cert,
                          NewCertificate(key.public_key(), now - kBackdate, now + profile.ttl));
  MESHID_RETURN_IF_ERROR(SetCaSubject(cert.get(), profile.common_name));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) != 1) {
    return OpenSslError("X509_set_issuer_name");
  }
  MESHID_RETURN_IF_ERROR(AddCaExtensions(cert.get(), cert.get(), profile));
  return Sign(std::move(cert), key);
}

absl::StatusOr<Certificate> IssueIntermediateCa(const Signer& signer, const PublicKey& subject_key,
                                                const CaProfile& profile, absl::Time now) {
  MESHID_RETURN_IF_ERROR(CheckCaProfile(profile));
  MESHID_RETURN_IF_ERROR(CheckSigner(signer, now));
  MESHID_RETURN_IF_ERROR(CheckTrustDomain(SignerTrustDomain(signer), profile.trust_domain));
  if (std::optional<int> parent_len = signer.certificate.path_len();
      parent_len.has_value() && *parent_len == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the signing CA \"", signer.certificate.subject(), "\" has pathlen 0 and cannot sign CAs"));
  }
  absl::Time not_after = std::min(now + profile.ttl, signer.certificate.not_after());
  MESHID_ASSIGN_OR_RETURN(X509Ptr cert, NewCertificate(subject_key, now - kBackdate, not_after));
  MESHID_RETURN_IF_ERROR(SetCaSubject(cert.get(), profile.common_name));
  X509* issuer = signer.certificate.get0();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer)) != 1) {
    return OpenSslError("X509_set_issuer_name");
  }
  MESHID_RETURN_IF_ERROR(AddCaExtensions(cert.get(), issuer, profile));
  return Sign(std::move(cert), signer.key);
}

}  // namespace meshid::pki
