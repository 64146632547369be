#include "meshid/testing/test_pki.h"

#include <cstdlib>
#include <iostream>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "absl/strings/str_cat.h"
#include "meshid/pki/openssl_error.h"

namespace meshid::testing {
namespace {

// Must aborts a test helper on a failure that means the test setup itself is broken.
template <typename T>
T Must(absl::StatusOr<T> value, const char* what) {
  if (!value.ok()) {
    std::cerr << "test PKI setup failed (" << what << "): " << value.status() << "\n";
    std::abort();
  }
  return *std::move(value);
}

absl::Status AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  if (value.empty()) return absl::OkStatus();
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return pki::OpenSslError(absl::StrCat("X509V3_EXT_nconf_nid ", value));
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1 ? absl::OkStatus() : pki::OpenSslError("X509_add_ext");
}

// ImportKey takes ownership of `key`, made by OpenSSL, and returns it as meshid's type.
pki::PrivateKey ImportKey(EVP_PKEY* key) {
  if (key == nullptr) std::abort();
  unsigned char* der = nullptr;
  int len = i2d_PrivateKey(key, &der);
  EVP_PKEY_free(key);
  std::string bytes(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_clear_free(der, static_cast<size_t>(len));
  return Must(pki::PrivateKey::Parse(bytes), "parse a generated key");
}

}  // namespace

CertSpec LeafSpec(const std::string& id, absl::Time now, absl::Duration ttl) {
  CertSpec spec;
  spec.uris = {id};
  spec.not_before = now - absl::Seconds(10);
  spec.not_after = now + ttl;
  return spec;
}

CertSpec CaSpec(const std::string& cn, const std::string& trust_domain, absl::Time now,
                absl::Duration ttl, std::optional<int> path_len) {
  CertSpec spec;
  spec.common_name = cn;
  spec.uris = {absl::StrCat("spiffe://", trust_domain)};
  spec.san_critical = false;
  spec.basic_constraints = "critical,CA:TRUE";
  if (path_len.has_value()) absl::StrAppend(&spec.basic_constraints, ",pathlen:", *path_len);
  spec.key_usage = "critical,keyCertSign,cRLSign";
  spec.extended_key_usage = "";
  spec.not_before = now - absl::Seconds(10);
  spec.not_after = now + ttl;
  return spec;
}

absl::StatusOr<pki::Certificate> BuildCertificate(const CertSpec& spec,
                                                  const pki::PrivateKey& subject_private,
                                                  const pki::Signer* issuer) {
  X509* cert = X509_new();
  auto cleanup = [&](absl::Status s) {
    X509_free(cert);
    return s;
  };
  X509_set_version(cert, X509_VERSION_3);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7f;
  serial[0] |= 0x01;
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
  BN_free(bn);
  ASN1_TIME_set(X509_getm_notBefore(cert), absl::ToTimeT(spec.not_before));
  ASN1_TIME_set(X509_getm_notAfter(cert), absl::ToTimeT(spec.not_after));
  X509_set_pubkey(cert, subject_private.get0());
  if (!spec.common_name.empty()) {
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>("meshid-test"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                               -1, 0);
  }
  X509* issuer_cert = issuer != nullptr ? issuer->certificate.get0() : cert;
  X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert));
  std::string san;
  for (const std::string& uri : spec.uris)
    absl::StrAppend(&san, san.empty() ? "" : ",", "URI:", uri);
  for (const std::string& dns : spec.dns)
    absl::StrAppend(&san, san.empty() ? "" : ",", "DNS:", dns);
  if (!san.empty() && spec.san_critical) san = absl::StrCat("critical,", san);
  for (auto [nid, value] :
       {std::pair<int, std::string>{NID_basic_constraints, spec.basic_constraints},
        {NID_key_usage, spec.key_usage},
        {NID_ext_key_usage, spec.extended_key_usage},
        {NID_subject_key_identifier, spec.key_ids ? "hash" : ""},
        {NID_authority_key_identifier, spec.key_ids ? "keyid:always" : ""},
        {NID_subject_alt_name, san}}) {
    if (absl::Status s = AddExt(cert, issuer_cert, nid, value); !s.ok()) return cleanup(s);
  }
  for (const auto& [name, value] : spec.extra_extensions) {
    if (absl::Status s = AddExt(cert, issuer_cert, OBJ_txt2nid(name.c_str()), value); !s.ok()) {
      return cleanup(s);
    }
  }
  const pki::PrivateKey& signing_key = issuer != nullptr ? issuer->key : subject_private;
  const EVP_MD* md = spec.sha1 ? EVP_sha1() : EVP_sha256();
  if (X509_sign(cert, signing_key.get0(), md) <= 0) {
    return cleanup(pki::OpenSslError("X509_sign"));
  }
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  X509_free(cert);
  absl::StatusOr<pki::Certificate> out =
      pki::Certificate::FromDer(absl::string_view(reinterpret_cast<char*>(der), len));
  OPENSSL_free(der);
  return out;
}

absl::StatusOr<std::string> BuildCsrPem(
    const pki::PrivateKey& key,
    const std::vector<std::pair<std::string, std::string>>& extensions) {
  X509_REQ* req = X509_REQ_new();
  X509_REQ_set_version(req, 0);
  X509_REQ_set_pubkey(req, key.get0());
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  absl::Status status;
  for (const auto& [name, value] : extensions) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, nullptr, nullptr, req, nullptr, 0);
    X509_EXTENSION* ext =
        X509V3_EXT_nconf_nid(nullptr, &ctx, OBJ_txt2nid(name.c_str()), value.c_str());
    if (ext == nullptr) {
      status = pki::OpenSslError(absl::StrCat("CSR extension ", name, "=", value));
      break;
    }
    sk_X509_EXTENSION_push(exts, ext);
  }
  if (status.ok() && !extensions.empty() && X509_REQ_add_extensions(req, exts) != 1) {
    status = pki::OpenSslError("X509_REQ_add_extensions");
  }
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  if (status.ok() && X509_REQ_sign(req, key.get0(), EVP_sha256()) <= 0) {
    status = pki::OpenSslError("X509_REQ_sign");
  }
  std::string pem;
  if (status.ok()) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509_REQ(bio, req);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    pem.assign(data, static_cast<size_t>(len));
    BIO_free(bio);
  }
  X509_REQ_free(req);
  if (!status.ok()) return status;
  return pem;
}

pki::PrivateKey MakeWeakRsaKey(int bits) {
  return ImportKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
}

pki::PrivateKey MakeEd25519Key() {
  return ImportKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
}

TestPki TestPki::Create(absl::Time now, const std::string& trust_domain) {
  pki::TrustDomain td = Must(pki::TrustDomain::Parse(trust_domain), "trust domain");
  pki::PrivateKey root_key = Must(pki::PrivateKey::Generate(pki::KeyType::kEcP256), "root key");
  pki::Certificate root_cert =
      Must(pki::IssueRootCa(root_key, {td, "test root", absl::Hours(24 * 3650), std::nullopt}, now),
           "root");
  pki::Signer root{root_cert, root_key};
  pki::PrivateKey int_key = Must(pki::PrivateKey::Generate(pki::KeyType::kEcP256), "int key");
  pki::Certificate int_cert =
      Must(pki::IssueIntermediateCa(root, int_key.public_key(),
                                    {td, "test intermediate", absl::Hours(24 * 365), 1}, now),
           "intermediate");
  return TestPki{td, root, pki::Signer{int_cert, int_key}, now};
}

TestPki::Leaf TestPki::IssueLeaf(const std::string& path, absl::Duration ttl) const {
  pki::PrivateKey key = Must(pki::PrivateKey::Generate(pki::KeyType::kEcP256), "leaf key");
  pki::SpiffeId id = Must(pki::SpiffeId::FromPath(trust_domain, path), "leaf id");
  pki::Certificate cert =
      Must(pki::IssueLeaf(intermediate, key.public_key(), {id, {}, ttl}, now), "leaf");
  return Leaf{cert, key, {cert, intermediate.certificate}};
}

pki::TrustBundle TestPki::Bundle() const {
  pki::TrustBundle bundle(trust_domain);
  (void)bundle.AddX509Authority(root.certificate);
  return bundle;
}

}  // namespace meshid::testing
