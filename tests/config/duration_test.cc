#include "config/duration.h"

#include <gtest/gtest.h>

namespace wxpay {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

Duration Parsed(std::string_view text) {
  Result<Duration> result = ParseDuration(text);
  EXPECT_TRUE(result.ok()) << text << ": " << (result.ok() ? "" : result.error().message);
  return result.ok() ? *result : Duration{-1};
}

std::string ErrorOf(std::string_view text) {
  Result<Duration> result = ParseDuration(text);
  return result.ok() ? "parsed as " + FormatDuration(*result) : result.error().message;
}

TEST(Duration, SingleUnits) {
  EXPECT_EQ(Parsed("500ms"), milliseconds(500));
  EXPECT_EQ(Parsed("30s"), seconds(30));
  EXPECT_EQ(Parsed("5m"), minutes(5));
  EXPECT_EQ(Parsed("1h"), hours(1));
  EXPECT_EQ(Parsed("0s"), Duration{0});
  EXPECT_EQ(Parsed("0"), Duration{0});
}

TEST(Duration, CombinationsFromLargestUnit) {
  EXPECT_EQ(Parsed("1h30m"), minutes(90));
  EXPECT_EQ(Parsed("1m30s"), seconds(90));
  EXPECT_EQ(Parsed("2h5m10s250ms"), hours(2) + minutes(5) + seconds(10) + milliseconds(250));
  EXPECT_EQ(Parsed("90m"), minutes(90));  // a unit may exceed the next one up
}

TEST(Duration, RejectsWithClearMessages) {
  EXPECT_EQ(ErrorOf(""), "empty value; write e.g. 500ms, 30s, 5m, 1h or 1h30m");
  EXPECT_EQ(ErrorOf("-5s"), "\"-5s\" is negative; a duration must be 0 or more");
  EXPECT_EQ(ErrorOf("900"), "\"900\" has no unit; write e.g. 900s (units: ms, s, m, h)");
  EXPECT_EQ(ErrorOf("1.5h"), "\"1.5h\" has a fraction; use whole numbers, e.g. 1h30m or 1s500ms");
  EXPECT_EQ(ErrorOf("5 minutes"),
            "\"5 minutes\" is not a duration (unknown unit \" minutes\"; units: ms, s, m, h); write e.g. "
            "500ms, 30s, 5m, 1h or 1h30m");
  EXPECT_EQ(ErrorOf("5d"),
            "\"5d\" is not a duration (unknown unit \"d\"; units: ms, s, m, h); write e.g. 500ms, 30s, 5m, 1h or 1h30m");
  EXPECT_EQ(ErrorOf("abc"), "\"abc\" is not a duration; write e.g. 500ms, 30s, 5m, 1h or 1h30m");
  EXPECT_EQ(ErrorOf("30m1h"), "\"30m1h\": write the units from largest to smallest, each once, e.g. 1h30m");
  EXPECT_EQ(ErrorOf("1m1m"), "\"1m1m\": write the units from largest to smallest, each once, e.g. 1h30m");
  EXPECT_EQ(ErrorOf("5m30"), "\"5m30\" is not a duration; write e.g. 500ms, 30s, 5m, 1h or 1h30m");
  EXPECT_EQ(ErrorOf("+5s"), "\"+5s\" is not a duration; write e.g. 500ms, 30s, 5m, 1h or 1h30m");
}

TEST(Duration, RejectsValuesTooLongWithoutOverflow) {
  EXPECT_EQ(ErrorOf("87601h"), "\"87601h\" is too long (at most 87600h)");
  EXPECT_EQ(ErrorOf("99999999999999999999h"), "\"99999999999999999999h\" is too long (at most 87600h)");
  EXPECT_EQ(Parsed("87600h"), hours(87600));
}

TEST(Duration, FormatIsCanonical) {
  EXPECT_EQ(FormatDuration(minutes(90)), "1h30m");
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1s500ms");
  EXPECT_EQ(FormatDuration(Duration{0}), "0s");
  EXPECT_EQ(FormatDuration(seconds(60)), "1m");
  for (std::string_view text : {"1h30m", "500ms", "2h5m10s250ms", "45s"}) {
    EXPECT_EQ(FormatDuration(Parsed(text)), text);
  }
}

}  // namespace
}  // namespace wxpay
