#include "ops/log.h"

#include <gtest/gtest.h>

namespace wxpay {
namespace {

TEST(Log, PrefixesArePriorities) {
  EXPECT_EQ(PriorityPrefix(LogLevel::kError), "<3>");
  EXPECT_EQ(PriorityPrefix(LogLevel::kWarning), "<4>");
  EXPECT_EQ(PriorityPrefix(LogLevel::kInfo), "<6>");
  EXPECT_EQ(PriorityPrefix(LogLevel::kDebug), "<7>");
}

TEST(Log, NewlinesAndControlCharactersAreEscaped) {
  EXPECT_EQ(EscapeForLog("a\nb\rc\td"), "a\\nb\\rc\\x09d");
  EXPECT_EQ(EscapeForLog("订单 ok"), "订单 ok");
}

TEST(Log, CapturingLoggerKeepsPrefixedLines) {
  CapturingLogger log;
  log.Warning("order=123456 unknown trade_state ACCEPT\nsecond");
  ASSERT_EQ(log.Lines().size(), 1u);
  EXPECT_EQ(log.Lines()[0], "<4>order=123456 unknown trade_state ACCEPT\\nsecond");
  EXPECT_TRUE(log.Contains("ACCEPT"));
}

}  // namespace
}  // namespace wxpay
