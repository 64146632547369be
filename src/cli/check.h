#pragma once

// The checks behind `meshid check`: every level of a CA hierarchy against the rules and
// lifetime thresholds that prevent certificate outages.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "meshid/pki/certificate.h"
#include "meshid/pki/key.h"

namespace meshid::cli {

enum class CheckStatus { kOk, kWarn, kFail };
absl::string_view CheckStatusName(CheckStatus status);  // "ok", "warn", "fail"

struct CheckResult {
  std::string group;  // heading the result is printed under, e.g. `root CA "CN=..."`
  std::string name;   // stable name, e.g. "root.lifetime"
  CheckStatus status;
  std::string detail;  // one line
};

// Level is where a certificate sits in the hierarchy. Self-signed CAs are roots. The CA
// material an operator hands over (a CA directory, a Secret, --chain) is an intermediate,
// whatever its lifetime. A CA seen only in a leaf's presented chain is an issuing CA
// (minted and rotated by a CA server) when it lives at most kIssuingMaxLifetime, else an
// intermediate.
enum class Level { kRoot, kIntermediate, kIssuing, kLeaf };
inline constexpr absl::Duration kIssuingMaxLifetime = absl::Hours(24 * 30);
absl::string_view LevelName(Level level);  // "root", "intermediate", "issuing", "leaf"

// Threshold is a limit on remaining life: an absolute duration, a fraction of the
// certificate's whole lifetime, or both, in which case the smaller applies. The defaults for
// issuing CAs and leaves combine both, so that a short-lived certificate is judged against
// its own lifetime (a fresh 1-hour SVID is not "below 4 hours"); roots and intermediates are
// judged by absolute durations only. A threshold given on the command line is exactly what
// the operator asked for.
struct Threshold {
  std::optional<absl::Duration> absolute;
  std::optional<double> fraction;

  absl::Duration For(absl::Duration lifetime) const;
  std::string ToString() const;
};

// ParseThreshold reads "730d", "4h" or "33%".
absl::StatusOr<Threshold> ParseThreshold(absl::string_view text);

struct LevelThresholds {
  Threshold warn;
  Threshold critical;
};

struct Thresholds {
  LevelThresholds root;
  LevelThresholds intermediate;
  LevelThresholds issuing;
  LevelThresholds leaf;

  // Defaults returns REFERENCE.md's thresholds: root 2y / 180d, intermediate 180d / 30d,
  // issuing 30d / 7d capped at 1/3 and 1/6 of the lifetime (SPIRE's rotation points), leaf
  // 4h / 1h capped at 1/2 and 1/6 of the lifetime (renewal is due at half life).
  static Thresholds Defaults();
  LevelThresholds& For(Level level);
  const LevelThresholds& For(Level level) const;
};

// CheckInput is a hierarchy as found on disk or in a Secret.
struct CheckInput {
  std::vector<pki::Certificate> bundle;      // trust anchors
  std::vector<pki::Certificate> ca_chain;    // the online signing CA first, then its issuers
  std::optional<pki::PrivateKey> ca_key;     // the signing CA's key, when given
  std::string ca_key_source;                 // where the key came from, for messages
  std::vector<pki::Certificate> leaf_chain;  // a leaf and the CAs it was presented with
  // CA levels the CA server mints below ca_chain[0] (1 for meshid: its issuing CAs).
  int levels_below_ca = 0;
  // Files holding a root private key: beside the online CA key (a failure), or in the
  // offline root/ directory of a `meshid pki init` tree that has not been moved yet.
  std::vector<std::string> root_keys_beside_ca_key;
  std::vector<std::string> root_keys_in_tree;
};

// RunChecks runs every check that applies to `input` at `now`.
std::vector<CheckResult> RunChecks(const CheckInput& input, const Thresholds& thresholds,
                                   absl::Time now);

// Worst returns the worst status among `results` (kOk when empty).
CheckStatus Worst(const std::vector<CheckResult>& results);

}  // namespace meshid::cli
