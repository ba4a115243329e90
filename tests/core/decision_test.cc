#include "core/decision.h"

#include <cjson/cJSON.h>
#include <gtest/gtest.h>

#include <memory>

#include "core/engine_fixture.h"

namespace wxpay::testing {
namespace {

struct JsonDeleter {
  void operator()(cJSON* j) const { cJSON_Delete(j); }
};
using JsonPtr = std::unique_ptr<cJSON, JsonDeleter>;

JsonPtr ParseJson(const std::string& text) { return JsonPtr(cJSON_ParseWithLength(text.data(), text.size())); }

TEST_F(EngineTest, LogLineForACancelMatchesSpecSeven) {
  AddUnpaidWithTrade("ORDER000001", "NOTPAY");
  store_.SetBeforeUpdate([&](ShopOrder&) { clock_.Advance(23ms); });
  Decision d = Process("ORDER000001");
  EXPECT_EQ(RenderLogLine(d),
            "order=ORDER000001 shop=unpaid wechat=NOTPAY action=close+requery+cancel result=cancelled "
            "attempt=1 took=23ms requery=CLOSED");
  EXPECT_EQ(d.Severity(), DecisionSeverity::kInfo);
}

TEST_F(EngineTest, LogLineForARescheduleNamesDelayAndNextAttempt) {
  AddOrder("ORDER000001");
  PayError e = MakePayError(PayErrorKind::kTransient, 500, "SYSTEM_ERROR", true);
  e.message = "系统异常 \"quoted\"";
  wechat_.PushQuery("ORDER000001", e);
  Decision d = Process("ORDER000001", 2);
  EXPECT_EQ(RenderLogLine(d),
            "order=ORDER000001 shop=unpaid wechat=SYSTEM_ERROR action=reschedule result=reschedule "
            "attempt=2 took=0ms delay=20s next_attempt=3 "
            "error=\"query: HTTP 500 SYSTEM_ERROR 系统异常 \\\"quoted\\\"\"");
}

TEST_F(EngineTest, LogLineForUnknownOrderAndNoCall) {
  Decision d = Process("NOSUCH000001");
  const std::string line = RenderLogLine(d);
  EXPECT_EQ(line.rfind("order=NOSUCH000001 shop=- wechat=- action=dead_letter result=dead_letter attempt=1 "
                       "took=0ms reason=unknown_order error=",
                       0),
            0u)
      << line;
}

TEST_F(EngineTest, LogLineEscapesAHostileOrderNumber) {
  Decision d = Process("bad\norder=1 result=paid");
  const std::string line = RenderLogLine(d);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.rfind("order=\"bad\\x0Aorder=1 result=paid\" ", 0), 0u) << line;
}

TEST_F(EngineTest, LogLineShowsTheRawStatusOfOtherStates) {
  ShopOrder o = AddOrder("ORDER000001", ShopState::kOther);
  o.raw_status = "7";
  store_.Put(o);
  Decision d = Process("ORDER000001");
  EXPECT_NE(RenderLogLine(d).find("shop=other"), std::string::npos);
  EXPECT_NE(RenderLogLine(d).find(" status=7"), std::string::npos);
}

TEST_F(EngineTest, JsonRenderingIsValidAndComplete) {
  AddUnpaidWithTrade("ORDER000001", "SUCCESS");
  Decision d = Process("ORDER000001");
  const std::string text = RenderJson(d);
  JsonPtr j = ParseJson(text);
  ASSERT_TRUE(j) << text;
  EXPECT_STREQ(cJSON_GetObjectItem(j.get(), "order_no")->valuestring, "ORDER000001");
  EXPECT_STREQ(cJSON_GetObjectItem(j.get(), "outcome")->valuestring, "paid");
  EXPECT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(j.get(), "reason")));
  EXPECT_STREQ(cJSON_GetObjectItem(j.get(), "action")->valuestring, "mark_paid");
  EXPECT_STREQ(cJSON_GetObjectItem(j.get(), "shop_before")->valuestring, "unpaid");
  EXPECT_STREQ(cJSON_GetObjectItem(j.get(), "shop_after")->valuestring, "paid");
  EXPECT_EQ(cJSON_GetObjectItem(j.get(), "wechat_call_count")->valueint, 1);
  cJSON* trade = cJSON_GetObjectItem(j.get(), "trade");
  ASSERT_TRUE(cJSON_IsObject(trade));
  EXPECT_EQ(cJSON_GetObjectItem(trade, "amount_total")->valuedouble, 100);
  EXPECT_STREQ(cJSON_GetObjectItem(trade, "transaction_id")->valuestring, "4200000000ORDER000001");
  cJSON* calls = cJSON_GetObjectItem(j.get(), "wechat_calls");
  ASSERT_EQ(cJSON_GetArraySize(calls), 1);
  EXPECT_STREQ(cJSON_GetObjectItem(cJSON_GetArrayItem(calls, 0), "result")->valuestring, "ok");
}

TEST_F(EngineTest, JsonRenderingOfADeadLetterWithInvalidUtf8StaysValid) {
  Decision d = Process("\xff\xfe-not-utf8");
  const std::string text = RenderJson(d);
  JsonPtr j = ParseJson(text);
  ASSERT_TRUE(j) << text;
  EXPECT_STREQ(cJSON_GetObjectItem(j.get(), "reason")->valuestring, "invalid_message");
  EXPECT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(j.get(), "trade")));
}

TEST(DecisionNames, ReasonsRoundTripWithSpecNames) {
  const char* names[] = {"invalid_message", "unknown_order", "amount_mismatch", "mchid_mismatch",
                         "appid_mismatch", "out_trade_no_mismatch", "refunded", "not_found",
                         "retries_exhausted", "poison"};
  for (const char* n : names) {
    auto r = ParseDeadLetterReason(n);
    ASSERT_TRUE(r.has_value()) << n;
    EXPECT_EQ(DeadLetterReasonName(*r), n);
  }
  EXPECT_FALSE(ParseDeadLetterReason("").has_value());
  EXPECT_FALSE(ParseDeadLetterReason("Unknown_Order").has_value());
  EXPECT_EQ(DeadLetterReasonName(DeadLetterReason::kNone), "");
}

TEST(DecisionNames, OutcomeNames) {
  EXPECT_EQ(OutcomeName(Outcome::kNothingToDo), "nothing_to_do");
  EXPECT_EQ(OutcomeName(Outcome::kPaid), "paid");
  EXPECT_EQ(OutcomeName(Outcome::kCancelled), "cancelled");
  EXPECT_EQ(OutcomeName(Outcome::kReschedule), "reschedule");
  EXPECT_EQ(OutcomeName(Outcome::kDeadLetter), "dead_letter");
  EXPECT_EQ(OutcomeName(Outcome::kDatabaseError), "database_error");
}

}  // namespace
}  // namespace wxpay::testing
