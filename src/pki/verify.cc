#include "meshid/pki/verify.h"

#include "absl/strings/str_cat.h"
#include "meshid/base/duration.h"
#include "meshid/pki/openssl_error.h"
#include "ossl_util.h"

namespace meshid::pki {
namespace {

using internal::X509StackPtr;
using internal::X509StoreCtxPtr;
using internal::X509StorePtr;

// Describe names a certificate in a failure detail: its subject, or its SPIFFE ID when the
// subject is empty, as SVID subjects often are.
std::string Describe(const Certificate& cert) {
  std::string subject = cert.subject();
  if (!subject.empty()) return absl::StrCat("\"", subject, "\"");
  std::vector<std::string> uris = cert.uri_sans();
  if (!uris.empty()) return absl::StrCat("\"", uris.front(), "\"");
  return absl::StrCat("serial ", cert.serial_hex());
}

// IssuerIsKnownRootName reports whether a bundle root has `cert`'s issuer name: the issuer
// was replaced by a root of the same name the bundle does not hold (a root rotated before
// the bundle was updated).
bool IssuerIsKnownRootName(const Certificate& cert, absl::Span<const Certificate> roots) {
  for (const Certificate& root : roots) {
    if (X509_NAME_cmp(X509_get_subject_name(root.get0()), X509_get_issuer_name(cert.get0())) == 0) {
      return true;
    }
  }
  return false;
}

VerifyResult MapError(int err, const Certificate& cert, int depth,
                      absl::Span<const Certificate> roots) {
  std::string who = absl::StrCat(cert.is_ca() ? "CA certificate " : "certificate ", Describe(cert),
                                 " (depth ", depth, ")");
  switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return VerifyResult::Fail(ChainError::kExpired,
                                absl::StrCat(who, " expired at ", base::Rfc3339(cert.not_after())));
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return VerifyResult::Fail(
          ChainError::kNotYetValid,
          absl::StrCat(who, " is not valid before ", base::Rfc3339(cert.not_before())));
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return VerifyResult::Fail(ChainError::kUnknownAuthority,
                                absl::StrCat("the chain ends at root ", Describe(cert),
                                             ", which the bundle does not hold"));
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      if (IssuerIsKnownRootName(cert, roots)) {
        return VerifyResult::Fail(
            ChainError::kUnknownAuthority,
            absl::StrCat(who, " was signed by a key of \"", cert.issuer(),
                         "\" other than the bundle's root of that name (a root rotated before "
                         "the bundle was updated?)"));
      }
      return VerifyResult::Fail(ChainError::kMissingIntermediate,
                                absl::StrCat("the issuer \"", cert.issuer(), "\" of ", who,
                                             " was not presented and is not a root in the bundle"));
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
      return VerifyResult::Fail(ChainError::kBadSignature,
                                absl::StrCat("the signature on ", who, " does not verify"));
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
      return VerifyResult::Fail(ChainError::kPathLengthExceeded,
                                absl::StrCat("the path exceeds the pathlen constraint of ", who));
    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
      return VerifyResult::Fail(ChainError::kInvalidCa,
                                absl::StrCat(who,
                                             " signs certificates but is not a CA with "
                                             "keyCertSign"));
    case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
      return VerifyResult::Fail(
          ChainError::kUnhandledCriticalExtension,
          absl::StrCat(who, " has a critical extension meshid does not know"));
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_KEY_TOO_SMALL:
      return VerifyResult::Fail(ChainError::kWeakKey, absl::StrCat(who, " has a weak key"));
    case X509_V_ERR_CA_MD_TOO_WEAK:
      return VerifyResult::Fail(ChainError::kWeakSignature,
                                absl::StrCat(who, " has a weak signature"));
    default:
      return VerifyResult::Fail(ChainError::kMalformed,
                                absl::StrCat(who, ": ", X509_verify_cert_error_string(err)));
  }
}

// CheckStrength returns the first weak key or weak signature in `chain` (leaf first). The
// trust anchor's own signature is not checked: nothing relies on a root's self-signature.
std::optional<VerifyResult> CheckStrength(const std::vector<Certificate>& chain) {
  for (size_t i = 0; i < chain.size(); ++i) {
    const Certificate& cert = chain[i];
    PublicKeyInfo key = cert.public_key().info();
    if (key.weak) {
      return VerifyResult::Fail(
          ChainError::kWeakKey,
          absl::StrCat("certificate ", Describe(cert), " (depth ", i, ") has a weak ",
                       key.Describe(), " key (minimum: RSA 2048, EC P-256)"));
    }
    if (i + 1 < chain.size() && cert.weak_signature()) {
      return VerifyResult::Fail(ChainError::kWeakSignature,
                                absl::StrCat("certificate ", Describe(cert), " (depth ", i,
                                             ") is signed with ", cert.signature_algorithm()));
    }
  }
  return std::nullopt;
}

// VerifyPath builds and verifies the path from chain[0] through chain[1..] to `roots`.
VerifyResult VerifyPath(absl::Span<const Certificate> chain, absl::Span<const Certificate> roots,
                        absl::Time at) {
  if (chain.empty()) return VerifyResult::Fail(ChainError::kEmptyChain, "no certificate presented");
  if (roots.empty()) {
    return VerifyResult::Fail(ChainError::kUnknownAuthority, "the trust bundle holds no root");
  }
  X509StorePtr store(X509_STORE_new());
  X509StackPtr untrusted(sk_X509_new_null());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx) {
    return VerifyResult::Fail(ChainError::kMalformed, OpenSslError("X509_STORE_new").ToString());
  }
  for (const Certificate& root : roots) X509_STORE_add_cert(store.get(), root.get0());
  for (size_t i = 1; i < chain.size(); ++i) {
    X509_up_ref(chain[i].get0());
    sk_X509_push(untrusted.get(), chain[i].get0());
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), chain[0].get0(), untrusted.get()) != 1) {
    return VerifyResult::Fail(ChainError::kMalformed,
                              OpenSslError("X509_STORE_CTX_init").ToString());
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, absl::ToTimeT(at));
  // Every bundle authority is a trust anchor, self-signed or not, as in go-spiffe.
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  // Strength is judged by CheckStrength with meshid's own rules and reasons.
  X509_VERIFY_PARAM_set_auth_level(param, 0);

  int rc = X509_verify_cert(ctx.get());
  if (rc != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    X509* current = X509_STORE_CTX_get_current_cert(ctx.get());
    ClearOpenSslErrors();
    Certificate subject = chain[0];
    if (current != nullptr) {
      X509_up_ref(current);
      subject = *WrapCertificate(current);
    }
    return MapError(err, subject, depth, roots);
  }
  VerifiedChain verified;
  STACK_OF(X509)* built = X509_STORE_CTX_get0_chain(ctx.get());
  for (int i = 0; i < sk_X509_num(built); ++i) {
    X509* cert = sk_X509_value(built, i);
    X509_up_ref(cert);
    verified.certificates.push_back(*WrapCertificate(cert));
  }
  if (std::optional<VerifyResult> weak = CheckStrength(verified.certificates)) return *weak;
  return VerifyResult::Ok(std::move(verified));
}

}  // namespace

absl::string_view ChainErrorName(ChainError error) {
  switch (error) {
    case ChainError::kEmptyChain:
      return "empty_chain";
    case ChainError::kExpired:
      return "expired";
    case ChainError::kNotYetValid:
      return "not_yet_valid";
    case ChainError::kUnknownAuthority:
      return "unknown_authority";
    case ChainError::kMissingIntermediate:
      return "missing_intermediate";
    case ChainError::kBadSignature:
      return "bad_signature";
    case ChainError::kLeafIsCa:
      return "leaf_is_ca";
    case ChainError::kLeafCanSign:
      return "leaf_can_sign";
    case ChainError::kLeafKeyUsage:
      return "leaf_key_usage";
    case ChainError::kSanNotCritical:
      return "san_not_critical";
    case ChainError::kNoSpiffeId:
      return "no_spiffe_id";
    case ChainError::kMultipleUriSans:
      return "multiple_uri_sans";
    case ChainError::kInvalidSpiffeId:
      return "invalid_spiffe_id";
    case ChainError::kTrustDomainMismatch:
      return "trust_domain_mismatch";
    case ChainError::kIdMismatch:
      return "id_mismatch";
    case ChainError::kEkuMissingClientAuth:
      return "eku_missing_client_auth";
    case ChainError::kEkuMissingServerAuth:
      return "eku_missing_server_auth";
    case ChainError::kInvalidCa:
      return "invalid_ca";
    case ChainError::kPathLengthExceeded:
      return "path_length_exceeded";
    case ChainError::kWeakKey:
      return "weak_key";
    case ChainError::kWeakSignature:
      return "weak_signature";
    case ChainError::kUnhandledCriticalExtension:
      return "unhandled_critical_extension";
    case ChainError::kMalformed:
      return "malformed";
  }
  return "malformed";
}

std::optional<VerifyResult> CheckSvidProfile(const Certificate& leaf, Usage usage) {
  if (leaf.has_invalid_extensions()) {
    return VerifyResult::Fail(
        ChainError::kMalformed,
        absl::StrCat("the leaf ", Describe(leaf), " has an undecodable or duplicated extension"));
  }
  std::vector<std::string> uris = leaf.uri_sans();
  if (uris.empty()) {
    return VerifyResult::Fail(ChainError::kNoSpiffeId,
                              absl::StrCat("the leaf ", Describe(leaf), " has no URI SAN"));
  }
  if (uris.size() > 1) {
    return VerifyResult::Fail(
        ChainError::kMultipleUriSans,
        absl::StrCat("the leaf has ", uris.size(), " URI SANs; an X509-SVID has exactly one"));
  }
  absl::StatusOr<SpiffeId> id = SpiffeId::Parse(uris.front());
  if (!id.ok())
    return VerifyResult::Fail(ChainError::kInvalidSpiffeId, std::string(id.status().message()));
  if (id->path().empty()) {
    return VerifyResult::Fail(ChainError::kInvalidSpiffeId,
                              absl::StrCat("the leaf's SPIFFE ID \"", id->ToString(),
                                           "\" has no path; only signing certificates may"));
  }
  std::string who = absl::StrCat("the leaf \"", id->ToString(), "\"");
  if (leaf.is_ca()) {
    return VerifyResult::Fail(ChainError::kLeafIsCa, absl::StrCat(who, " has CA:true"));
  }
  KeyUsage ku = leaf.key_usage();
  if (ku.key_cert_sign || ku.crl_sign) {
    return VerifyResult::Fail(ChainError::kLeafCanSign,
                              absl::StrCat(who, " has keyCertSign or cRLSign"));
  }
  ExtendedKeyUsage eku = leaf.extended_key_usage();
  bool need_client = usage == Usage::kClientAndServer || usage == Usage::kClient;
  bool need_server = usage == Usage::kClientAndServer || usage == Usage::kServer;
  if (need_client && !eku.AllowsClientAuth()) {
    return VerifyResult::Fail(
        ChainError::kEkuMissingClientAuth,
        absl::StrCat(who, " has extendedKeyUsage without clientAuth: it cannot be a mTLS client"));
  }
  if (need_server && !eku.AllowsServerAuth()) {
    return VerifyResult::Fail(
        ChainError::kEkuMissingServerAuth,
        absl::StrCat(who, " has extendedKeyUsage without serverAuth: it cannot be a TLS server"));
  }
  return std::nullopt;
}

std::optional<VerifyResult> CheckSvidIssuanceProfile(const Certificate& leaf) {
  std::string who = absl::StrCat("the leaf ", Describe(leaf));
  KeyUsage ku = leaf.key_usage();
  if (!ku.present || !ku.critical || !ku.digital_signature) {
    return VerifyResult::Fail(
        ChainError::kLeafKeyUsage,
        absl::StrCat(who, !ku.present             ? " has no keyUsage"
                          : !ku.digital_signature ? " lacks keyUsage digitalSignature"
                                                  : "'s keyUsage is not critical"));
  }
  if (leaf.subject().empty() && !leaf.san_critical()) {
    return VerifyResult::Fail(
        ChainError::kSanNotCritical,
        absl::StrCat(who, " has an empty subject but a non-critical subjectAltName"));
  }
  return std::nullopt;
}

VerifyResult VerifyX509Svid(absl::Span<const Certificate> chain, const TrustBundle& bundle,
                            const VerifyOptions& options) {
  if (chain.empty()) return VerifyResult::Fail(ChainError::kEmptyChain, "no certificate presented");
  if (std::optional<VerifyResult> bad = CheckSvidProfile(chain[0], options.usage)) return *bad;
  SpiffeId id = *chain[0].spiffe_id();
  if (!id.IsMemberOf(bundle.trust_domain())) {
    return VerifyResult::Fail(
        ChainError::kTrustDomainMismatch,
        absl::StrCat("the leaf \"", id.ToString(), "\" is not in trust domain \"",
                     bundle.trust_domain().name(), "\" of the bundle"));
  }
  VerifyResult result = VerifyPath(chain, bundle.x509_authorities(), options.at);
  if (!result.ok()) return result;
  if (options.expected_id.has_value() && *options.expected_id != id) {
    return VerifyResult::Fail(ChainError::kIdMismatch,
                              absl::StrCat("the leaf is \"", id.ToString(), "\", expected \"",
                                           options.expected_id->ToString(), "\""));
  }
  VerifiedChain verified = result.chain();
  verified.spiffe_id = std::move(id);
  return VerifyResult::Ok(std::move(verified));
}

VerifyResult VerifyCaChain(absl::Span<const Certificate> chain, absl::Span<const Certificate> roots,
                           absl::Time at) {
  return VerifyPath(chain, roots, at);
}

}  // namespace meshid::pki
