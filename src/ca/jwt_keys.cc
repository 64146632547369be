#include "jwt_keys.h"

#include <algorithm>

#include <unistd.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "authority.h"
#include "meshid/base/duration.h"
#include "meshid/base/files.h"
#include "meshid/base/log.h"
#include "meshid/base/status.h"
#include "meshid/pki/ca_directory.h"
#include "meshid/pki/crypto.h"
#include "meshid/pki/jwt.h"

namespace meshid::ca {
namespace {

std::shared_ptr<spdlog::logger> Log() { return base::Logger("ca"); }

}  // namespace

std::string JwtKeyManager::KeyPath(const std::string& id) const {
  return pki::JoinPath(options_.key_dir, absl::StrCat("jwt-", id, ".key"));
}

absl::Status JwtKeyManager::Publish(absl::Time now) {
  MESHID_ASSIGN_OR_RETURN(pki::PrivateKey key, pki::PrivateKey::Generate(pki::KeyType::kEcP256));
  MESHID_ASSIGN_OR_RETURN(std::string random, pki::RandomBytes(16));
  std::string id = absl::BytesToHexString(random);
  // The key lands on disk before the bundle names it: a crash in between leaves an unused
  // file, never a published key that cannot sign.
  base::StagedFiles files;
  MESHID_ASSIGN_OR_RETURN(base::SecretString pem, key.ToPkcs8Pem());
  files.AddSecret(KeyPath(id), std::move(pem));
  MESHID_RETURN_IF_ERROR(files.Commit(/*overwrite=*/false));
  const absl::Time not_after = now + options_.key_ttl;
  MESHID_ASSIGN_OR_RETURN(store::BundleRecord record,
                          store_.AddJwtKey({id, key.public_key().ToDer(), not_after}));
  MESHID_RETURN_IF_ERROR(bundle_.Set(record));
  keys_.push_back({id, key, not_after});
  Log()->info("JWT signing key published kid={} not_after={}", id, base::Rfc3339(not_after));
  return absl::OkStatus();
}

absl::StatusOr<absl::Time> JwtKeyManager::Tick() {
  const absl::Time now = clock_.Now();
  std::lock_guard<std::mutex> lock(mu_);
  MESHID_ASSIGN_OR_RETURN(store::BundleRecord record, store_.GetBundle());
  std::vector<Key> loaded;
  const std::vector<store::JwtKeyRecord> published_keys = record.jwt_keys;  // record changes
  for (const store::JwtKeyRecord& published : published_keys) {
    if (published.not_after <= now) {
      MESHID_ASSIGN_OR_RETURN(record, store_.RemoveJwtKey(published.key_id));
      MESHID_RETURN_IF_ERROR(bundle_.Set(record));
      unlink(KeyPath(published.key_id).c_str());
      Log()->info("JWT signing key withdrawn kid={}", published.key_id);
      continue;
    }
    // A key loaded by an earlier tick is kept: only new ones are read from disk.
    auto held = std::find_if(keys_.begin(), keys_.end(),
                             [&](const Key& k) { return k.id == published.key_id; });
    if (held != keys_.end()) {
      loaded.push_back(*held);
      continue;
    }
    absl::StatusOr<pki::PrivateKey> key = pki::ReadPrivateKeyFile(KeyPath(published.key_id));
    if (key.ok() && key->public_key().ToDer() != published.public_key_der) {
      key = absl::DataLossError(
          absl::StrCat(KeyPath(published.key_id), ": does not match the published key"));
    }
    if (!key.ok()) {
      // Published but unusable here (a lost data_dir): validators may still see its tokens.
      Log()->warn("JWT signing key kid={} cannot be loaded: {}", published.key_id,
                  key.status().message());
      continue;
    }
    loaded.push_back({published.key_id, *key, published.not_after});
  }
  keys_ = std::move(loaded);
  const absl::Duration half = options_.key_ttl / 2;
  if (keys_.empty() || now >= keys_.back().not_after - options_.key_ttl + half) {
    MESHID_RETURN_IF_ERROR(Publish(now));
  }
  absl::Time next = keys_.back().not_after - options_.key_ttl + half;
  for (const Key& k : keys_) next = std::min(next, k.not_after);
  return std::max(next, now + absl::Seconds(1));
}

absl::StatusOr<std::pair<std::string, absl::Time>> JwtKeyManager::Sign(
    const pki::SpiffeId& subject, const std::vector<std::string>& audience, absl::Duration ttl) {
  const absl::Time now = clock_.Now();
  std::lock_guard<std::mutex> lock(mu_);
  // The oldest key with more than a sixth of its life left signs: its successor has been
  // published for a third of a life by the time it takes over.
  const Key* signer = nullptr;
  for (const Key& k : keys_) {
    if (k.not_after - now > options_.key_ttl / 6) {
      signer = &k;
      break;
    }
  }
  if (signer == nullptr && !keys_.empty() && keys_.back().not_after > now) signer = &keys_.back();
  if (signer == nullptr) return absl::UnavailableError("the CA has no JWT signing key yet");
  const absl::Time expiry = std::min(now + ttl, signer->not_after);
  MESHID_ASSIGN_OR_RETURN(
      std::string token, pki::SignJwtSvid(signer->key, signer->id, subject, audience, now, expiry));
  return std::make_pair(std::move(token), expiry);
}

}  // namespace meshid::ca
