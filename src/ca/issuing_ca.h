#pragma once

// Private to the ca module: the self-rotating issuing CA (SPIRE's A/B slots).

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "meshid/base/clock.h"
#include "meshid/pki/ca_directory.h"
#include "meshid/pki/certificate.h"
#include "meshid/pki/issue.h"
#include "meshid/store/data_store.h"

namespace meshid::ca {

// SigningCa is an issuing CA ready to sign: its signer and the chain a leaf it signs is
// presented with (the issuing CA, then the upstream chain; the root excluded).
struct SigningCa {
  pki::Signer signer;
  std::vector<pki::Certificate> chain;
  std::string serial;
  std::string slot;
  // chain_der is `chain` DER-encoded once, instead of for every SVID sent.
  std::vector<std::string> chain_der;
  pki::LeafIssuer leaf_issuer;
};

// SlotView describes one journal record, for metrics and the admin API.
struct SlotView {
  std::string slot;
  std::string serial;
  store::SlotState state;
  absl::Time not_before;
  absl::Time not_after;
};

struct IssuingCaOptions {
  pki::TrustDomain trust_domain;
  absl::Duration ttl;
  pki::KeyType key_type;
  std::string key_dir;  // where issuing CA keys are written, 0600
};

// IssuingCaManager mints the server's issuing CAs under the upstream CA and rotates them:
// the next CA is prepared (minted into the other slot) at 1/2 of the active one's life and
// activated at 5/6, when the old one is retired; retired CAs are forgotten once expired.
// The journal lives in the store, keys in files under key_dir, so a restart resumes where
// the server stopped. Thread-safe.
class IssuingCaManager {
 public:
  IssuingCaManager(pki::CaDirectory upstream, store::DataStore& store, IssuingCaOptions options,
                   const base::Clock& clock);

  // Initialize loads the journal and makes sure a valid CA is active, minting one when
  // none is (a first start, or a server that was down past its CA's end).
  absl::Status Initialize();

  // Tick performs the transitions due now and returns the time of the next one.
  absl::StatusOr<absl::Time> Tick();

  // Active returns the CA to sign with; never null after a successful Initialize.
  std::shared_ptr<const SigningCa> Active() const;

  // Slots returns the journal as it stands.
  std::vector<SlotView> Slots() const;

  const pki::CaDirectory& upstream() const { return upstream_; }

  // OnActivate registers a callback run (outside the lock) after each activation.
  void OnActivate(std::function<void(const SigningCa&)> callback);

 private:
  struct Slot {
    store::IssuingCaRecord record;
    std::shared_ptr<const SigningCa> ca;
  };

  absl::StatusOr<Slot> Mint(const std::string& slot_name, store::SlotState state, absl::Time now);
  absl::StatusOr<Slot> Load(const store::IssuingCaRecord& record) const;
  std::string OtherSlot() const;

  const pki::CaDirectory upstream_;
  store::DataStore& store_;
  const IssuingCaOptions options_;
  const base::Clock& clock_;

  mutable std::mutex mu_;
  std::vector<Slot> slots_;  // the active one, a prepared one, and retired ones not yet expired
  std::shared_ptr<const SigningCa> active_;
  std::vector<std::function<void(const SigningCa&)>> on_activate_;
};

// PrepareAt and ActivateAt are the rotation points of a CA minted at `minted` (its
// notBefore is back-dated; the fractions count from when it was made) that ends at
// `not_after`.
absl::Time PrepareAt(absl::Time minted, absl::Time not_after);
absl::Time ActivateAt(absl::Time minted, absl::Time not_after);

}  // namespace meshid::ca
