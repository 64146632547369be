// The registration-entry half of SqliteStore: entries, their selectors and DNS names, and
// the revision log (entries_revision and tombstones) that agents sync from.

#include <algorithm>
#include <string>
#include <unordered_set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "meshid/base/status.h"
#include "sqlite_store.h"

namespace meshid::store::internal {
namespace {

constexpr absl::string_view kRevisionKey = "entries_revision";

// The SELECT list that ReadEntries expects, in this order.
#define MESHID_ENTRY_COLUMNS "id, spiffe_id, parent_id, ttl_seconds, hint, created_at, revision"

constexpr absl::string_view kSelectEntryById =
    "SELECT " MESHID_ENTRY_COLUMNS " FROM entries WHERE id = ?1";
constexpr absl::string_view kSelectAllEntries =
    "SELECT " MESHID_ENTRY_COLUMNS " FROM entries ORDER BY spiffe_id, id";
constexpr absl::string_view kSelectEntriesOfParent =
    "SELECT " MESHID_ENTRY_COLUMNS " FROM entries WHERE parent_id = ?1 ORDER BY spiffe_id, id";
constexpr absl::string_view kSelectAllEntriesAfter =
    "SELECT " MESHID_ENTRY_COLUMNS " FROM entries WHERE revision > ?1 ORDER BY spiffe_id, id";
constexpr absl::string_view kSelectEntriesOfParentAfter =
    "SELECT " MESHID_ENTRY_COLUMNS
    " FROM entries WHERE parent_id = ?1 AND revision > ?2 ORDER BY spiffe_id, id";

#undef MESHID_ENTRY_COLUMNS

// SelectorSet encodes sorted, distinct selectors unambiguously (each length-prefixed, so no
// selector text can imitate a boundary): two entries have the same set exactly when their
// encodings are equal.
std::string SelectorSet(const std::vector<std::string>& sorted) {
  std::string out;
  for (const std::string& s : sorted) absl::StrAppend(&out, s.size(), ":", s, ";");
  return out;
}

absl::Status ValidateEntry(const EntryRecord& e) {
  if (e.id.empty()) return absl::InvalidArgumentError("entry id is empty");
  if (e.spiffe_id.empty()) return absl::InvalidArgumentError("entry SPIFFE ID is empty");
  if (e.parent_id.empty()) return absl::InvalidArgumentError("entry parent ID is empty");
  if (e.ttl.has_value() && *e.ttl < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("entry TTL is negative");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<EntryRecord>> SqliteStore::ReadEntries(absl::string_view op,
                                                                  Statement& select) {
  std::vector<EntryRecord> out;
  while (true) {
    MESHID_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    EntryRecord& e = out.emplace_back();
    e.id = select.ColumnText(0);
    e.spiffe_id = select.ColumnText(1);
    e.parent_id = select.ColumnText(2);
    if (!select.IsNull(3)) e.ttl = absl::Seconds(select.ColumnInt(3));
    e.hint = select.ColumnText(4);
    e.created_at = select.ColumnTime(5);
    e.revision = select.ColumnInt(6);
  }
  if (out.empty()) return out;
  MESHID_ASSIGN_OR_RETURN(
      Statement selectors,
      Prepare(op, "SELECT selector FROM entry_selectors WHERE entry_id = ?1 ORDER BY selector"));
  MESHID_ASSIGN_OR_RETURN(
      Statement dns_names,
      Prepare(op, "SELECT dns_name FROM entry_dns_names WHERE entry_id = ?1 ORDER BY position"));
  for (EntryRecord& e : out) {
    selectors.Reset();
    selectors.BindText(e.id);
    while (true) {
      MESHID_ASSIGN_OR_RETURN(bool row, selectors.Step());
      if (!row) break;
      e.selectors.push_back(selectors.ColumnText(0));
    }
    dns_names.Reset();
    dns_names.BindText(e.id);
    while (true) {
      MESHID_ASSIGN_OR_RETURN(bool row, dns_names.Step());
      if (!row) break;
      e.dns_names.push_back(dns_names.ColumnText(0));
    }
  }
  return out;
}

absl::Status SqliteStore::InsertEntryRows(absl::string_view op, const EntryRecord& e,
                                          absl::string_view selector_set) {
  MESHID_ASSIGN_OR_RETURN(
      Statement entry,
      Prepare(op,
              "INSERT INTO entries (id, spiffe_id, parent_id, selector_set, ttl_seconds, hint, "
              "created_at, revision) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  entry.BindText(e.id).BindText(e.spiffe_id).BindText(e.parent_id).BindText(selector_set);
  if (e.ttl.has_value()) {
    entry.BindInt(absl::ToInt64Seconds(*e.ttl));
  } else {
    entry.BindNull();
  }
  entry.BindText(e.hint).BindTime(e.created_at).BindInt(e.revision);
  MESHID_RETURN_IF_ERROR(entry.Run());

  MESHID_ASSIGN_OR_RETURN(
      Statement selector,
      Prepare(op, "INSERT INTO entry_selectors (entry_id, selector) VALUES (?1, ?2)"));
  for (const std::string& s : e.selectors) {
    selector.Reset();
    selector.BindText(e.id).BindText(s);
    MESHID_RETURN_IF_ERROR(selector.Run());
  }
  MESHID_ASSIGN_OR_RETURN(
      Statement dns,
      Prepare(op,
              "INSERT INTO entry_dns_names (entry_id, position, dns_name) VALUES (?1, ?2, ?3)"));
  for (size_t i = 0; i < e.dns_names.size(); ++i) {
    dns.Reset();
    dns.BindText(e.id).BindInt(static_cast<int64_t>(i)).BindText(e.dns_names[i]);
    MESHID_RETURN_IF_ERROR(dns.Run());
  }
  return absl::OkStatus();
}

absl::StatusOr<EntryRecord> SqliteStore::CreateEntry(const EntryRecord& entry) {
  constexpr absl::string_view kOp = "CreateEntry";
  MESHID_RETURN_IF_ERROR(ValidateEntry(entry));
  EntryRecord stored = entry;
  // Selectors are a set: stored sorted, a repeated one once.
  std::sort(stored.selectors.begin(), stored.selectors.end());
  stored.selectors.erase(std::unique(stored.selectors.begin(), stored.selectors.end()),
                         stored.selectors.end());
  if (stored.ttl.has_value()) stored.ttl = absl::Seconds(absl::ToInt64Seconds(*stored.ttl));
  stored.created_at = absl::FromUnixSeconds(absl::ToUnixSeconds(stored.created_at));
  const std::string selector_set = SelectorSet(stored.selectors);

  std::lock_guard lock(mu_);
  MESHID_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_.get(), kOp));
  MESHID_ASSIGN_OR_RETURN(Statement same,
                          Prepare(kOp,
                                  "SELECT id FROM entries WHERE id = ?1 "
                                  "OR (spiffe_id = ?2 AND parent_id = ?3 AND selector_set = ?4) "
                                  "ORDER BY id = ?1 DESC LIMIT 1"));
  same.BindText(stored.id)
      .BindText(stored.spiffe_id)
      .BindText(stored.parent_id)
      .BindText(selector_set);
  MESHID_ASSIGN_OR_RETURN(bool exists, same.Step());
  if (exists) {
    const std::string other = same.ColumnText(0);
    if (other == stored.id) {
      return absl::AlreadyExistsError(absl::StrCat("entry ", stored.id, " already exists"));
    }
    return absl::AlreadyExistsError(absl::StrCat("entry ", other, " already maps SPIFFE ID ",
                                                 stored.spiffe_id, " under parent ",
                                                 stored.parent_id, " with the same selectors"));
  }
  MESHID_ASSIGN_OR_RETURN(stored.revision, BumpCounter(kOp, kRevisionKey));
  MESHID_RETURN_IF_ERROR(InsertEntryRows(kOp, stored, selector_set));
  MESHID_RETURN_IF_ERROR(txn.Commit());
  return stored;
}

absl::StatusOr<std::optional<EntryRecord>> SqliteStore::GetEntry(const std::string& id) {
  constexpr absl::string_view kOp = "GetEntry";
  std::lock_guard lock(mu_);
  MESHID_ASSIGN_OR_RETURN(Transaction txn,
                          Transaction::Begin(db_.get(), kOp, Transaction::Mode::kRead));
  MESHID_ASSIGN_OR_RETURN(Statement select, Prepare(kOp, kSelectEntryById));
  select.BindText(id);
  MESHID_ASSIGN_OR_RETURN(std::vector<EntryRecord> entries, ReadEntries(kOp, select));
  MESHID_RETURN_IF_ERROR(txn.Commit());
  if (entries.empty()) return std::nullopt;
  return std::move(entries.front());
}

absl::StatusOr<std::vector<EntryRecord>> SqliteStore::ListEntries(const std::string& parent_id) {
  constexpr absl::string_view kOp = "ListEntries";
  std::lock_guard lock(mu_);
  MESHID_ASSIGN_OR_RETURN(Transaction txn,
                          Transaction::Begin(db_.get(), kOp, Transaction::Mode::kRead));
  MESHID_ASSIGN_OR_RETURN(
      Statement select,
      Prepare(kOp, parent_id.empty() ? kSelectAllEntries : kSelectEntriesOfParent));
  if (!parent_id.empty()) select.BindText(parent_id);
  MESHID_ASSIGN_OR_RETURN(std::vector<EntryRecord> entries, ReadEntries(kOp, select));
  MESHID_RETURN_IF_ERROR(txn.Commit());
  return entries;
}

absl::Status SqliteStore::DeleteEntry(const std::string& id) {
  constexpr absl::string_view kOp = "DeleteEntry";
  std::lock_guard lock(mu_);
  MESHID_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_.get(), kOp));
  // Selectors and DNS names go with the entry (ON DELETE CASCADE).
  MESHID_ASSIGN_OR_RETURN(Statement del,
                          Prepare(kOp, "DELETE FROM entries WHERE id = ?1 RETURNING parent_id"));
  del.BindText(id);
  MESHID_ASSIGN_OR_RETURN(bool found, del.Step());
  if (!found) return absl::NotFoundError(absl::StrCat("no entry with id ", id));
  const std::string parent_id = del.ColumnText(0);
  MESHID_RETURN_IF_ERROR(del.Run());
  MESHID_ASSIGN_OR_RETURN(int64_t revision, BumpCounter(kOp, kRevisionKey));
  MESHID_ASSIGN_OR_RETURN(
      Statement tombstone,
      Prepare(kOp, "INSERT INTO entry_tombstones (id, parent_id, revision) VALUES (?1, ?2, ?3)"));
  tombstone.BindText(id).BindText(parent_id).BindInt(revision);
  MESHID_RETURN_IF_ERROR(tombstone.Run());
  return txn.Commit();
}

absl::StatusOr<EntryChanges> SqliteStore::EntryChangesSince(const std::string& parent_id,
                                                            int64_t revision) {
  constexpr absl::string_view kOp = "EntryChangesSince";
  std::lock_guard lock(mu_);
  // One snapshot for the counter and the rows, so that the revision returned covers exactly
  // the changes returned.
  MESHID_ASSIGN_OR_RETURN(Transaction txn,
                          Transaction::Begin(db_.get(), kOp, Transaction::Mode::kRead));
  EntryChanges changes;
  MESHID_ASSIGN_OR_RETURN(changes.revision, ReadCounter(kOp, kRevisionKey));
  const bool all_parents = parent_id.empty();
  changes.full = revision <= 0 || revision > changes.revision;
  if (changes.full) {
    MESHID_ASSIGN_OR_RETURN(Statement select,
                            Prepare(kOp, all_parents ? kSelectAllEntries : kSelectEntriesOfParent));
    if (!all_parents) select.BindText(parent_id);
    MESHID_ASSIGN_OR_RETURN(changes.entries, ReadEntries(kOp, select));
    MESHID_RETURN_IF_ERROR(txn.Commit());
    return changes;
  }

  MESHID_ASSIGN_OR_RETURN(
      Statement select,
      Prepare(kOp, all_parents ? kSelectAllEntriesAfter : kSelectEntriesOfParentAfter));
  if (!all_parents) select.BindText(parent_id);
  select.BindInt(revision);
  MESHID_ASSIGN_OR_RETURN(changes.entries, ReadEntries(kOp, select));

  MESHID_ASSIGN_OR_RETURN(
      Statement tombstones,
      Prepare(kOp, all_parents ? "SELECT DISTINCT id FROM entry_tombstones WHERE revision > ?1 "
                                 "ORDER BY id"
                               : "SELECT DISTINCT id FROM entry_tombstones WHERE parent_id = ?1 "
                                 "AND revision > ?2 ORDER BY id"));
  if (!all_parents) tombstones.BindText(parent_id);
  tombstones.BindInt(revision);
  // An id deleted and then created again since `revision` is reported only as an entry,
  // so that applying the deletions and the entries in either order gives the same result.
  std::unordered_set<std::string> live;
  for (const EntryRecord& e : changes.entries) live.insert(e.id);
  while (true) {
    MESHID_ASSIGN_OR_RETURN(bool row, tombstones.Step());
    if (!row) break;
    std::string id = tombstones.ColumnText(0);
    if (!live.contains(id)) changes.deleted_ids.push_back(std::move(id));
  }
  MESHID_RETURN_IF_ERROR(txn.Commit());
  return changes;
}

}  // namespace meshid::store::internal
