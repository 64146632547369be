#include "svid_cache.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "meshid/pki/certificate.h"
#include "spiffe/workload/workload.pb.h"

namespace meshid::agent {

std::string EntryFingerprint(const ca::v1::Entry& entry) {
  return absl::StrCat(entry.spiffe_id(), "|", absl::StrJoin(entry.dns_names(), ","), "|",
                      entry.ttl_seconds());
}

SvidCache::SvidCache() : current_(std::make_shared<Snapshot>()) {}

std::shared_ptr<const Snapshot> SvidCache::Get() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

void SvidCache::Update(const std::function<void(Snapshot&)>& change) {
  std::lock_guard<std::mutex> lock(mu_);
  auto next = std::make_shared<Snapshot>(*current_);
  change(*next);
  next->generation = current_->generation + 1;
  current_ = std::move(next);
  changed_.notify_all();
}

std::shared_ptr<const Snapshot> SvidCache::WaitForChange(uint64_t seen, absl::Time deadline) const {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_until(lock, absl::ToChronoTime(deadline),
                      [&] { return shutdown_ || current_->generation != seen; });
  return current_;
}

bool SvidCache::shut_down() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shutdown_;
}

void SvidCache::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutdown_ = true;
  changed_.notify_all();
}

namespace {

void WipeAndFree(void* buffer, size_t size) {
  base::SecureZero(buffer, size);
  delete[] static_cast<char*>(buffer);
}

}  // namespace

grpc::Slice EncodeX509Fields(const std::string& spiffe_id, const std::string& chain_der,
                             const base::SecretString& key_der) {
  X509SVID fields;
  fields.set_spiffe_id(spiffe_id);
  fields.set_x509_svid(chain_der);
  fields.mutable_x509_svid_key()->assign(key_der.view().data(), key_der.size());
  const size_t size = fields.ByteSizeLong();
  auto* buffer = new char[size];
  fields.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(buffer));
  std::string& key = *fields.mutable_x509_svid_key();
  base::SecureZero(key.data(), key.size());
  return grpc::Slice(buffer, size, WipeAndFree);
}

void SetBundle(Snapshot& snapshot, pki::TrustBundle bundle) {
  snapshot.bundle_der = pki::ToDer(bundle.x509_authorities());
  X509SVID bundle_only;
  bundle_only.set_bundle(snapshot.bundle_der);
  snapshot.x509_bundle_field = grpc::Slice(bundle_only.SerializeAsString());
  snapshot.jwt_authorities = bundle.ParsedJwtAuthorities();
  snapshot.jwks_json = pki::JwksJson(snapshot.jwt_authorities);
  snapshot.bundle = std::make_shared<const pki::TrustBundle>(std::move(bundle));
}

}  // namespace meshid::agent
