#include "issuing_ca.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "meshid/base/duration.h"
#include "meshid/base/files.h"
#include "meshid/base/log.h"
#include "meshid/base/status.h"

namespace meshid::ca {
namespace {

constexpr char kIssuingName[] = "meshid issuing CA";

std::shared_ptr<spdlog::logger> Log() { return base::Logger("ca"); }

}  // namespace

absl::Time PrepareAt(absl::Time minted, absl::Time not_after) {
  return minted + (not_after - minted) / 2;
}

absl::Time ActivateAt(absl::Time minted, absl::Time not_after) {
  return minted + (not_after - minted) * 5 / 6;
}

IssuingCaManager::IssuingCaManager(pki::CaDirectory upstream, store::DataStore& store,
                                   IssuingCaOptions options, const base::Clock& clock)
    : upstream_(std::move(upstream)), store_(store), options_(std::move(options)), clock_(clock) {}

std::string IssuingCaManager::OtherSlot() const {
  return active_ != nullptr && active_->slot == "A" ? "B" : "A";
}

absl::StatusOr<IssuingCaManager::Slot> IssuingCaManager::Load(
    const store::IssuingCaRecord& record) const {
  MESHID_ASSIGN_OR_RETURN(pki::Certificate cert, pki::Certificate::FromDer(record.certificate_der));
  MESHID_ASSIGN_OR_RETURN(pki::PrivateKey key, pki::ReadPrivateKeyFile(record.key_path));
  if (!key.Matches(cert.public_key())) {
    return absl::DataLossError(
        absl::StrCat(record.key_path, ": does not belong to issuing CA ", record.serial));
  }
  pki::Signer signer{cert, key};
  MESHID_ASSIGN_OR_RETURN(pki::LeafIssuer leaf_issuer, pki::LeafIssuer::Create(signer));
  std::vector<pki::Certificate> chain{cert};
  chain.insert(chain.end(), upstream_.chain.begin(), upstream_.chain.end());
  std::vector<std::string> der;
  for (const pki::Certificate& c : chain) der.push_back(c.ToDer());
  auto ca =
      std::make_shared<SigningCa>(SigningCa{std::move(signer), std::move(chain), record.serial,
                                            record.slot, std::move(der), std::move(leaf_issuer)});
  return Slot{record, ca};
}

absl::StatusOr<IssuingCaManager::Slot> IssuingCaManager::Mint(const std::string& slot_name,
                                                              store::SlotState state,
                                                              absl::Time now) {
  MESHID_ASSIGN_OR_RETURN(pki::PrivateKey key, pki::PrivateKey::Generate(options_.key_type));
  pki::CaProfile profile{options_.trust_domain, kIssuingName, options_.ttl, 0};
  absl::StatusOr<pki::Certificate> cert =
      pki::IssueIntermediateCa(upstream_.signer, key.public_key(), profile, now);
  if (!cert.ok()) return base::Annotate(cert.status(), "minting an issuing CA under the upstream");
  std::string serial = cert->serial_hex();
  store::IssuingCaRecord record{
      serial,
      slot_name,
      state,
      cert->ToDer(),
      pki::JoinPath(options_.key_dir, absl::StrCat("issuing-", serial, ".key")),
      cert->not_before(),
      cert->not_after(),
      now,
      std::nullopt};
  if (state == store::SlotState::kActive) record.activated_at = now;
  // The key lands on disk before the journal names it: a crash in between leaves an unused
  // file, never a journal entry without its key.
  base::StagedFiles files;
  MESHID_ASSIGN_OR_RETURN(base::SecretString key_pem, key.ToPkcs8Pem());
  files.AddSecret(record.key_path, std::move(key_pem));
  MESHID_RETURN_IF_ERROR(files.Commit(/*overwrite=*/false));
  Log()->info("minted issuing CA serial={} slot={} state={} not_after={}", serial, slot_name,
              state == store::SlotState::kActive ? "active" : "prepared",
              base::Rfc3339(cert->not_after()));
  if (now + options_.ttl > upstream_.signer.certificate.not_after()) {
    Log()->warn("issuing CA serial={} was cut to end with the upstream at {}: rotate the upstream",
                serial, base::Rfc3339(upstream_.signer.certificate.not_after()));
  }
  return Load(record);
}

absl::Status IssuingCaManager::Initialize() {
  MESHID_ASSIGN_OR_RETURN(std::vector<store::IssuingCaRecord> records, store_.ListIssuingCas());
  absl::Time now = clock_.Now();
  std::lock_guard<std::mutex> lock(mu_);
  slots_.clear();
  active_ = nullptr;
  for (const store::IssuingCaRecord& record : records) {
    if (record.not_after <= now) continue;  // expired: Tick forgets it
    absl::StatusOr<Slot> slot = Load(record);
    if (!slot.ok()) {
      Log()->error("issuing CA serial={} cannot be used: {}", record.serial,
                   slot.status().message());
      continue;
    }
    if (record.state == store::SlotState::kActive) active_ = slot->ca;
    slots_.push_back(*std::move(slot));
  }
  if (active_ != nullptr) {
    Log()->info("resuming with issuing CA serial={} slot={}", active_->serial, active_->slot);
    return absl::OkStatus();
  }
  MESHID_ASSIGN_OR_RETURN(Slot minted, Mint(OtherSlot(), store::SlotState::kActive, now));
  // Whatever else the journal held is now out of rotation.
  std::vector<store::IssuingCaRecord> updates = {minted.record};
  for (Slot& s : slots_) {
    s.record.state = store::SlotState::kRetired;
    updates.push_back(s.record);
  }
  MESHID_RETURN_IF_ERROR(store_.PutIssuingCas(updates));
  active_ = minted.ca;
  slots_.push_back(std::move(minted));
  return absl::OkStatus();
}

absl::StatusOr<absl::Time> IssuingCaManager::Tick() {
  absl::Time now = clock_.Now();
  std::shared_ptr<const SigningCa> activated;
  absl::Time next;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto find = [this](store::SlotState state) -> Slot* {
      for (Slot& s : slots_) {
        if (s.record.state == state) return &s;
      }
      return nullptr;
    };
    Slot* active = find(store::SlotState::kActive);
    if (active == nullptr || active->record.not_after <= now) {
      // The active CA ran out (the server was stopped or the upstream could not sign):
      // start over with a fresh one.
      MESHID_ASSIGN_OR_RETURN(Slot minted, Mint(OtherSlot(), store::SlotState::kActive, now));
      std::vector<store::IssuingCaRecord> updates = {minted.record};
      for (Slot& s : slots_) {
        if (s.record.state != store::SlotState::kRetired) {
          s.record.state = store::SlotState::kRetired;
          updates.push_back(s.record);
        }
      }
      MESHID_RETURN_IF_ERROR(store_.PutIssuingCas(updates));
      slots_.push_back(std::move(minted));
      active_ = slots_.back().ca;
      activated = active_;
      active = &slots_.back();
    }
    absl::Time nb = active->record.created_at;
    absl::Time na = active->record.not_after;
    Slot* prepared = find(store::SlotState::kPrepared);
    // A successor cut to the same end as the upstream would not outlive the active CA:
    // rotating then only churns. The server warns about the upstream instead.
    bool can_outlive = upstream_.signer.certificate.not_after() > na;
    if (prepared == nullptr && can_outlive && now >= PrepareAt(nb, na)) {
      MESHID_ASSIGN_OR_RETURN(Slot minted, Mint(OtherSlot(), store::SlotState::kPrepared, now));
      MESHID_RETURN_IF_ERROR(store_.PutIssuingCas({minted.record}));
      slots_.push_back(std::move(minted));
      active = find(store::SlotState::kActive);
      prepared = &slots_.back();
    }
    if (prepared != nullptr && now >= ActivateAt(nb, na)) {
      store::IssuingCaRecord old = active->record;
      store::IssuingCaRecord fresh = prepared->record;
      old.state = store::SlotState::kRetired;
      fresh.state = store::SlotState::kActive;
      fresh.activated_at = now;
      MESHID_RETURN_IF_ERROR(store_.PutIssuingCas({old, fresh}));
      active->record = old;
      prepared->record = fresh;
      active_ = prepared->ca;
      activated = active_;
      Log()->info("activated issuing CA serial={} slot={}; retired serial={}", fresh.serial,
                  fresh.slot, old.serial);
    }
    // Forget retired CAs that have expired; their leaves have too.
    for (auto it = slots_.begin(); it != slots_.end();) {
      if (it->record.state == store::SlotState::kRetired && it->record.not_after <= now) {
        absl::Status deleted = store_.DeleteIssuingCa(it->record.serial);
        if (!deleted.ok() && deleted.code() != absl::StatusCode::kNotFound) return deleted;
        std::error_code ignored;
        std::filesystem::remove(it->record.key_path, ignored);
        it = slots_.erase(it);
      } else {
        ++it;
      }
    }
    active = find(store::SlotState::kActive);
    nb = active->record.created_at;
    na = active->record.not_after;
    prepared = find(store::SlotState::kPrepared);
    next = prepared != nullptr                             ? ActivateAt(nb, na)
           : upstream_.signer.certificate.not_after() > na ? PrepareAt(nb, na)
                                                           : na;
    for (const Slot& s : slots_) {
      if (s.record.state == store::SlotState::kRetired) next = std::min(next, s.record.not_after);
    }
  }
  if (activated != nullptr) {
    std::vector<std::function<void(const SigningCa&)>> callbacks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      callbacks = on_activate_;
    }
    for (const auto& callback : callbacks) callback(*activated);
  }
  return next;
}

std::shared_ptr<const SigningCa> IssuingCaManager::Active() const {
  std::lock_guard<std::mutex> lock(mu_);
  return active_;
}

std::vector<SlotView> IssuingCaManager::Slots() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<SlotView> views;
  for (const Slot& s : slots_) {
    views.push_back(
        {s.record.slot, s.record.serial, s.record.state, s.record.not_before, s.record.not_after});
  }
  return views;
}

void IssuingCaManager::OnActivate(std::function<void(const SigningCa&)> callback) {
  std::lock_guard<std::mutex> lock(mu_);
  on_activate_.push_back(std::move(callback));
}

}  // namespace meshid::ca
