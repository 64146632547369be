#include "svid_cache.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "meshid/pki/certificate.h"

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

void SetBundle(Snapshot& snapshot, pki::TrustBundle bundle) {
  snapshot.bundle_der = pki::ToDer(bundle.x509_authorities());
  snapshot.jwt_authorities = bundle.ParsedJwtAuthorities();
  snapshot.jwks_json = pki::JwksJson(snapshot.jwt_authorities);
  snapshot.bundle = std::make_shared<const pki::TrustBundle>(std::move(bundle));
}

}  // namespace meshid::agent
