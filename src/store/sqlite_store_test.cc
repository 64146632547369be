// Method-by-method tests of the SQLite DataStore, each on a fresh database file.

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
using testing::MakeIssuance;

class SqliteStoreTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    store_ = Open();
    ASSERT_NE(store_, nullptr);
  }

  // A DER-like blob with NUL bytes inside, which must survive as bytes.
  static std::string Der(char tag) { return std::string("\x30\x82\x00", 3) + tag + '\0' + tag; }

  static IssuingCaRecord Ca(const std::string& serial, int64_t created) {
    IssuingCaRecord r;
    r.serial = serial;
    r.slot = "A";
    r.state = SlotState::kPrepared;
    r.certificate_der = Der('c');
    r.key_path = "/var/lib/meshid/ca/" + serial + ".key";
    r.not_before = At(created);
    r.not_after = At(created + 86400);
    r.created_at = At(created);
    return r;
  }

  void AddToken(const std::string& hash, const std::string& node_name, int64_t expires) {
    JoinTokenRecord t;
    t.token_hash = hash;
    t.node_name = node_name;
    t.created_at = At(1000);
    t.expires_at = At(expires);
    ASSERT_TRUE(store_->CreateJoinToken(t).ok());
  }

  static NodeRecord Node(const std::string& name, const std::string& serial) {
    NodeRecord n;
    n.name = name;
    n.spiffe_id = "spiffe://example.org/meshid/node/" + name;
    n.attested_at = At(1500);
    n.svid_serial = serial;
    n.svid_not_after = At(5000);
    return n;
  }

  // Attest attests `name` with a fresh token and its SVID `serial`.
  void Attest(const std::string& name, const std::string& serial) {
    AddToken("hash-" + name, name, 2000);
    ASSERT_TRUE(
        store_->AttestNode("hash-" + name, At(1500), Node(name, serial), MakeIssuance(serial, name))
            .ok());
  }

  int64_t Count() {
    absl::StatusOr<int64_t> n = store_->CountIssuances();
    EXPECT_TRUE(n.ok()) << n.status();
    return n.value_or(-1);
  }

  bool HasIssuance(const std::string& serial) {
    absl::StatusOr<std::optional<IssuanceRecord>> r = store_->GetIssuance(serial);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() && r->has_value();
  }

  // ExpectAttestChangedNothing checks the state after a failed AttestNode of "node-1" with
  // SVID s1 and token `hash`.
  void ExpectAttestChangedNothing(const std::string& hash) {
    EXPECT_FALSE(HasIssuance("s1"));
    EXPECT_FALSE(store_->GetNode("node-1")->has_value());
    absl::StatusOr<std::optional<JoinTokenRecord>> token = store_->GetJoinToken(hash);
    ASSERT_TRUE(token.ok()) << token.status();
    if (token->has_value()) {
      EXPECT_FALSE((*token)->used_at.has_value());
    }
    EXPECT_EQ(Count(), 0);
  }

  std::unique_ptr<DataStore> store_;
};

// ---- issuing CA journal ----

TEST_F(SqliteStoreTest, IssuingCasRoundTripInCreationOrder) {
  IssuingCaRecord later = Ca("0b", 2000);
  later.slot = "B";
  later.state = SlotState::kActive;
  later.activated_at = At(2100);
  ASSERT_TRUE(store_->PutIssuingCas({later, Ca("0a", 1000)}).ok());

  absl::StatusOr<std::vector<IssuingCaRecord>> cas = store_->ListIssuingCas();
  ASSERT_TRUE(cas.ok()) << cas.status();
  ASSERT_EQ(cas->size(), 2U);
  EXPECT_EQ((*cas)[0].serial, "0a");
  EXPECT_EQ((*cas)[0].state, SlotState::kPrepared);
  EXPECT_EQ((*cas)[0].activated_at, std::nullopt);
  const IssuingCaRecord& b = (*cas)[1];
  EXPECT_EQ(b.serial, "0b");
  EXPECT_EQ(b.slot, "B");
  EXPECT_EQ(b.state, SlotState::kActive);
  EXPECT_EQ(b.certificate_der, Der('c'));
  EXPECT_EQ(b.key_path, "/var/lib/meshid/ca/0b.key");
  EXPECT_EQ(b.not_before, At(2000));
  EXPECT_EQ(b.not_after, At(2000 + 86400));
  EXPECT_EQ(b.created_at, At(2000));
  EXPECT_EQ(b.activated_at, At(2100));
}

TEST_F(SqliteStoreTest, PutIssuingCasReplacesBySerial) {
  ASSERT_TRUE(store_->PutIssuingCas({Ca("0a", 1000)}).ok());
  IssuingCaRecord retired = Ca("0a", 1000);
  retired.state = SlotState::kRetired;
  ASSERT_TRUE(store_->PutIssuingCas({retired}).ok());
  absl::StatusOr<std::vector<IssuingCaRecord>> cas = store_->ListIssuingCas();
  ASSERT_TRUE(cas.ok());
  ASSERT_EQ(cas->size(), 1U);
  EXPECT_EQ((*cas)[0].state, SlotState::kRetired);
}

TEST_F(SqliteStoreTest, PutIssuingCasRejectsAnEmptySerialAndStoresNone) {
  absl::Status s = store_->PutIssuingCas({Ca("0a", 1000), Ca("", 1000)});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(*store_->ListIssuingCas(), IsEmpty());
}

TEST_F(SqliteStoreTest, DeleteIssuingCa) {
  ASSERT_TRUE(store_->PutIssuingCas({Ca("0a", 1000), Ca("0b", 1001)}).ok());
  ASSERT_TRUE(store_->DeleteIssuingCa("0a").ok());
  EXPECT_EQ(store_->DeleteIssuingCa("0a").code(), absl::StatusCode::kNotFound);
  absl::StatusOr<std::vector<IssuingCaRecord>> cas = store_->ListIssuingCas();
  ASSERT_TRUE(cas.ok());
  ASSERT_EQ(cas->size(), 1U);
  EXPECT_EQ((*cas)[0].serial, "0b");
}

// ---- join tokens and attestation ----

TEST_F(SqliteStoreTest, JoinTokenRoundTripAndDuplicate) {
  AddToken("h1", "node-1", 2000);
  absl::StatusOr<std::optional<JoinTokenRecord>> t = store_->GetJoinToken("h1");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_TRUE(t->has_value());
  EXPECT_EQ((*t)->node_name, "node-1");
  EXPECT_EQ((*t)->created_at, At(1000));
  EXPECT_EQ((*t)->expires_at, At(2000));
  EXPECT_EQ((*t)->used_at, std::nullopt);

  JoinTokenRecord again;
  again.token_hash = "h1";
  EXPECT_EQ(store_->CreateJoinToken(again).code(), absl::StatusCode::kAlreadyExists);
  absl::StatusOr<std::optional<JoinTokenRecord>> none = store_->GetJoinToken("h2");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(SqliteStoreTest, AttestNodeConsumesTokenStoresNodeAndSvid) {
  AddToken("h1", "node-1", 2000);
  ASSERT_TRUE(
      store_->AttestNode("h1", At(1500), Node("node-1", "s1"), MakeIssuance("s1", "node-1")).ok());

  EXPECT_EQ((*store_->GetJoinToken("h1"))->used_at, At(1500));
  absl::StatusOr<std::optional<NodeRecord>> node = store_->GetNode("node-1");
  ASSERT_TRUE(node.ok() && node->has_value());
  EXPECT_EQ((*node)->spiffe_id, "spiffe://example.org/meshid/node/node-1");
  EXPECT_EQ((*node)->attested_at, At(1500));
  EXPECT_EQ((*node)->svid_serial, "s1");
  EXPECT_EQ((*node)->svid_not_after, At(5000));
  EXPECT_FALSE((*node)->evicted);
  EXPECT_TRUE(HasIssuance("s1"));
}

TEST_F(SqliteStoreTest, JoinTokenIsSingleUse) {
  AddToken("h1", "node-1", 2000);
  ASSERT_TRUE(
      store_->AttestNode("h1", At(1500), Node("node-1", "s1"), MakeIssuance("s1", "node-1")).ok());
  absl::Status again =
      store_->AttestNode("h1", At(1501), Node("node-1", "s2"), MakeIssuance("s2", "node-1"));
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(again.message()), ::testing::HasSubstr("already used"));
  EXPECT_FALSE(HasIssuance("s2"));
  EXPECT_EQ((*store_->GetNode("node-1"))->svid_serial, "s1");
  EXPECT_EQ((*store_->GetJoinToken("h1"))->used_at, At(1500));
}

TEST_F(SqliteStoreTest, AttestNodeWithExpiredTokenIsFailedPrecondition) {
  AddToken("h1", "node-1", 2000);
  for (int64_t now : {2000, 2001}) {  // expired from `expires_at` on
    absl::Status s =
        store_->AttestNode("h1", At(now), Node("node-1", "s1"), MakeIssuance("s1", "node-1"));
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("expired"));
    ExpectAttestChangedNothing("h1");
  }
  EXPECT_TRUE(store_->AttestNode("h1", At(1999), Node("node-1", "s1"), MakeIssuance("s1")).ok());
}

TEST_F(SqliteStoreTest, AttestNodeWithUnknownTokenIsNotFound) {
  absl::Status s =
      store_->AttestNode("nope", At(1500), Node("node-1", "s1"), MakeIssuance("s1", "node-1"));
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  ExpectAttestChangedNothing("nope");
}

TEST_F(SqliteStoreTest, AttestNodeForAnotherNodeIsPermissionDenied) {
  AddToken("h1", "node-1", 2000);
  absl::Status s =
      store_->AttestNode("h1", At(1500), Node("node-2", "s1"), MakeIssuance("s1", "node-2"));
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  ExpectAttestChangedNothing("h1");
  EXPECT_FALSE(store_->GetNode("node-2")->has_value());
}

TEST_F(SqliteStoreTest, AttestNodeWithARecordedSerialChangesNothing) {
  // This failure comes after the token update and the node upsert: the rollback must undo them.
  ASSERT_TRUE(store_->RecordIssuances({MakeIssuance("s1", "other")}).ok());
  AddToken("h1", "node-1", 2000);
  absl::Status s =
      store_->AttestNode("h1", At(1500), Node("node-1", "s1"), MakeIssuance("s1", "node-1"));
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  EXPECT_FALSE(store_->GetNode("node-1")->has_value());
  EXPECT_FALSE((*store_->GetJoinToken("h1"))->used_at);
  EXPECT_EQ((*store_->GetIssuance("s1"))->node, "other");
  EXPECT_EQ(Count(), 1);
}

TEST_F(SqliteStoreTest, AttestNodeTakesTheNameFromTheToken) {
  AddToken("h1", "node-1", 2000);
  IssuanceRecord svid = MakeIssuance("s1", "");
  ASSERT_TRUE(store_->AttestNode("h1", At(1500), Node("", "s1"), svid).ok());
  absl::StatusOr<std::optional<NodeRecord>> node = store_->GetNode("node-1");
  ASSERT_TRUE(node.ok() && node->has_value());
  EXPECT_EQ((*node)->name, "node-1");
  EXPECT_EQ((*store_->GetIssuance("s1"))->node, "node-1");
}

TEST_F(SqliteStoreTest, AttestNodeWithAnUnnamedTokenTakesTheRequestedName) {
  AddToken("h1", "", 2000);
  ASSERT_TRUE(
      store_->AttestNode("h1", At(1500), Node("node-9", "s1"), MakeIssuance("s1", "node-9")).ok());
  EXPECT_TRUE(store_->GetNode("node-9")->has_value());

  AddToken("h2", "", 2000);
  absl::Status s = store_->AttestNode("h2", At(1500), Node("", "s2"), MakeIssuance("s2"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE((*store_->GetJoinToken("h2"))->used_at);
}

// ---- nodes ----

TEST_F(SqliteStoreTest, ListNodesIsSortedByName) {
  Attest("zeta", "s1");
  Attest("alpha", "s2");
  Attest("mid", "s3");
  absl::StatusOr<std::vector<NodeRecord>> nodes = store_->ListNodes();
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  std::vector<std::string> names;
  for (const NodeRecord& n : *nodes) names.push_back(n.name);
  EXPECT_THAT(names, ElementsAre("alpha", "mid", "zeta"));
  EXPECT_FALSE(store_->GetNode("nope")->has_value());
}

TEST_F(SqliteStoreTest, RenewNodeUpdatesSvidAndRecordsIt) {
  Attest("node-1", "s1");
  IssuanceRecord svid = MakeIssuance("s2", "node-1");
  svid.not_after = At(9000);
  ASSERT_TRUE(store_->RenewNode("node-1", svid).ok());
  NodeRecord node = **store_->GetNode("node-1");
  EXPECT_EQ(node.svid_serial, "s2");
  EXPECT_EQ(node.svid_not_after, At(9000));
  EXPECT_EQ(node.attested_at, At(1500));
  EXPECT_TRUE(HasIssuance("s2"));

  EXPECT_EQ(store_->RenewNode("nope", MakeIssuance("s3")).code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(HasIssuance("s3"));
  // A repeated serial fails and leaves the node as it was.
  EXPECT_EQ(store_->RenewNode("node-1", MakeIssuance("s1")).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ((*store_->GetNode("node-1"))->svid_serial, "s2");
}

TEST_F(SqliteStoreTest, EvictedNodeCannotRenew) {
  Attest("node-1", "s1");
  ASSERT_TRUE(store_->EvictNode("node-1", At(4000)).ok());
  ASSERT_TRUE(store_->EvictNode("node-1", At(4100)).ok());  // twice is fine
  NodeRecord node = **store_->GetNode("node-1");
  EXPECT_TRUE(node.evicted);
  EXPECT_EQ(node.evicted_at, At(4000));  // the first eviction's time is kept

  EXPECT_EQ(store_->RenewNode("node-1", MakeIssuance("s2")).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_FALSE(HasIssuance("s2"));
  EXPECT_EQ((*store_->GetNode("node-1"))->svid_serial, "s1");
  EXPECT_EQ(store_->EvictNode("nope", At(4000)).code(), absl::StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, ReattestingAnEvictedNodeWithANewTokenReplacesIt) {
  Attest("node-1", "s1");
  ASSERT_TRUE(store_->EvictNode("node-1", At(4000)).ok());
  AddToken("h2", "node-1", 9000);
  NodeRecord fresh = Node("node-1", "s2");
  fresh.attested_at = At(4500);
  ASSERT_TRUE(store_->AttestNode("h2", At(4500), fresh, MakeIssuance("s2", "node-1")).ok());
  NodeRecord node = **store_->GetNode("node-1");
  EXPECT_FALSE(node.evicted);
  EXPECT_EQ(node.evicted_at, std::nullopt);
  EXPECT_EQ(node.attested_at, At(4500));
}

// ---- issuance records ----

TEST_F(SqliteStoreTest, RecordIssuancesRoundTripAndCount) {
  IssuanceRecord server = MakeIssuance("0f", "");
  server.kind = "server";
  ASSERT_TRUE(store_->RecordIssuances({MakeIssuance("01"), server}).ok());
  ASSERT_TRUE(store_->RecordIssuances({}).ok());
  EXPECT_EQ(Count(), 2);
  absl::StatusOr<std::optional<IssuanceRecord>> r = store_->GetIssuance("0f");
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->spiffe_id, "spiffe://example.org/ns/default/sa/0f");
  EXPECT_EQ((*r)->kind, "server");
  EXPECT_EQ((*r)->node, "");
  EXPECT_EQ((*r)->issuing_ca_serial, "ca01");
  EXPECT_EQ((*r)->not_before, At(1'700'000'000));
  EXPECT_EQ((*r)->not_after, At(1'700'003'600));
  EXPECT_EQ((*r)->issued_at, At(1'700'000'000));
  EXPECT_FALSE(store_->GetIssuance("02")->has_value());
}

TEST_F(SqliteStoreTest, RecordIssuancesWithARepeatedSerialStoresNone) {
  absl::Status within =
      store_->RecordIssuances({MakeIssuance("01"), MakeIssuance("02"), MakeIssuance("01")});
  EXPECT_EQ(within.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(within.message()), ::testing::HasSubstr("01"));
  EXPECT_EQ(Count(), 0);

  ASSERT_TRUE(store_->RecordIssuances({MakeIssuance("01")}).ok());
  EXPECT_EQ(store_->RecordIssuances({MakeIssuance("02"), MakeIssuance("01")}).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Count(), 1);
  EXPECT_FALSE(HasIssuance("02"));

  EXPECT_EQ(store_->RecordIssuances({MakeIssuance("")}).code(), absl::StatusCode::kInvalidArgument);
}

// ---- trust bundle ----

TEST_F(SqliteStoreTest, BundleStartsEmptyAtSequenceZero) {
  absl::StatusOr<BundleRecord> bundle = store_->GetBundle();
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  EXPECT_THAT(bundle->roots_der, IsEmpty());
  EXPECT_EQ(bundle->sequence, 0U);
}

TEST_F(SqliteStoreTest, JwtKeysArePublishedOldestFirstAndBumpTheSequence) {
  const absl::Time t = absl::FromUnixSeconds(1'800'000'000);
  absl::StatusOr<BundleRecord> b = store_->AddJwtKey({"k2", Der('b'), t + absl::Hours(2)});
  ASSERT_TRUE(b.ok()) << b.status();
  b = store_->AddJwtKey({"k1", Der('a'), t + absl::Hours(1)});
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->jwt_keys.size(), 2u);
  EXPECT_EQ(b->jwt_keys[0].key_id, "k1");
  EXPECT_EQ(b->jwt_keys[0].public_key_der, Der('a'));
  EXPECT_EQ(b->jwt_keys[0].not_after, t + absl::Hours(1));
  EXPECT_EQ(b->sequence, 2U);

  EXPECT_EQ(store_->AddJwtKey({"k1", Der('c'), t}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->AddJwtKey({"", Der('c'), t}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetBundle()->sequence, 2U);

  b = store_->RemoveJwtKey("k1");
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->jwt_keys.size(), 1u);
  EXPECT_EQ(b->jwt_keys[0].key_id, "k2");
  EXPECT_EQ(b->sequence, 3U);
  EXPECT_EQ(store_->RemoveJwtKey("k1").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, AddAndRemoveRootsBumpTheSequence) {
  absl::StatusOr<BundleRecord> b = store_->AddRoot(Der('2'));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->sequence, 1U);
  b = store_->AddRoot(Der('1'));
  ASSERT_TRUE(b.ok());
  b = store_->AddRoot(Der('3'));
  ASSERT_TRUE(b.ok());
  EXPECT_THAT(b->roots_der, ElementsAre(Der('2'), Der('1'), Der('3')));  // order added
  EXPECT_EQ(b->sequence, 3U);

  EXPECT_EQ(store_->AddRoot(Der('1')).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->AddRoot("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetBundle()->sequence, 3U);

  b = store_->RemoveRoot(Der('1'));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_THAT(b->roots_der, ElementsAre(Der('2'), Der('3')));
  EXPECT_EQ(b->sequence, 4U);
  EXPECT_EQ(store_->RemoveRoot(Der('1')).status().code(), absl::StatusCode::kNotFound);

  // A root added again goes to the end.
  b = store_->AddRoot(Der('1'));
  ASSERT_TRUE(b.ok());
  EXPECT_THAT(b->roots_der, ElementsAre(Der('2'), Der('3'), Der('1')));
  EXPECT_EQ(b->sequence, 5U);
  absl::StatusOr<BundleRecord> read = store_->GetBundle();
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->roots_der, b->roots_der);
  EXPECT_EQ(read->sequence, 5U);
}

}  // namespace
}  // namespace meshid::store
