#include "meshid/base/duration.h"

#include "gtest/gtest.h"

namespace meshid::base {
namespace {

TEST(ParseDurationTest, AcceptsAbseilUnitsAndDays) {
  EXPECT_EQ(*ParseDuration("1h"), absl::Hours(1));
  EXPECT_EQ(*ParseDuration("87600h"), absl::Hours(87600));
  EXPECT_EQ(*ParseDuration("30d"), absl::Hours(720));
  EXPECT_EQ(*ParseDuration("1d12h"), absl::Hours(36));
  EXPECT_EQ(*ParseDuration("1.5d"), absl::Hours(36));
  EXPECT_EQ(*ParseDuration("90m"), absl::Minutes(90));
  EXPECT_EQ(*ParseDuration(" 20s "), absl::Seconds(20));
  EXPECT_EQ(*ParseDuration("50000d"), absl::Hours(24 * 50000));
}

TEST(ParseDurationTest, RejectsBadInput) {
  for (const char* bad : {"", "h", "10", "-1h", "1x", "d", "1dd", "inf", "1h-", "abc"}) {
    absl::StatusOr<absl::Duration> d = ParseDuration(bad);
    EXPECT_FALSE(d.ok()) << bad;
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(FormatDurationTest, TwoLargestUnits) {
  EXPECT_EQ(HumanDuration(absl::Hours(24 * 365 * 3 + 24 * 120 + 5)), "3y 120d");
  EXPECT_EQ(HumanDuration(absl::Hours(89 * 24 + 4)), "89d 4h");
  EXPECT_EQ(HumanDuration(absl::Hours(3) + absl::Minutes(12)), "3h 12m");
  EXPECT_EQ(HumanDuration(absl::Seconds(45)), "45s");
  EXPECT_EQ(HumanDuration(absl::Hours(48)), "2d");
  EXPECT_EQ(HumanDuration(absl::ZeroDuration()), "0s");
  EXPECT_EQ(HumanDuration(-absl::Hours(2)), "-2h");
}

}  // namespace
}  // namespace meshid::base
