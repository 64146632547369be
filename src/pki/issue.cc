#include "meshid/pki/issue.h"

#include <openssl/rand.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "meshid/base/duration.h"
#include "meshid/base/status.h"
#include "meshid/pki/openssl_error.h"
#include "ossl_util.h"
#include "san_util.h"

namespace meshid::pki {
namespace {

using internal::X509Ptr;

constexpr int kSerialBytes = 16;
constexpr int kSerialTimeBytes = 6;  // milliseconds since 1970 fit in 47 bits until year 6429

// SetSerial gives `cert` a serial of 16 bytes: the current time in milliseconds (6 bytes),
// then 80 random bits — unique and unpredictable (the CA/Browser Forum asks for 64 random
// bits), positive and never zero. Starting with the time, serials of successive certificates
// sort in issuance order, so the CA's issuance records (keyed by serial) grow at the end of
// their B-tree instead of dirtying a random page per certificate (+15 % signing throughput).
absl::Status SetSerial(X509* cert) {
  unsigned char bytes[kSerialBytes];
  uint64_t ms = static_cast<uint64_t>(absl::ToUnixMillis(absl::Now()));
  for (int i = kSerialTimeBytes - 1; i >= 0; --i, ms >>= 8) {
    bytes[i] = static_cast<unsigned char>(ms & 0xff);
  }
  if (RAND_bytes(bytes + kSerialTimeBytes, kSerialBytes - kSerialTimeBytes) != 1) {
    return OpenSslError("RAND_bytes");
  }
  internal::BignumPtr bn(BN_bin2bn(bytes, sizeof(bytes), nullptr));
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

// AddExtension adds the extension `nid` written in OpenSSL's configuration syntax.
absl::Status AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  internal::X509ExtensionPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslError(absl::StrCat("adding ", OBJ_nid2sn(nid), "=", value));
  }
  return absl::OkStatus();
}

// AddConstantExtension adds an extension whose value never varies, built once per process
// (parsing the configuration syntax every time costs more than the rest of the extension).
absl::Status AddConstantExtension(X509* cert, int nid, const char* value) {
  static std::mutex mu;
  static auto* built = new std::map<std::pair<int, std::string>, X509_EXTENSION*>();
  X509_EXTENSION* ext = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = built->find({nid, value});
    if (it == built->end()) {
      ext = X509V3_EXT_nconf_nid(nullptr, nullptr, nid, value);
      if (ext == nullptr) return OpenSslError(absl::StrCat("adding ", OBJ_nid2sn(nid), "=", value));
      built->emplace(std::make_pair(nid, std::string(value)), ext);
    } else {
      ext = it->second;
    }
  }
  if (X509_add_ext(cert, ext, -1) != 1) return OpenSslError("X509_add_ext");
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

// CheckSigner makes sure `signer` can sign at `now`.
absl::Status CheckSigner(const Signer& signer, absl::Time now) {
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
  if (now > ca.not_after()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the signing CA \"", ca.subject(), "\" expired at ", base::Rfc3339(ca.not_after())));
  }
  if (now < ca.not_before()) {
    return absl::FailedPreconditionError(absl::StrCat("the signing CA \"", ca.subject(),
                                                      "\" is not valid before ",
                                                      base::Rfc3339(ca.not_before())));
  }
  return absl::OkStatus();
}

// CheckTrustDomain refuses to sign into another trust domain than the signer's own.
absl::Status CheckTrustDomain(const Signer& signer, const TrustDomain& td) {
  absl::StatusOr<SpiffeId> ca_id = signer.certificate.spiffe_id();
  if (!ca_id.ok()) return absl::OkStatus();  // a CA without a SPIFFE ID constrains nothing
  if (ca_id->trust_domain() != td) {
    return absl::InvalidArgumentError(absl::StrCat("trust domain \"", td.name(),
                                                   "\" is not the signing CA's (\"",
                                                   ca_id->trust_domain().name(), "\")"));
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

absl::StatusOr<Certificate> IssueLeaf(const Signer& signer, const PublicKey& subject_key,
                                      const LeafProfile& profile, absl::Time now) {
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
  MESHID_RETURN_IF_ERROR(CheckSigner(signer, now));
  MESHID_RETURN_IF_ERROR(CheckTrustDomain(signer, profile.id.trust_domain()));
  if (subject_key.get0() == nullptr) return absl::InvalidArgumentError("no subject public key");

  absl::Time not_after = std::min(now + profile.ttl, signer.certificate.not_after());
  MESHID_ASSIGN_OR_RETURN(X509Ptr cert, NewCertificate(subject_key, now - kBackdate, not_after));
  X509* issuer = signer.certificate.get0();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer)) != 1) {
    return OpenSslError("X509_set_issuer_name");
  }
  bool rsa = subject_key.info().algorithm == "RSA";
  MESHID_RETURN_IF_ERROR(
      AddConstantExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  MESHID_RETURN_IF_ERROR(AddConstantExtension(
      cert.get(), NID_key_usage,
      rsa ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature"));
  MESHID_RETURN_IF_ERROR(
      AddConstantExtension(cert.get(), NID_ext_key_usage, "serverAuth,clientAuth"));
  MESHID_RETURN_IF_ERROR(AddExtension(cert.get(), issuer, NID_subject_key_identifier, "hash"));
  MESHID_RETURN_IF_ERROR(
      AddExtension(cert.get(), issuer, NID_authority_key_identifier, "keyid:always"));
  // The subject is empty, so the SAN must be critical (RFC 5280 4.2.1.6).
  MESHID_RETURN_IF_ERROR(AddSan(cert.get(), profile.id.ToString(), profile.dns_names, true));
  return Sign(std::move(cert), signer.key);
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
  MESHID_RETURN_IF_ERROR(CheckTrustDomain(signer, profile.trust_domain));
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
