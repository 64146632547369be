#include "x509_streams.h"

#include "gtest/gtest.h"
#include "meshid/testing/test_pki.h"

namespace meshid::agent {
namespace {

// A snapshot with the test PKI's bundle and one entry per path; `with_svid` entries get an
// SVID, the others are waiting for theirs.
class X509ResponseTest : public ::testing::Test {
 protected:
  X509ResponseTest() : pki_(testing::TestPki::Create(absl::Now())) {
    SetBundle(snapshot_, pki_.Bundle());
  }

  std::shared_ptr<const ca::v1::Entry> AddEntry(const std::string& path, const std::string& hint,
                                                bool with_svid) {
    auto entry = std::make_shared<ca::v1::Entry>();
    entry->set_id("entry" + path);
    entry->set_spiffe_id("spiffe://example.org" + path);
    entry->set_hint(hint);
    MutableMap(snapshot_.entries)[entry->id()] = entry;
    if (with_svid) {
      testing::TestPki::Leaf leaf = pki_.IssueLeaf(path);
      auto svid = std::make_shared<CachedSvid>();
      svid->entry_id = entry->id();
      svid->spiffe_id = entry->spiffe_id();
      chains_[entry->id()] = pki::ToDer(leaf.chain);
      absl::StatusOr<base::SecretString> key = leaf.key.ToPkcs8Der();
      EXPECT_TRUE(key.ok());
      keys_[entry->id()] = std::string(key->view());
      svid->x509_fields = EncodeX509Fields(svid->spiffe_id, chains_[entry->id()], *key);
      MutableMap(snapshot_.svids)[entry->id()] = svid;
    }
    return entry;
  }

  static X509SVIDResponse Parse(const grpc::ByteBuffer& buffer) {
    std::vector<grpc::Slice> slices;
    EXPECT_TRUE(buffer.Dump(&slices).ok());
    std::string bytes;
    for (const grpc::Slice& slice : slices) bytes.append(slice.begin(), slice.end());
    X509SVIDResponse response;
    EXPECT_TRUE(response.ParseFromString(bytes));
    return response;
  }

  testing::TestPki pki_;
  Snapshot snapshot_;
  std::map<std::string, std::string> keys_;    // PKCS#8 DER by entry ID
  std::map<std::string, std::string> chains_;  // DER chain by entry ID
};

TEST_F(X509ResponseTest, EncodesEverySvidWithItsKeyBundleAndHint) {
  const auto a = AddEntry("/a", "internal", true);
  const auto b = AddEntry("/b", "", true);

  X509Content content;
  ASSERT_TRUE(UpdateX509Content(snapshot_, {a, b}, content));
  const X509SVIDResponse response = Parse(EncodeX509Response(snapshot_, content));

  ASSERT_EQ(response.svids_size(), 2);
  for (int i = 0; i < 2; ++i) {
    const X509SVID& got = response.svids(i);
    const auto& entry = i == 0 ? a : b;
    EXPECT_EQ(got.spiffe_id(), entry->spiffe_id());
    EXPECT_EQ(got.x509_svid(), chains_.at(entry->id()));
    EXPECT_EQ(got.x509_svid_key(), keys_.at(entry->id()));
    EXPECT_EQ(got.bundle(), snapshot_.bundle_der);
    EXPECT_EQ(got.hint(), entry->hint());
  }
  EXPECT_FALSE(snapshot_.bundle_der.empty());
  EXPECT_EQ(response.crl_size(), 0);
  EXPECT_TRUE(response.federated_bundles().empty());
}

TEST_F(X509ResponseTest, SendsAgainOnlyWhenAnSvidTheBundleOrAHintChanged) {
  const auto a = AddEntry("/a", "", true);
  const auto b = AddEntry("/b", "", true);
  X509Content content;
  ASSERT_TRUE(UpdateX509Content(snapshot_, {a, b}, content));
  EXPECT_FALSE(UpdateX509Content(snapshot_, {a, b}, content));

  // A bundle change alone.
  pki::TrustBundle next = pki_.Bundle();
  next.set_sequence(next.sequence() + 1);
  SetBundle(snapshot_, std::move(next));
  EXPECT_TRUE(UpdateX509Content(snapshot_, {a, b}, content));
  EXPECT_FALSE(UpdateX509Content(snapshot_, {a, b}, content));
  EXPECT_EQ(Parse(EncodeX509Response(snapshot_, content)).svids(1).bundle(), snapshot_.bundle_der);

  // A renewal: a new SVID for the same entry.
  AddEntry("/b", "", true);
  EXPECT_TRUE(UpdateX509Content(snapshot_, {a, b}, content));
  EXPECT_EQ(content.items[1].svid, snapshot_.svids->at(b->id()));

  // Another entry's change: the caller's SVIDs are the same.
  AddEntry("/c", "", true);
  EXPECT_FALSE(UpdateX509Content(snapshot_, {a, b}, content));

  // A new hint for the same SVID.
  auto hinted = std::make_shared<ca::v1::Entry>(*a);
  hinted->set_hint("external");
  MutableMap(snapshot_.entries)[a->id()] = hinted;
  ++snapshot_.entries_version;
  EXPECT_TRUE(UpdateX509Content(snapshot_, {hinted, b}, content));
  EXPECT_EQ(Parse(EncodeX509Response(snapshot_, content)).svids(0).hint(), "external");
}

TEST_F(X509ResponseTest, SkipsEntriesWaitingForAnSvid) {
  const auto a = AddEntry("/a", "", false);
  const auto b = AddEntry("/b", "", true);
  X509Content content;
  ASSERT_TRUE(UpdateX509Content(snapshot_, {a, b}, content));
  const X509SVIDResponse response = Parse(EncodeX509Response(snapshot_, content));
  ASSERT_EQ(response.svids_size(), 1);
  EXPECT_EQ(response.svids(0).spiffe_id(), "spiffe://example.org/b");
}

TEST_F(X509ResponseTest, NothingToSendWithoutAnSvidOrABundle) {
  const auto a = AddEntry("/a", "", false);
  X509Content content;
  EXPECT_FALSE(UpdateX509Content(snapshot_, {a}, content));

  const auto b = AddEntry("/b", "", true);
  snapshot_.bundle = nullptr;
  EXPECT_FALSE(UpdateX509Content(snapshot_, {b}, content));
}

}  // namespace
}  // namespace meshid::agent
