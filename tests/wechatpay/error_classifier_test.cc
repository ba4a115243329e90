#include "wechatpay/error_classifier.h"

#include <gtest/gtest.h>

namespace wxpay {
namespace {

struct Row {
  long status;
  const char* code;
  PayErrorKind kind;
  bool system_wide;
};

constexpr PayErrorKind kNotFound = PayErrorKind::kNotFound;
constexpr PayErrorKind kClosed = PayErrorKind::kClosed;
constexpr PayErrorKind kPaid = PayErrorKind::kPaid;
constexpr PayErrorKind kUserPaying = PayErrorKind::kUserPaying;
constexpr PayErrorKind kThrottled = PayErrorKind::kThrottled;
constexpr PayErrorKind kTransient = PayErrorKind::kTransient;
constexpr PayErrorKind kPermanent = PayErrorKind::kPermanent;

class Classification : public ::testing::TestWithParam<Row> {};

TEST_P(Classification, MatchesSpecSection3) {
  const Row& row = GetParam();
  ErrorClass c = ClassifyErrorAnswer(row.status, row.code);
  EXPECT_EQ(PayErrorKindName(c.kind), PayErrorKindName(row.kind))
      << row.status << " " << row.code;
  EXPECT_EQ(c.system_wide, row.system_wide) << row.status << " " << row.code;
}

INSTANTIATE_TEST_SUITE_P(
    EveryCodeBothSpellings, Classification,
    ::testing::Values(
        // Order state answers.
        Row{404, "ORDER_NOT_EXIST", kNotFound, false}, Row{404, "ORDERNOTEXIST", kNotFound, false},
        Row{400, "ORDER_CLOSED", kClosed, false}, Row{400, "ORDER_PAID", kPaid, false},
        Row{400, "ORDERPAID", kPaid, false}, Row{403, "ORDER_PAID", kPaid, false},
        Row{202, "USER_PAYING", kUserPaying, false}, Row{202, "USERPAYING", kUserPaying, false},
        // Throttling: 429 is system-wide; a close's FREQUENCY_LIMITED is per order.
        Row{429, "FREQUENCY_LIMITED", kThrottled, true},
        Row{429, "RATELIMIT_EXCEEDED", kThrottled, true}, Row{429, "", kThrottled, true},
        Row{403, "FREQUENCY_LIMITED", kThrottled, false},
        Row{403, "RATELIMIT_EXCEEDED", kThrottled, false},
        Row{403, "RULE_LIMIT", kThrottled, false}, Row{403, "RULELIMIT", kThrottled, false},
        // WeChat Pay's side.
        Row{500, "SYSTEM_ERROR", kTransient, true}, Row{500, "SYSTEMERROR", kTransient, true},
        Row{502, "", kTransient, true}, Row{503, "SERVICE_UNAVAILABLE", kTransient, true},
        Row{500, "ORDER_NOT_EXIST", kTransient, true}, Row{400, "SYSTEM_ERROR", kTransient, true},
        // Permanent: auth and signature are system-wide, request errors are not.
        Row{401, "SIGN_ERROR", kPermanent, true}, Row{401, "", kPermanent, true},
        Row{403, "NO_AUTH", kPermanent, true}, Row{403, "ACCOUNT_ERROR", kPermanent, true},
        // ... except refusals about this one order (a payment-code order's close).
        Row{403, "TRADE_ERROR", kPermanent, false}, Row{403, "OUT_TRADE_NO_USED", kPermanent, false},
        Row{403, "", kPermanent, true}, Row{400, "MCH_NOT_EXISTS", kPermanent, false},
        Row{400, "PARAM_ERROR", kPermanent, false},
        Row{400, "APPID_MCHID_NOT_MATCH", kPermanent, false},
        Row{400, "INVALID_REQUEST", kPermanent, false},
        // Unknown codes and statuses are transient (never cancel on a guess).
        Row{400, "SOMETHING_NEW", kTransient, false}, Row{404, "", kTransient, false},
        Row{404, "RESOURCE_NOT_EXISTS", kTransient, false}, Row{301, "", kTransient, false},
        Row{202, "", kTransient, false}, Row{204, "", kTransient, false},
        Row{400, "order_not_exist", kTransient, false}));

TEST(ErrorBody, ReadsCodeAndMessage) {
  ErrorBody b = ParseErrorBody(R"({"code":"ORDER_NOT_EXIST","message":"查询单据不存在"})");
  EXPECT_EQ(b.code, "ORDER_NOT_EXIST");
  EXPECT_EQ(b.message, "查询单据不存在");
  ErrorBody detail = ParseErrorBody(
      R"({"code":"PARAM_ERROR","message":"参数错误","detail":{"field":"/amount/currency"}})");
  EXPECT_EQ(detail.code, "PARAM_ERROR");
}

TEST(ErrorBody, ToleratesEmptyHtmlAndOddJson) {
  EXPECT_EQ(ParseErrorBody("").code, "");
  EXPECT_EQ(ParseErrorBody("").message, "");
  ErrorBody html = ParseErrorBody("<html><body>502 Bad Gateway</body></html>");
  EXPECT_EQ(html.code, "");
  EXPECT_NE(html.message.find("non-JSON answer"), std::string::npos);
  EXPECT_EQ(ParseErrorBody(R"({"code":7,"message":null})").code, "");
  EXPECT_EQ(ParseErrorBody(R"(["ORDER_NOT_EXIST"])").code, "");
}

TEST(ErrorBody, LongMessagesAreCutAtACharacterBoundaryWithoutControlCharacters) {
  std::string msg;
  for (int i = 0; i < 200; ++i) msg += "错";
  ErrorBody b = ParseErrorBody(R"({"code":"X","message":")" + msg + R"(\nnext"})");
  EXPECT_LE(b.message.size(), 260u);
  EXPECT_EQ(b.message.substr(b.message.size() - 3), "...");
  std::string text = b.message.substr(0, b.message.size() - 3);
  EXPECT_EQ(text.size() % 3, 0u);  // whole 3-byte characters only
  EXPECT_EQ(ParseErrorBody(R"({"code":"X","message":"a\nb"})").message, "a b");
}

}  // namespace
}  // namespace wxpay
