// Registration entries in the SQLite DataStore: the duplicate rule, ordering, deletion and
// the revision log that EntryChangesSince reads.

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/store/data_store.h"
#include "store_test_util.h"

namespace meshid::store {
namespace {

using testing::At;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr const char* kNodeA = "spiffe://example.org/meshid/node/a";
constexpr const char* kNodeB = "spiffe://example.org/meshid/node/b";

class SqliteEntriesTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    store_ = Open();
    ASSERT_NE(store_, nullptr);
  }

  static EntryRecord Entry(const std::string& id, const std::string& spiffe_id,
                           const std::string& parent, std::vector<std::string> selectors) {
    EntryRecord e;
    e.id = id;
    e.spiffe_id = spiffe_id;
    e.parent_id = parent;
    e.selectors = std::move(selectors);
    e.created_at = At(3000);
    return e;
  }

  static std::vector<std::string> Ids(const std::vector<EntryRecord>& entries) {
    std::vector<std::string> ids;
    ids.reserve(entries.size());
    for (const EntryRecord& e : entries) ids.push_back(e.id);
    return ids;
  }

  std::unique_ptr<DataStore> store_;
};

TEST_F(SqliteEntriesTest, CreateEntryAssignsRevisionsAndRoundTrips) {
  EntryRecord e = Entry("e1", "spiffe://example.org/ns/a/sa/web", kNodeA,
                        {"unix:uid:1000", "k8s:ns:a", "k8s:sa:web"});
  e.ttl = absl::Minutes(30);
  e.dns_names = {"web.a.svc", "api.example.org", "b.example.org"};
  e.hint = "frontend";
  absl::StatusOr<EntryRecord> created = store_->CreateEntry(e);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->revision, 1);
  EXPECT_THAT(created->selectors, ElementsAre("k8s:ns:a", "k8s:sa:web", "unix:uid:1000"));

  absl::StatusOr<std::optional<EntryRecord>> got = store_->GetEntry("e1");
  ASSERT_TRUE(got.ok() && got->has_value());
  const EntryRecord& g = **got;
  EXPECT_EQ(g.spiffe_id, e.spiffe_id);
  EXPECT_EQ(g.parent_id, kNodeA);
  EXPECT_THAT(g.selectors, ElementsAre("k8s:ns:a", "k8s:sa:web", "unix:uid:1000"));
  EXPECT_EQ(g.ttl, absl::Minutes(30));
  EXPECT_THAT(g.dns_names, ElementsAre("web.a.svc", "api.example.org", "b.example.org"));
  EXPECT_EQ(g.hint, "frontend");
  EXPECT_EQ(g.created_at, At(3000));
  EXPECT_EQ(g.revision, 1);

  absl::StatusOr<EntryRecord> second =
      store_->CreateEntry(Entry("e2", "spiffe://example.org/x", kNodeA, {"unix:uid:1"}));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->revision, 2);
  EXPECT_EQ((*store_->GetEntry("e2"))->ttl, std::nullopt);
  EXPECT_FALSE(store_->GetEntry("e3")->has_value());
}

TEST_F(SqliteEntriesTest, DuplicateEntriesAreAlreadyExists) {
  ASSERT_TRUE(store_->CreateEntry(Entry("e1", "spiffe://td/w", kNodeA, {"a:1", "b:2"})).ok());

  // Same id.
  EXPECT_EQ(store_->CreateEntry(Entry("e1", "spiffe://td/other", kNodeB, {"c:3"})).status().code(),
            absl::StatusCode::kAlreadyExists);
  // Same SPIFFE ID, parent and selector set, given in another order.
  absl::Status same_set =
      store_->CreateEntry(Entry("e2", "spiffe://td/w", kNodeA, {"b:2", "a:1"})).status();
  EXPECT_EQ(same_set.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(same_set.message()), ::testing::HasSubstr("e1"));
  // A repeated selector does not make a different set.
  EXPECT_EQ(store_->CreateEntry(Entry("e2", "spiffe://td/w", kNodeA, {"a:1", "b:2", "a:1"}))
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);

  // Any difference makes another entry.
  EXPECT_TRUE(store_->CreateEntry(Entry("e3", "spiffe://td/w", kNodeA, {"a:1"})).ok());
  EXPECT_TRUE(
      store_->CreateEntry(Entry("e4", "spiffe://td/w", kNodeA, {"a:1", "b:2", "c:3"})).ok());
  EXPECT_TRUE(store_->CreateEntry(Entry("e5", "spiffe://td/w", kNodeB, {"a:1", "b:2"})).ok());
  EXPECT_TRUE(store_->CreateEntry(Entry("e6", "spiffe://td/v", kNodeA, {"a:1", "b:2"})).ok());
  // Selectors whose concatenations coincide are still different sets.
  EXPECT_TRUE(store_->CreateEntry(Entry("e7", "spiffe://td/w", kNodeA, {"a:1b:2"})).ok());

  // Failed creations used no revision.
  absl::StatusOr<EntryChanges> changes = store_->EntryChangesSince(kNodeA, 0);
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ(changes->revision, 6);
}

TEST_F(SqliteEntriesTest, CreateEntryStoresARepeatedSelectorOnce) {
  absl::StatusOr<EntryRecord> e =
      store_->CreateEntry(Entry("e1", "spiffe://td/w", kNodeA, {"b:2", "a:1", "b:2"}));
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_THAT(e->selectors, ElementsAre("a:1", "b:2"));
  EXPECT_THAT((*store_->GetEntry("e1"))->selectors, ElementsAre("a:1", "b:2"));
}

TEST_F(SqliteEntriesTest, CreateEntryRejectsIncompleteEntries) {
  EXPECT_EQ(store_->CreateEntry(Entry("", "spiffe://td/w", kNodeA, {})).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->CreateEntry(Entry("e1", "", kNodeA, {})).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->CreateEntry(Entry("e1", "spiffe://td/w", "", {})).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(*store_->ListEntries(""), IsEmpty());
}

TEST_F(SqliteEntriesTest, ListEntriesSortsBySpiffeIdThenIdAndFiltersByParent) {
  ASSERT_TRUE(store_->CreateEntry(Entry("e3", "spiffe://td/b", kNodeA, {"x:1"})).ok());
  ASSERT_TRUE(store_->CreateEntry(Entry("e2", "spiffe://td/b", kNodeA, {"x:2"})).ok());
  ASSERT_TRUE(store_->CreateEntry(Entry("e1", "spiffe://td/c", kNodeB, {"x:1"})).ok());
  ASSERT_TRUE(store_->CreateEntry(Entry("e4", "spiffe://td/a", kNodeB, {"x:1"})).ok());

  absl::StatusOr<std::vector<EntryRecord>> all = store_->ListEntries("");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(Ids(*all), ElementsAre("e4", "e2", "e3", "e1"));
  EXPECT_THAT(Ids(*store_->ListEntries(kNodeA)), ElementsAre("e2", "e3"));
  EXPECT_THAT(Ids(*store_->ListEntries(kNodeB)), ElementsAre("e4", "e1"));
  EXPECT_THAT(*store_->ListEntries("spiffe://td/none"), IsEmpty());
  EXPECT_THAT((*all)[1].selectors, ElementsAre("x:2"));
}

TEST_F(SqliteEntriesTest, DeleteEntryRemovesItAndItsChildren) {
  EntryRecord e = Entry("e1", "spiffe://td/w", kNodeA, {"a:1"});
  e.dns_names = {"w.example.org"};
  ASSERT_TRUE(store_->CreateEntry(e).ok());
  EXPECT_EQ(*store_->CountEntries(), 1);
  ASSERT_TRUE(store_->DeleteEntry("e1").ok());
  EXPECT_EQ(*store_->CountEntries(), 0);
  EXPECT_FALSE(store_->GetEntry("e1")->has_value());
  EXPECT_EQ(store_->DeleteEntry("e1").code(), absl::StatusCode::kNotFound);

  // The same id and selectors can be used again, and nothing of the old entry remains.
  EntryRecord again = Entry("e1", "spiffe://td/w", kNodeA, {"a:1"});
  absl::StatusOr<EntryRecord> created = store_->CreateEntry(again);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->revision, 3);
  EXPECT_THAT((*store_->GetEntry("e1"))->dns_names, IsEmpty());
  EXPECT_THAT((*store_->GetEntry("e1"))->selectors, ElementsAre("a:1"));
}

TEST_F(SqliteEntriesTest, EntryChangesSinceGivesFullSetsAndDeltas) {
  ASSERT_TRUE(store_->CreateEntry(Entry("a1", "spiffe://td/1", kNodeA, {"s:1"})).ok());  // rev 1
  ASSERT_TRUE(store_->CreateEntry(Entry("b1", "spiffe://td/1", kNodeB, {"s:1"})).ok());  // rev 2
  ASSERT_TRUE(store_->CreateEntry(Entry("a2", "spiffe://td/2", kNodeA, {"s:2"})).ok());  // rev 3

  absl::StatusOr<EntryChanges> first = store_->EntryChangesSince(kNodeA, 0);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->full);
  EXPECT_EQ(first->revision, 3);
  EXPECT_THAT(Ids(first->entries), ElementsAre("a1", "a2"));
  EXPECT_THAT(first->deleted_ids, IsEmpty());

  ASSERT_TRUE(store_->DeleteEntry("a1").ok());                                           // rev 4
  ASSERT_TRUE(store_->DeleteEntry("b1").ok());                                           // rev 5
  ASSERT_TRUE(store_->CreateEntry(Entry("a3", "spiffe://td/3", kNodeA, {"s:3"})).ok());  // rev 6

  absl::StatusOr<EntryChanges> delta = store_->EntryChangesSince(kNodeA, 3);
  ASSERT_TRUE(delta.ok()) << delta.status();
  EXPECT_FALSE(delta->full);
  EXPECT_EQ(delta->revision, 6);
  EXPECT_THAT(Ids(delta->entries), ElementsAre("a3"));
  EXPECT_EQ(delta->entries[0].revision, 6);
  EXPECT_THAT(delta->deleted_ids, ElementsAre("a1"));

  absl::StatusOr<EntryChanges> from4 = store_->EntryChangesSince(kNodeA, 4);
  ASSERT_TRUE(from4.ok());
  EXPECT_THAT(Ids(from4->entries), ElementsAre("a3"));
  EXPECT_THAT(from4->deleted_ids, IsEmpty());  // a1's deletion was revision 4 itself

  absl::StatusOr<EntryChanges> b = store_->EntryChangesSince(kNodeB, 3);
  ASSERT_TRUE(b.ok());
  EXPECT_THAT(b->entries, IsEmpty());
  EXPECT_THAT(b->deleted_ids, ElementsAre("b1"));

  absl::StatusOr<EntryChanges> current = store_->EntryChangesSince(kNodeA, 6);
  ASSERT_TRUE(current.ok());
  EXPECT_FALSE(current->full);
  EXPECT_THAT(current->entries, IsEmpty());
  EXPECT_THAT(current->deleted_ids, IsEmpty());
  EXPECT_EQ(current->revision, 6);

  for (int64_t unknown : {int64_t{-1}, int64_t{7}, int64_t{1000}}) {
    absl::StatusOr<EntryChanges> full = store_->EntryChangesSince(kNodeA, unknown);
    ASSERT_TRUE(full.ok());
    EXPECT_TRUE(full->full) << unknown;
    EXPECT_THAT(Ids(full->entries), ElementsAre("a2", "a3"));
    EXPECT_THAT(full->deleted_ids, IsEmpty());
    EXPECT_EQ(full->revision, 6);
  }
}

TEST_F(SqliteEntriesTest, EntryChangesSinceReportsARecreatedEntryOnlyAsAnEntry) {
  ASSERT_TRUE(store_->CreateEntry(Entry("a1", "spiffe://td/1", kNodeA, {"s:1"})).ok());  // rev 1
  ASSERT_TRUE(store_->DeleteEntry("a1").ok());                                           // rev 2
  ASSERT_TRUE(store_->CreateEntry(Entry("a1", "spiffe://td/1", kNodeA, {"s:2"})).ok());  // rev 3
  absl::StatusOr<EntryChanges> delta = store_->EntryChangesSince(kNodeA, 1);
  ASSERT_TRUE(delta.ok());
  EXPECT_THAT(Ids(delta->entries), ElementsAre("a1"));
  EXPECT_THAT(delta->entries[0].selectors, ElementsAre("s:2"));
  EXPECT_THAT(delta->deleted_ids, IsEmpty());

  // Moved to another parent: the old parent learns of the deletion.
  ASSERT_TRUE(store_->DeleteEntry("a1").ok());                                           // rev 4
  ASSERT_TRUE(store_->CreateEntry(Entry("a1", "spiffe://td/1", kNodeB, {"s:2"})).ok());  // rev 5
  absl::StatusOr<EntryChanges> old_parent = store_->EntryChangesSince(kNodeA, 3);
  ASSERT_TRUE(old_parent.ok());
  EXPECT_THAT(old_parent->entries, IsEmpty());
  EXPECT_THAT(old_parent->deleted_ids, ElementsAre("a1"));
}

}  // namespace
}  // namespace meshid::store
