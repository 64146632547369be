#include "meshid/pki/key.h"

#include <cstring>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "meshid/pki/openssl_error.h"
#include "ossl_util.h"
#include "pem_util.h"

namespace meshid::pki {
namespace {

using internal::BioPtr;
using internal::EvpPkeyPtr;

struct KeyTypeEntry {
  KeyType type;
  absl::string_view name;
};
constexpr KeyTypeEntry kKeyTypes[] = {
    {KeyType::kEcP256, "ec-p256"},   {KeyType::kEcP384, "ec-p384"},
    {KeyType::kRsa2048, "rsa-2048"}, {KeyType::kRsa3072, "rsa-3072"},
    {KeyType::kRsa4096, "rsa-4096"},
};

// PassphraseCallback hands OpenSSL the passphrase given through `u` (a string_view*).
int PassphraseCallback(char* buf, int size, int /*rwflag*/, void* u) {
  const auto* pass = static_cast<const absl::string_view*>(u);
  if (pass == nullptr || pass->empty() || pass->size() > static_cast<size_t>(size)) return -1;
  memcpy(buf, pass->data(), pass->size());
  return static_cast<int>(pass->size());
}

absl::StatusOr<base::SecretString> SecretBioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return OpenSslError("BIO_get_mem_data");
  return base::SecretString(std::string(data, static_cast<size_t>(len)));
}

}  // namespace

absl::StatusOr<KeyType> ParseKeyType(absl::string_view name) {
  for (const KeyTypeEntry& e : kKeyTypes) {
    if (e.name == name) return e.type;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown key type \"", name, "\" (choose one of ", KeyTypeNames(), ")"));
}

absl::string_view KeyTypeName(KeyType type) {
  for (const KeyTypeEntry& e : kKeyTypes) {
    if (e.type == type) return e.name;
  }
  return "unknown";
}

std::string KeyTypeNames() {
  std::vector<absl::string_view> names;
  for (const KeyTypeEntry& e : kKeyTypes) names.push_back(e.name);
  return absl::StrJoin(names, ", ");
}

std::string PublicKeyInfo::Describe() const {
  if (!curve.empty()) return absl::StrCat(algorithm, " ", curve);
  if (algorithm == "RSA" || algorithm == "DSA") return absl::StrCat(algorithm, " ", bits);
  return algorithm;
}

namespace internal {

PublicKeyInfo DescribeKey(const EVP_PKEY* key) {
  PublicKeyInfo info;
  info.bits = EVP_PKEY_get_bits(key);
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: {
      info.algorithm = "EC";
      char group[64] = {};
      size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                         &len) == 1) {
        const char* nist = EC_curve_nid2nist(OBJ_txt2nid(group));
        info.curve = nist != nullptr ? nist : group;
      }
      info.weak = info.bits < 256;
      break;
    }
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
      info.algorithm = "RSA";
      info.weak = info.bits < 2048;
      break;
    case EVP_PKEY_ED25519:
      info.algorithm = "ED25519";
      break;
    case EVP_PKEY_ED448:
      info.algorithm = "ED448";
      break;
    case EVP_PKEY_DSA:
      info.algorithm = "DSA";
      info.weak = true;
      break;
    default: {
      const char* name = EVP_PKEY_get0_type_name(key);
      info.algorithm = name != nullptr ? name : "unknown";
      info.weak = true;
      break;
    }
  }
  ClearOpenSslErrors();
  return info;
}

}  // namespace internal

absl::StatusOr<PublicKey> PublicKey::FromDer(absl::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* key = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (key == nullptr) return OpenSslError("d2i_PUBKEY", absl::StatusCode::kInvalidArgument);
  return PublicKey(internal::SharedPkey(key));
}

PublicKeyInfo PublicKey::info() const { return internal::DescribeKey(key_.get()); }

std::string PublicKey::ToDer() const {
  if (!spki_der_.empty()) return spki_der_;
  return internal::I2dString(key_.get(), i2d_PUBKEY);
}

bool operator==(const PublicKey& a, const PublicKey& b) {
  return EVP_PKEY_eq(a.key_.get(), b.key_.get()) == 1;
}

absl::StatusOr<PrivateKey> PrivateKey::Generate(KeyType type) {
  EVP_PKEY* key = nullptr;
  switch (type) {
    case KeyType::kEcP256:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeyType::kEcP384:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
      break;
    case KeyType::kRsa2048:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
      break;
    case KeyType::kRsa3072:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{3072});
      break;
    case KeyType::kRsa4096:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{4096});
      break;
  }
  if (key == nullptr) return OpenSslError("EVP_PKEY_Q_keygen");
  return PrivateKey(internal::SharedPkey(key));
}

bool PrivateKey::IsEncryptedPem(absl::string_view data) {
  return absl::StrContains(data, "-----BEGIN ENCRYPTED PRIVATE KEY-----") ||
         absl::StrContains(data, "Proc-Type: 4,ENCRYPTED");
}

absl::StatusOr<PrivateKey> PrivateKey::Parse(absl::string_view data, absl::string_view passphrase) {
  if (data.empty()) return absl::InvalidArgumentError("file is empty, expected a private key");
  if (!internal::LooksLikePem(data)) {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    EVP_PKEY* key = d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(data.size()));
    if (key == nullptr) {
      ClearOpenSslErrors();
      return absl::InvalidArgumentError(
          "not a private key: neither PEM nor unencrypted PKCS#8 DER");
    }
    return PrivateKey(internal::SharedPkey(key));
  }

  absl::StatusOr<std::vector<internal::PemBlock>> blocks = internal::ReadPemBlocks(data);
  if (!blocks.ok()) return blocks.status();
  int keys = 0;
  std::string other;
  for (const internal::PemBlock& b : *blocks) {
    if (absl::EndsWith(b.type, "PRIVATE KEY")) {
      ++keys;
    } else if (other.empty()) {
      other = b.type;
    }
  }
  if (keys == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("holds a PEM \"", other, "\", not a private key"));
  }
  if (keys > 1) {
    return absl::InvalidArgumentError(absl::StrCat("holds ", keys, " private keys, expected one"));
  }
  bool encrypted = IsEncryptedPem(data);
  if (encrypted && passphrase.empty()) {
    return absl::InvalidArgumentError(
        "the private key is encrypted; give its passphrase with --passphrase-file");
  }
  BioPtr bio = internal::MemBio(data);
  EVP_PKEY* key =
      PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, PassphraseCallback,
                                 const_cast<absl::string_view*>(&passphrase), nullptr, nullptr);
  if (key == nullptr) {
    if (encrypted) {
      ClearOpenSslErrors();
      return absl::InvalidArgumentError(
          "cannot decrypt the private key: wrong passphrase, or a damaged key");
    }
    return OpenSslError("PEM_read_bio_PrivateKey", absl::StatusCode::kInvalidArgument);
  }
  return PrivateKey(internal::SharedPkey(key));
}

absl::StatusOr<base::SecretString> PrivateKey::ToPkcs8Pem() const {
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr,
                                            nullptr) != 1) {
    return OpenSslError("PEM_write_bio_PKCS8PrivateKey");
  }
  return SecretBioContents(bio.get());
}

absl::StatusOr<base::SecretString> PrivateKey::ToPkcs8Der() const {
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio ||
      i2d_PKCS8PrivateKey_bio(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError("i2d_PKCS8PrivateKey_bio");
  }
  return SecretBioContents(bio.get());
}

absl::StatusOr<base::SecretString> PrivateKey::ToEncryptedPkcs8Pem(
    absl::string_view passphrase) const {
  if (passphrase.empty()) return absl::InvalidArgumentError("the passphrase is empty");
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio ||
      PEM_write_bio_PKCS8PrivateKey(bio.get(), key_.get(), EVP_aes_256_cbc(), passphrase.data(),
                                    static_cast<int>(passphrase.size()), nullptr, nullptr) != 1) {
    return OpenSslError("PEM_write_bio_PKCS8PrivateKey");
  }
  return SecretBioContents(bio.get());
}

PublicKey PrivateKey::public_key() const {
  // Round-trip through the SubjectPublicKeyInfo so the PublicKey holds no private half.
  std::string der = internal::I2dString(key_.get(), i2d_PUBKEY);
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* pub = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (pub == nullptr) ClearOpenSslErrors();
  return PublicKey(internal::SharedPkey(pub));
}

bool PrivateKey::Matches(const PublicKey& key) const {
  return key.get0() != nullptr && EVP_PKEY_eq(key_.get(), key.get0()) == 1;
}

}  // namespace meshid::pki
