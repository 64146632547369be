#include "meshid/pki/spiffe_id.h"

#include <ostream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meshid::pki {
namespace {

using ::testing::HasSubstr;

TEST(SpiffeIdTest, ParsesAndFormats) {
  absl::StatusOr<SpiffeId> id = SpiffeId::Parse("spiffe://example.org/ns/default/sa/web");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->trust_domain().name(), "example.org");
  EXPECT_EQ(id->path(), "/ns/default/sa/web");
  EXPECT_EQ(id->ToString(), "spiffe://example.org/ns/default/sa/web");
  EXPECT_EQ(id->trust_domain().IdString(), "spiffe://example.org");
}

TEST(SpiffeIdTest, AcceptsTrustDomainIdAndEveryAllowedCharacter) {
  EXPECT_TRUE(SpiffeId::Parse("spiffe://example.org").ok());
  EXPECT_EQ(SpiffeId::Parse("spiffe://example.org")->path(), "");
  EXPECT_TRUE(SpiffeId::Parse("spiffe://a-b_c.9/Az09.-_/x").ok());
  EXPECT_TRUE(SpiffeId::Parse("spiffe://td/...").ok()) << "'...' is a segment, not '..'";
}

TEST(SpiffeIdTest, PathIsCaseSensitive) {
  EXPECT_NE(*SpiffeId::Parse("spiffe://td/App"), *SpiffeId::Parse("spiffe://td/app"));
}

struct BadId {
  std::string id;
  std::string rule;
};

// ctest lists the case by its input, not by its bytes in memory.
void PrintTo(const BadId& bad, std::ostream* os) {
  *os << ::testing::PrintToString(bad.id.substr(0, 40)) << " (" << bad.rule << ")";
}

class SpiffeIdRejectsTest : public ::testing::TestWithParam<BadId> {};

TEST_P(SpiffeIdRejectsTest, NamesTheRule) {
  absl::StatusOr<SpiffeId> id = SpiffeId::Parse(GetParam().id);
  ASSERT_FALSE(id.ok()) << GetParam().id;
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(id.status().message()), HasSubstr(GetParam().rule)) << GetParam().id;
}

INSTANTIATE_TEST_SUITE_P(
    Rules, SpiffeIdRejectsTest,
    ::testing::Values(
        BadId{"", "empty"}, BadId{"example.org/x", "scheme"},
        BadId{"http://example.org/x", "scheme"},
        BadId{"SPIFFE://example.org/x", "lowercase \"spiffe\""},
        BadId{"spiffe:/example.org/x", "scheme"}, BadId{"spiffe://", "trust domain is missing"},
        BadId{"spiffe:///path", "trust domain is missing"},
        BadId{"spiffe://Example.org/x", "lowercase"}, BadId{"spiffe://example.org:443/x", "port"},
        BadId{"spiffe://user@example.org/x", "userinfo"}, BadId{"spiffe://exa$mple.org/x", "'$'"},
        BadId{"spiffe://example.org/x?y=1", "query"},
        BadId{"spiffe://example.org/x#frag", "fragment"},
        BadId{"spiffe://example.org/a%20b", "percent-encoding"},
        BadId{"spiffe://ex%41mple.org/a", "percent-encoding"},
        BadId{"spiffe://example.org/", "must not end with '/'"},
        BadId{"spiffe://example.org/a/", "must not end with '/'"},
        BadId{"spiffe://example.org//a", "empty segments"},
        BadId{"spiffe://example.org/a//b", "empty segments"},
        BadId{"spiffe://example.org/a/./b", "'.' or '..'"},
        BadId{"spiffe://example.org/..", "'.' or '..'"}, BadId{"spiffe://example.org/a b", "' '"},
        BadId{"spiffe://example.org/caf\xc3\xa9", "byte 0x"},
        BadId{"spiffe://" + std::string(256, 'a') + "/x", "longer than 255"},
        BadId{"spiffe://example.org/" + std::string(2048, 'a'), "longer than 2048"}));

TEST(SpiffeIdTest, AcceptsMaximumLengths) {
  std::string td(255, 'a');
  EXPECT_TRUE(TrustDomain::Parse(td).ok());
  std::string id = "spiffe://example.org/";
  id += std::string(kMaxSpiffeIdBytes - id.size(), 'b');
  EXPECT_EQ(id.size(), kMaxSpiffeIdBytes);
  EXPECT_TRUE(SpiffeId::Parse(id).ok());
}

TEST(SpiffeIdTest, FromPathJoinsAndValidates) {
  TrustDomain td = *TrustDomain::Parse("example.org");
  EXPECT_EQ(SpiffeId::FromPath(td, "/ns/a")->ToString(), "spiffe://example.org/ns/a");
  EXPECT_EQ(SpiffeId::FromPath(td, "")->ToString(), "spiffe://example.org");
  EXPECT_FALSE(SpiffeId::FromPath(td, "ns/a").ok());
  EXPECT_FALSE(SpiffeId::FromPath(td, "/a//b").ok());
}

TEST(TrustDomainTest, ParsesNameOrId) {
  EXPECT_EQ(TrustDomain::Parse("example.org")->name(), "example.org");
  EXPECT_EQ(TrustDomain::Parse("spiffe://example.org/ns/a")->name(), "example.org");
  EXPECT_FALSE(TrustDomain::Parse("").ok());
  EXPECT_FALSE(TrustDomain::Parse("Example.org").ok());
  EXPECT_FALSE(TrustDomain::Parse("example.org/x").ok());
  EXPECT_FALSE(TrustDomain::Parse("spiffe://bad//x").ok());
}

TEST(SpiffeIdTest, MembershipAndOrdering) {
  SpiffeId a = *SpiffeId::Parse("spiffe://example.org/a");
  EXPECT_TRUE(a.IsMemberOf(*TrustDomain::Parse("example.org")));
  EXPECT_FALSE(a.IsMemberOf(*TrustDomain::Parse("example.com")));
  EXPECT_LT(a, *SpiffeId::Parse("spiffe://example.org/b"));
}

}  // namespace
}  // namespace meshid::pki
