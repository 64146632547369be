#include "meshid/policy/path.h"

#include "gtest/gtest.h"

namespace meshid::policy {
namespace {

using Status = NormalizedPath::Status;

struct PathCase {
  const char* in;
  Status status;
  const char* out;
};

void PrintTo(const PathCase& c, std::ostream* os) { *os << c.in; }

class PathTest : public ::testing::TestWithParam<PathCase> {};

TEST_P(PathTest, Normalizes) {
  const PathCase& c = GetParam();
  NormalizedPath n = NormalizePath(c.in);
  EXPECT_EQ(static_cast<int>(n.status), static_cast<int>(c.status)) << c.in << " " << n.detail;
  if (c.status == Status::kOk) {
    EXPECT_EQ(n.path, c.out) << c.in;
  }
}

INSTANTIATE_TEST_SUITE_P(
    All, PathTest,
    ::testing::Values(
        PathCase{"/", Status::kOk, "/"}, PathCase{"/a/b", Status::kOk, "/a/b"},
        PathCase{"/a/b/", Status::kOk, "/a/b/"}, PathCase{"/a?x=1", Status::kOk, "/a"},
        PathCase{"/a#frag", Status::kOk, "/a"},
        PathCase{"/public/%2E%2E/private", Status::kOk, "/private"},
        PathCase{"/public/%2e%2E/private", Status::kOk, "/private"},
        PathCase{"/a/./b/.", Status::kOk, "/a/b/"}, PathCase{"/a/b/..", Status::kOk, "/a/"},
        PathCase{"/a/..", Status::kOk, "/"}, PathCase{"//a///b", Status::kOk, "/a/b"},
        PathCase{"/a//../b", Status::kOk, "/a/b"},  // Envoy: dots, then slashes
        PathCase{"/%7Euser/%41%62", Status::kOk, "/~user/Ab"},
        PathCase{"/a%2fb", Status::kOk, "/a%2Fb"},
        PathCase{"/a%2F..%2Fb", Status::kOk, "/a%2F..%2Fb"},
        PathCase{"/a%3a%20b", Status::kOk, "/a%3A%20b"},
        PathCase{"/a:b@c!$&'()*+,;=", Status::kOk, "/a:b@c!$&'()*+,;="},
        PathCase{"/..", Status::kEscapesRoot, ""}, PathCase{"/../a", Status::kEscapesRoot, ""},
        PathCase{"/a/../..", Status::kEscapesRoot, ""},
        PathCase{"/%2e%2e/etc", Status::kEscapesRoot, ""},
        PathCase{"/a/%2E%2E/%2E%2E/x", Status::kEscapesRoot, ""},
        PathCase{"", Status::kInvalid, ""}, PathCase{"a/b", Status::kInvalid, ""},
        PathCase{"*", Status::kInvalid, ""}, PathCase{"/a%zz", Status::kInvalid, ""},
        PathCase{"/a%2", Status::kInvalid, ""}, PathCase{"/a b", Status::kInvalid, ""},
        PathCase{"/a\\..\\b", Status::kInvalid, ""}, PathCase{"/a\x01", Status::kInvalid, ""},
        PathCase{"http://x/a", Status::kInvalid, ""}));

}  // namespace
}  // namespace meshid::policy
