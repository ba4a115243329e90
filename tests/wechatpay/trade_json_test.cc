#include "wechatpay/trade_json.h"

#include <cjson/cJSON.h>
#include <gtest/gtest.h>

#include "wechatpay/test_data.h"

namespace wxpay {
namespace {

TEST(TradeJson, ParsesTheR2DirectAnswer) {
  std::string body = testing::Kat("R2", "body");
  Result<Trade> t = ParseTradeJson(body);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->trade_state, "SUCCESS");
  EXPECT_EQ(t->state, TradeState::kSuccess);
  EXPECT_EQ(t->amount_total, 100);
  EXPECT_EQ(t->mchid, "1230000109");
  EXPECT_EQ(t->appid, "wxd678efh567hg6787");
  EXPECT_EQ(t->out_trade_no, "1217752501201407033233368018");
  EXPECT_EQ(t->transaction_id, "1217752501201407033233368018");
  EXPECT_EQ(t->success_time, "2018-06-08T10:34:56+08:00");
  EXPECT_EQ(t->raw_json, body);
  EXPECT_TRUE(t->sp_mchid.empty());
}

TEST(TradeJson, ParsesAPartnerAnswer) {
  Result<Trade> t = ParseTradeJson(
      R"({"sp_appid":"wx8888888888888888","sp_mchid":"1230000109","sub_appid":"wxd678efh567hg6999",)"
      R"("sub_mchid":"1900000109","out_trade_no":"1217752501201407033233368018",)"
      R"("trade_state":"NOTPAY","trade_state_desc":"未支付","amount":{"total":1,"currency":"CNY"},)"
      R"("payer":{"sp_openid":"x"},"new_field":{"ignored":[1,2]}})");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->state, TradeState::kNotPay);
  EXPECT_EQ(t->sp_mchid, "1230000109");
  EXPECT_EQ(t->sub_mchid, "1900000109");
  EXPECT_EQ(t->appid, "wx8888888888888888");
  EXPECT_EQ(t->sub_appid, "wxd678efh567hg6999");
  EXPECT_EQ(t->amount_total, 1);
  EXPECT_TRUE(t->transaction_id.empty());
}

TEST(TradeJson, UnknownStatesAreKeptAsReceived) {
  Result<Trade> t = ParseTradeJson(R"({"trade_state":"ACCEPT","out_trade_no":"123456"})");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->trade_state, "ACCEPT");
  EXPECT_EQ(t->state, TradeState::kUnknown);
  EXPECT_FALSE(t->amount_total.has_value());
}

TEST(TradeJson, RefusesAnswersThatCannotBeTrusted) {
  struct Case {
    const char* body;
    const char* why;
  };
  for (const Case& c : {Case{"", "not valid JSON"}, Case{"{", "not valid JSON"},
                        Case{R"({"trade_state":"SUCCESS"} trailing)", "not valid JSON"},
                        Case{"[1]", "not a JSON object"}, Case{"{}", "no trade_state"},
                        Case{R"({"trade_state":""})", "no trade_state"},
                        Case{R"({"trade_state":1})", "no trade_state"},
                        Case{R"({"trade_state":"SUCCESS","mchid":190})", "\"mchid\""},
                        Case{R"({"trade_state":"SUCCESS","amount":100})", "\"amount\""},
                        Case{R"({"trade_state":"SUCCESS","amount":{"total":"100"}})", "amount.total"},
                        Case{R"({"trade_state":"SUCCESS","amount":{"total":1.5}})", "amount.total"},
                        Case{R"({"trade_state":"SUCCESS","amount":{"total":1e300}})", "amount.total"}}) {
    Result<Trade> t = ParseTradeJson(c.body);
    ASSERT_FALSE(t.ok()) << c.body;
    EXPECT_NE(t.error().message.find(c.why), std::string::npos) << c.body << ": " << t.error().message;
  }
}

TEST(QueryAnswer, AddsVerifiedToWeChatPaysFields) {
  Result<Trade> t = ParseTradeJson(testing::Kat("R2", "body"));
  ASSERT_TRUE(t.ok());
  std::string out = QueryAnswerJson(*t);
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> json(cJSON_Parse(out.c_str()), cJSON_Delete);
  ASSERT_TRUE(json);
  EXPECT_TRUE(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(json.get(), "verified")));
  EXPECT_STREQ(cJSON_GetObjectItemCaseSensitive(json.get(), "trade_state_desc")->valuestring,
               "支付成功");
  EXPECT_EQ(cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(json.get(), "amount"), "payer_total")
                ->valueint,
            100);
  EXPECT_EQ(out.find('\n'), std::string::npos);
  EXPECT_NE(out.find("\"verified\":true"), std::string::npos);
}

TEST(QueryAnswer, NotFoundShape) {
  EXPECT_EQ(QueryNotFoundJson("1217752501201407033233368018"),
            R"({"out_trade_no":"1217752501201407033233368018","exists":false,"code":"ORDER_NOT_EXIST"})");
  // Escaped, whatever the caller passes.
  EXPECT_EQ(QueryNotFoundJson("a\"b"),
            R"({"out_trade_no":"a\"b","exists":false,"code":"ORDER_NOT_EXIST"})");
}

}  // namespace
}  // namespace wxpay
