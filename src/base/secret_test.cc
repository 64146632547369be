#include "meshid/base/secret.h"

#include <string>

#include "gtest/gtest.h"

namespace meshid::base {
namespace {

TEST(SecretStringTest, HoldsAndMoves) {
  SecretString a(std::string("hunter2"));
  EXPECT_EQ(a.view(), "hunter2");
  SecretString b(std::move(a));
  EXPECT_EQ(b.view(), "hunter2");
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is defined
  SecretString c(absl::string_view("x"));
  c = std::move(b);
  EXPECT_EQ(c.view(), "hunter2");
}

TEST(SecretStringTest, ClearWipesTheWholeBuffer) {
  SecretString s(absl::string_view("short secret"));  // fits the inline buffer
  const char* data = s.view().data();
  s.Clear();
  EXPECT_TRUE(s.empty());
  // The inline buffer belongs to `s` and is still valid memory.
  EXPECT_EQ(std::string(data, 12), std::string(12, '\0'));
}

}  // namespace
}  // namespace meshid::base
