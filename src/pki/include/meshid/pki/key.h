#pragma once

#include <memory>
#include <string>

#include <openssl/types.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "meshid/base/secret.h"

namespace meshid::pki {

// KeyType names the key algorithms meshid generates.
enum class KeyType { kEcP256, kEcP384, kRsa2048, kRsa3072, kRsa4096 };

// ParseKeyType reads "ec-p256", "ec-p384", "rsa-2048", "rsa-3072" or "rsa-4096".
absl::StatusOr<KeyType> ParseKeyType(absl::string_view name);
absl::string_view KeyTypeName(KeyType type);
// KeyTypeNames lists every accepted name, comma-separated, for help texts and errors.
std::string KeyTypeNames();

// PublicKeyInfo describes a public key for people and for strength rules.
struct PublicKeyInfo {
  std::string algorithm;  // "EC", "RSA", "ED25519", ...
  std::string curve;      // NIST name for EC keys ("P-256"), else empty
  int bits = 0;
  // weak is true for RSA below 2048 bits, EC below 256 bits, and DSA.
  bool weak = false;

  // Describe returns "EC P-256", "RSA 2048", "ED25519".
  std::string Describe() const;
};

// PublicKey is an immutable public key, shared cheaply on copy.
class PublicKey {
 public:
  // FromDer parses a DER SubjectPublicKeyInfo.
  static absl::StatusOr<PublicKey> FromDer(absl::string_view der);

  PublicKeyInfo info() const;
  // ToDer returns the DER SubjectPublicKeyInfo.
  std::string ToDer() const;
  // get0 returns the key; it stays owned by this object and its copies.
  EVP_PKEY* get0() const { return key_.get(); }

  // spki_der returns the SubjectPublicKeyInfo exactly as received, when the key came from
  // ParseCsrPublicKey or a certificate's encoding (issuance then copies it instead of
  // re-encoding the key); else "".
  const std::string& spki_der() const { return spki_der_; }

  friend bool operator==(const PublicKey& a, const PublicKey& b);

 private:
  explicit PublicKey(std::shared_ptr<EVP_PKEY> key, std::string spki_der = "")
      : key_(std::move(key)), spki_der_(std::move(spki_der)) {}
  friend class PrivateKey;
  friend class Certificate;
  friend class CertificateRequest;
  friend absl::StatusOr<struct CsrPublicKey> ParseCsrPublicKey(absl::string_view data);
  std::shared_ptr<EVP_PKEY> key_;
  std::string spki_der_;
};

// PrivateKey is an asymmetric private key. Its memory is cleansed by OpenSSL when the last
// copy is destroyed; never log it.
class PrivateKey {
 public:
  static absl::StatusOr<PrivateKey> Generate(KeyType type);

  // Parse reads one private key: PEM (PKCS#8, encrypted PKCS#8, or the traditional
  // "EC PRIVATE KEY" / "RSA PRIVATE KEY" forms Istio and Linkerd write) or unencrypted
  // PKCS#8 DER. An encrypted key needs `passphrase`; a missing or wrong passphrase, or a file
  // that holds a certificate instead, is InvalidArgument with a message saying so.
  static absl::StatusOr<PrivateKey> Parse(absl::string_view data,
                                          absl::string_view passphrase = {});

  // IsEncryptedPem reports whether `data` holds an encrypted PEM private key.
  static bool IsEncryptedPem(absl::string_view data);

  absl::StatusOr<base::SecretString> ToPkcs8Pem() const;
  absl::StatusOr<base::SecretString> ToPkcs8Der() const;
  // ToEncryptedPkcs8Pem encrypts with AES-256-CBC under a PBKDF2-derived key.
  absl::StatusOr<base::SecretString> ToEncryptedPkcs8Pem(absl::string_view passphrase) const;

  PublicKey public_key() const;
  // Matches reports whether `key` is this key's public half.
  bool Matches(const PublicKey& key) const;

  // get0 returns the key; it stays owned by this object and its copies.
  EVP_PKEY* get0() const { return key_.get(); }

 private:
  explicit PrivateKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {}
  std::shared_ptr<EVP_PKEY> key_;
};

}  // namespace meshid::pki
