#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace meshid::store {

// The CA server's persistent state. Records hold plain values (DER bytes, hex serials,
// SPIFFE ID strings): the store does not interpret certificates. Every method is safe to
// call from several threads. A method that changes several rows does so in one transaction:
// after a crash either all of it or none of it is there, and once a method has returned OK
// its change survives a kill -9 of the process.

// SlotState is where an issuing CA stands in the A/B rotation (SPIRE's model).
enum class SlotState { kPrepared, kActive, kRetired };

struct IssuingCaRecord {
  std::string serial;  // certificate serial, lowercase hex; the key
  std::string slot;    // "A" or "B"
  SlotState state = SlotState::kPrepared;
  std::string certificate_der;  // the issuing CA certificate
  std::string key_path;         // file holding its private key (the store never holds keys)
  absl::Time not_before;
  absl::Time not_after;
  absl::Time created_at;
  std::optional<absl::Time> activated_at;
};

struct JoinTokenRecord {
  std::string token_hash;  // SHA-256 of the token, lowercase hex; the key. Tokens are never stored.
  std::string node_name;   // the node the token is for; empty when the agent names itself
  absl::Time created_at;
  absl::Time expires_at;
  std::optional<absl::Time> used_at;
};

struct NodeRecord {
  std::string name;       // the key
  std::string spiffe_id;  // spiffe://<td>/meshid/node/<name>
  absl::Time attested_at;
  std::string svid_serial;  // the node SVID most recently issued
  absl::Time svid_not_after;
  bool evicted = false;
  std::optional<absl::Time> evicted_at;
};

struct EntryRecord {
  std::string id;  // the key (assigned by the caller, e.g. 32 hex digits)
  std::string spiffe_id;
  std::string parent_id;               // the SPIFFE ID of the node the entry belongs to
  std::vector<std::string> selectors;  // stored and returned sorted
  std::optional<absl::Duration> ttl;
  std::vector<std::string> dns_names;  // order kept
  std::string hint;
  absl::Time created_at;
  int64_t revision = 0;  // assigned by CreateEntry: the revision at which it was created
};

// EntryChanges is what changed for one parent since a revision.
struct EntryChanges {
  bool full = false;                     // true: `entries` is the whole set (a first sync, or a
                                         // revision the store does not know)
  std::vector<EntryRecord> entries;      // created since the revision (or all, when full)
  std::vector<std::string> deleted_ids;  // deleted since the revision (empty when full)
  int64_t revision = 0;                  // the store's current entries revision
};

// IssuanceRecord is one certificate the CA issued, written before the certificate is
// returned to anyone.
struct IssuanceRecord {
  std::string serial;  // lowercase hex; the key. A repeated serial is AlreadyExists.
  std::string spiffe_id;
  std::string kind;               // "workload", "node" or "server"
  std::string node;               // the node it was issued to (empty for "server")
  std::string issuing_ca_serial;  // serial of the CA that signed it
  absl::Time not_before;
  absl::Time not_after;
  absl::Time issued_at;
};

// JwtKeyRecord is a JWT-SVID signing key as the bundle publishes it.
struct JwtKeyRecord {
  std::string key_id;
  std::string public_key_der;  // SubjectPublicKeyInfo
  absl::Time not_after;        // no JWT-SVID it signs outlives this
};

struct BundleRecord {
  std::vector<std::string> roots_der;  // in the order they were added
  std::vector<JwtKeyRecord> jwt_keys;  // oldest first
  uint64_t sequence = 0;               // grows by one on every change, never reused
};

class DataStore {
 public:
  virtual ~DataStore() = default;

  // ---- issuing CA journal ----
  virtual absl::StatusOr<std::vector<IssuingCaRecord>> ListIssuingCas() = 0;
  // PutIssuingCas inserts or replaces (by serial) every record, in one transaction.
  virtual absl::Status PutIssuingCas(const std::vector<IssuingCaRecord>& records) = 0;
  virtual absl::Status DeleteIssuingCa(const std::string& serial) = 0;  // NotFound if absent

  // ---- join tokens ----
  virtual absl::Status CreateJoinToken(const JoinTokenRecord& token) = 0;  // AlreadyExists
  // AttestNode, in one transaction: consumes the token (NotFound when unknown,
  // FailedPrecondition when already used or expired at `now`), upserts `node` and records
  // `svid`. When `node.name` is empty it is taken from the token; when the token names a
  // node and `node.name` differs, PermissionDenied. On any error nothing changes.
  virtual absl::Status AttestNode(const std::string& token_hash, absl::Time now,
                                  const NodeRecord& node, const IssuanceRecord& svid) = 0;
  virtual absl::StatusOr<std::optional<JoinTokenRecord>> GetJoinToken(
      const std::string& token_hash) = 0;

  // ---- nodes ----
  virtual absl::StatusOr<std::optional<NodeRecord>> GetNode(const std::string& name) = 0;
  virtual absl::StatusOr<std::vector<NodeRecord>> ListNodes() = 0;  // sorted by name
  // RenewNode, in one transaction: updates the node's SVID serial and expiry and records
  // `svid`. NotFound for an unknown node, PermissionDenied for an evicted one.
  virtual absl::Status RenewNode(const std::string& name, const IssuanceRecord& svid) = 0;
  // EvictNode marks the node evicted at `now` (NotFound if unknown; evicting twice is OK).
  virtual absl::Status EvictNode(const std::string& name, absl::Time now) = 0;

  // ---- registration entries ----
  // CreateEntry stores `entry`, assigns it the next revision and returns it as stored.
  // AlreadyExists when an entry with the same id, or the same SPIFFE ID, parent and selector
  // set, exists.
  virtual absl::StatusOr<EntryRecord> CreateEntry(const EntryRecord& entry) = 0;
  virtual absl::StatusOr<std::optional<EntryRecord>> GetEntry(const std::string& id) = 0;
  // ListEntries returns every entry (or only those of `parent_id` when not empty), sorted by
  // SPIFFE ID then id.
  virtual absl::StatusOr<std::vector<EntryRecord>> ListEntries(const std::string& parent_id) = 0;
  // DeleteEntry removes the entry and remembers the deletion at the next revision, so that
  // EntryChangesSince reports it. NotFound if absent.
  virtual absl::Status DeleteEntry(const std::string& id) = 0;
  // EntryChangesSince returns the changes to `parent_id`'s entries after `revision`; 0 (or a
  // revision above the current one) gives the full set.
  virtual absl::StatusOr<EntryChanges> EntryChangesSince(const std::string& parent_id,
                                                         int64_t revision) = 0;

  // ---- issuance records ----
  // RecordIssuances stores every record in one transaction (AlreadyExists on a repeated
  // serial, and then none is stored).
  virtual absl::Status RecordIssuances(const std::vector<IssuanceRecord>& records) = 0;
  virtual absl::StatusOr<std::optional<IssuanceRecord>> GetIssuance(const std::string& serial) = 0;
  virtual absl::StatusOr<int64_t> CountIssuances() = 0;
  // CountEntries returns how many registration entries there are (for metrics).
  virtual absl::StatusOr<int64_t> CountEntries() = 0;

  // ---- trust bundle ----
  virtual absl::StatusOr<BundleRecord> GetBundle() = 0;
  // AddRoot appends a root and bumps the sequence (AlreadyExists when present).
  virtual absl::StatusOr<BundleRecord> AddRoot(const std::string& root_der) = 0;
  // RemoveRoot removes a root and bumps the sequence (NotFound when absent).
  virtual absl::StatusOr<BundleRecord> RemoveRoot(const std::string& root_der) = 0;
  // AddJwtKey publishes a JWT signing key (AlreadyExists for a known key ID).
  virtual absl::StatusOr<BundleRecord> AddJwtKey(const JwtKeyRecord& key) = 0;
  // RemoveJwtKey withdraws a JWT signing key (NotFound when unknown).
  virtual absl::StatusOr<BundleRecord> RemoveJwtKey(const std::string& key_id) = 0;
};

struct SqliteOptions {
  // synchronous=FULL also survives power loss, at an fsync per transaction; NORMAL (the
  // default) survives a kill -9 of the process, which is what acknowledgements promise.
  bool full_sync = false;
};

// OpenSqlite opens (creating it 0600 when absent) the SQLite database at `path` in WAL mode
// and applies the schema migrations it lacks. A database written by a newer meshid (schema
// version above the known one) is FailedPrecondition.
absl::StatusOr<std::unique_ptr<DataStore>> OpenSqlite(const std::string& path,
                                                      const SqliteOptions& options = {});

}  // namespace meshid::store
