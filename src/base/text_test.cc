#include "meshid/base/text.h"

#include "gtest/gtest.h"

namespace meshid::base {
namespace {

TEST(PrintableTest, KeepsValidUtf8AndEscapesTheRest) {
  EXPECT_EQ(Printable("spiffe://example.org/ns/a"), "spiffe://example.org/ns/a");
  EXPECT_EQ(Printable("CN=M\xc3\xbcller"), "CN=M\xc3\xbcller");
  EXPECT_EQ(Printable("\xe2\x82\xac \xf0\x9f\x94\x91"), "\xe2\x82\xac \xf0\x9f\x94\x91");
  EXPECT_EQ(Printable("a\nFAKE: line"), "a\\x0aFAKE: line");
  EXPECT_EQ(Printable("\x1b[31mRED"), "\\x1b[31mRED");
  EXPECT_EQ(Printable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(Printable("spiffe://td/\xff"), "spiffe://td/\\xff");
  EXPECT_EQ(Printable("\xc0\xaf"), "\\xc0\\xaf") << "overlong '/'";
  EXPECT_EQ(Printable("\xed\xa0\x80"), "\\xed\\xa0\\x80") << "surrogate";
  EXPECT_EQ(Printable("\xe2\x82"), "\\xe2\\x82") << "truncated sequence";
  EXPECT_EQ(Printable("\x7f"), "\\x7f");
}

}  // namespace
}  // namespace meshid::base
