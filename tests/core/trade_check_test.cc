#include "core/trade_check.h"

#include <gtest/gtest.h>

#include "core/fakes.h"

namespace wxpay::testing {
namespace {

ShopOrder Order() {
  ShopOrder o;
  o.order_no = "ORDER000001";
  o.out_trade_no = "ORDER000001";
  o.state = ShopState::kUnpaid;
  o.amount_fen = 100;
  return o;
}

EngineOptions Partner() {
  EngineOptions o;
  o.partner = true;
  o.sp_mchid = "1900000100";
  o.sub_mchid = "1900000109";
  return o;
}

Trade PartnerTrade(const ShopOrder& order, const std::string& sub = "1900000109") {
  Trade t = MakeTrade(order, "SUCCESS", "", "wxsp");
  t.sp_mchid = "1900000100";
  t.sub_mchid = sub;
  return t;
}

TEST(TradeCheck, DirectMatch) {
  EngineOptions o;
  o.mchid = "1900000001";
  EXPECT_FALSE(CheckTradeMatchesOrder(MakeTrade(Order(), "SUCCESS"), Order(), o).has_value());
}

TEST(TradeCheck, EmptyConfiguredMerchantNeverMatches) {
  EngineOptions o;
  Trade t = MakeTrade(Order(), "SUCCESS", "");
  auto m = CheckTradeMatchesOrder(t, Order(), o);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->reason, DeadLetterReason::kMchidMismatch);
}

TEST(TradeCheck, PartnerMatchesConfiguredSubMerchant) {
  EXPECT_FALSE(CheckTradeMatchesOrder(PartnerTrade(Order()), Order(), Partner()).has_value());
}

TEST(TradeCheck, PartnerPrefersTheOrdersSubMerchant) {
  ShopOrder order = Order();
  order.sub_mchid = "1900000200";
  EXPECT_FALSE(CheckTradeMatchesOrder(PartnerTrade(order, "1900000200"), order, Partner()).has_value());
  auto m = CheckTradeMatchesOrder(PartnerTrade(order, "1900000109"), order, Partner());
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->reason, DeadLetterReason::kMchidMismatch);
  EXPECT_NE(m->message.find("the order's sub_mchid column"), std::string::npos) << m->message;
}

TEST(TradeCheck, PartnerWrongServiceProvider) {
  Trade t = PartnerTrade(Order());
  t.sp_mchid = "1900000101";
  auto m = CheckTradeMatchesOrder(t, Order(), Partner());
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->reason, DeadLetterReason::kMchidMismatch);
}

TEST(TradeCheck, AppIdListAcceptsAppidOrSubAppid) {
  EngineOptions o = Partner();
  o.appids = {"wxshop1", "wxshop2"};
  Trade t = PartnerTrade(Order());
  auto m = CheckTradeMatchesOrder(t, Order(), o);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->reason, DeadLetterReason::kAppidMismatch);
  t.sub_appid = "wxshop2";
  EXPECT_FALSE(CheckTradeMatchesOrder(t, Order(), o).has_value());
  t.sub_appid.clear();
  t.appid = "wxshop1";
  EXPECT_FALSE(CheckTradeMatchesOrder(t, Order(), o).has_value());
}

TEST(TradeCheck, EmptyAppIdListIsNotChecked) {
  EngineOptions o;
  o.mchid = "1900000001";
  Trade t = MakeTrade(Order(), "SUCCESS", "1900000001", "");
  EXPECT_FALSE(CheckTradeMatchesOrder(t, Order(), o).has_value());
}

TEST(TradeCheck, ReportsEveryFailedCheckAndTheFirstAsReason) {
  EngineOptions o;
  o.mchid = "1900000001";
  Trade t = MakeTrade(Order(), "SUCCESS", "1900000002");
  t.amount_total = 1;
  auto m = CheckTradeMatchesOrder(t, Order(), o);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->reason, DeadLetterReason::kMchidMismatch);
  EXPECT_NE(m->message.find("amount.total 1 fen, expected 100 fen"), std::string::npos) << m->message;
  EXPECT_NE(m->message.find("mchid \"1900000002\", expected \"1900000001\""), std::string::npos);
}

}  // namespace
}  // namespace wxpay::testing
