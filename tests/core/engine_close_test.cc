// SPEC §3: the NOTPAY and PAYERROR rows, whose close is followed by a second
// query (a 204 proves nothing).
#include <gtest/gtest.h>

#include "core/engine_fixture.h"

namespace wxpay::testing {
namespace {

using Ep = FakePaymentGateway::Endpoint;

std::vector<Ep> Endpoints(const FakePaymentGateway& g) {
  std::vector<Ep> out;
  for (const auto& c : g.Calls()) out.push_back(c.endpoint);
  return out;
}

const std::vector<Ep> kQueryCloseQuery{Ep::kQuery, Ep::kClose, Ep::kQuery};

TEST_F(EngineTest, NotPayIsClosedRequeriedAndCancelled) {
  AddUnpaidWithTrade("ORDER000001", "NOTPAY");
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kCancelled);
  EXPECT_EQ(d.Action(), "close+requery+cancel");
  EXPECT_EQ(Endpoints(wechat_), kQueryCloseQuery);
  EXPECT_EQ(d.WechatCallCount(), 3);
  EXPECT_EQ(d.trade_states, (std::vector<std::string>{"NOTPAY", "CLOSED"}));
  EXPECT_EQ(StateOf("ORDER000001"), ShopState::kCancelled);
}

TEST_F(EngineTest, CloseAnswered204ThenSuccessOnRequeryMarksPaid) {
  ShopOrder o = AddUnpaidWithTrade("ORDER000001", "NOTPAY");
  // The buyer pays at the instant of the close: WeChat answers 204 anyway.
  wechat_.SetOnClose([&](const PaymentRef&, std::map<std::string, Trade>& trades) {
    trades["ORDER000001"] = MakeTrade(o, "SUCCESS");
  });
  wechat_.PushClose("ORDER000001", CloseAccepted{"REQ-CLOSE"});
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kPaid);
  EXPECT_EQ(d.Action(), "close+requery+mark_paid");
  EXPECT_EQ(Endpoints(wechat_), kQueryCloseQuery);
  EXPECT_EQ(StateOf("ORDER000001"), ShopState::kPaid);
  EXPECT_EQ(store_.Writes().size(), 1u);
}

TEST_F(EngineTest, StillNotPayAfterAcceptedCloseReschedulesWithoutSecondClose) {
  ShopOrder o = AddUnpaidWithTrade("ORDER000001", "NOTPAY");
  wechat_.PushClose("ORDER000001", CloseAccepted{});
  wechat_.PushQuery("ORDER000001", MakeTrade(o, "NOTPAY"));
  wechat_.PushQuery("ORDER000001", MakeTrade(o, "NOTPAY"));
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kReschedule);
  EXPECT_TRUE(d.counts_as_attempt);
  EXPECT_EQ(wechat_.CloseCount(), 1);
  EXPECT_EQ(Endpoints(wechat_), kQueryCloseQuery);
  EXPECT_EQ(store_.WriteCount(), 0);
}

TEST_F(EngineTest, OrderClosedAnswerCountsAsClosedAndIsRequeried) {
  ShopOrder o = AddUnpaidWithTrade("ORDER000001", "NOTPAY");
  wechat_.PushClose("ORDER000001", MakePayError(PayErrorKind::kClosed, 400, "ORDER_CLOSED", false));
  wechat_.PushQuery("ORDER000001", MakeTrade(o, "NOTPAY"));
  wechat_.PushQuery("ORDER000001", MakeTrade(o, "CLOSED"));
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kCancelled);
  EXPECT_EQ(Endpoints(wechat_), kQueryCloseQuery);
}

TEST_F(EngineTest, NotFoundOnTheRequeryIsTransientNotACancel) {
  ShopOrder o = AddOrder("ORDER000001");
  wechat_.PushQuery("ORDER000001", MakeTrade(o, "NOTPAY"));
  // the model has no trade: the close answers 204 and the requery 404
  Decision d = Process("ORDER000001", 2);
  EXPECT_EQ(Endpoints(wechat_), kQueryCloseQuery);
  EXPECT_EQ(d.outcome, Outcome::kReschedule);
  EXPECT_TRUE(d.counts_as_attempt);
  EXPECT_EQ(d.delay, Millis(20s));
  EXPECT_EQ(store_.WriteCount(), 0);
  EXPECT_EQ(StateOf("ORDER000001"), ShopState::kUnpaid);
  EXPECT_FALSE(engine().not_found_breaker().status().consecutive_not_found > 0);
}

TEST_F(EngineTest, CloseAnsweredOrderPaidRequeriesAndMarksPaid) {
  ShopOrder o = AddUnpaidWithTrade("ORDER000001", "NOTPAY");
  wechat_.SetOnClose([&](const PaymentRef&, std::map<std::string, Trade>& trades) {
    trades["ORDER000001"] = MakeTrade(o, "SUCCESS");  // then the model answers ORDER_PAID
  });
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kPaid);
  EXPECT_EQ(Endpoints(wechat_), kQueryCloseQuery);
  EXPECT_EQ(StateOf("ORDER000001"), ShopState::kPaid);
}

TEST_F(EngineTest, CloseAnsweredOrderPaidNeverCancelsWhateverTheRequerySays) {
  for (const char* later : {"CLOSED", "REVOKED", "NOTPAY", "PAYERROR"}) {
    SCOPED_TRACE(later);
    const std::string no = std::string("ORDER00000") + later;
    ShopOrder o = AddUnpaidWithTrade(no, "NOTPAY");
    wechat_.PushClose(no, MakePayError(PayErrorKind::kPaid, 400, "ORDER_PAID", false));
    wechat_.PushQuery(no, MakeTrade(o, "NOTPAY"));
    wechat_.PushQuery(no, MakeTrade(o, later));
    Decision d = Process(no);
    EXPECT_EQ(d.outcome, Outcome::kReschedule);
    EXPECT_EQ(StateOf(no), ShopState::kUnpaid);
  }
  EXPECT_EQ(store_.WriteCount(), 0);
}

TEST_F(EngineTest, CloseAnsweredUserPayingReschedulesAfterRecheckNeverCancels) {
  AddUnpaidWithTrade("ORDER000001", "NOTPAY");
  wechat_.PushClose("ORDER000001", MakePayError(PayErrorKind::kUserPaying, 202, "USER_PAYING", false));
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kReschedule);
  EXPECT_EQ(d.delay, Millis(60s));
  EXPECT_TRUE(d.counts_as_attempt);
  EXPECT_EQ(Endpoints(wechat_), (std::vector<Ep>{Ep::kQuery, Ep::kClose}));
  EXPECT_EQ(store_.WriteCount(), 0);
}

TEST_F(EngineTest, CloseAnsweredFrequencyLimitedReschedulesNeverCancels) {
  AddUnpaidWithTrade("ORDER000001", "NOTPAY");
  wechat_.PushClose("ORDER000001", MakePayError(PayErrorKind::kThrottled, 403, "FREQUENCY_LIMITED", false));
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kReschedule);
  EXPECT_EQ(d.delay, Millis(10s));
  EXPECT_EQ(wechat_.CallCount(), 2);
  EXPECT_EQ(store_.WriteCount(), 0);
}

TEST_F(EngineTest, CloseFailingSystemWideReschedulesWithTheFlag) {
  AddUnpaidWithTrade("ORDER000001", "NOTPAY");
  wechat_.PushClose("ORDER000001", MakePayError(PayErrorKind::kTransient, 502, "", true));
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kReschedule);
  EXPECT_TRUE(d.system_wide);
  EXPECT_EQ(wechat_.CallCount(), 2);
  EXPECT_EQ(store_.WriteCount(), 0);
  ASSERT_EQ(d.calls.size(), 2u);
  EXPECT_FALSE(d.calls[1].ok);
  EXPECT_TRUE(d.calls[1].system_wide);
  EXPECT_EQ(d.calls[1].endpoint, WechatEndpoint::kClose);
}

TEST_F(EngineTest, PayErrorIsClosedAndCancelled) {
  AddUnpaidWithTrade("ORDER000001", "PAYERROR");
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kCancelled);
  EXPECT_EQ(d.Action(), "close+requery+cancel");
  EXPECT_EQ(Endpoints(wechat_), kQueryCloseQuery);
}

TEST_F(EngineTest, PayErrorWhoseCloseIsRefusedIsCancelledIfStillPayError) {
  AddUnpaidWithTrade("ORDER000001", "PAYERROR");
  wechat_.PushClose("ORDER000001", MakePayError(PayErrorKind::kPermanent, 403, "TRADE_ERROR", false));
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kCancelled);
  EXPECT_EQ(d.Action(), "close+requery+cancel");
  EXPECT_EQ(Endpoints(wechat_), kQueryCloseQuery);
  EXPECT_EQ(d.trade_states, (std::vector<std::string>{"PAYERROR", "PAYERROR"}));
  EXPECT_FALSE(d.permanent);
}

TEST_F(EngineTest, PayErrorWhoseCloseIsRefusedButNowPaidIsMarkedPaid) {
  ShopOrder o = AddUnpaidWithTrade("ORDER000001", "PAYERROR");
  wechat_.PushClose("ORDER000001", MakePayError(PayErrorKind::kPermanent, 403, "TRADE_ERROR", false));
  wechat_.PushQuery("ORDER000001", MakeTrade(o, "PAYERROR"));
  wechat_.PushQuery("ORDER000001", MakeTrade(o, "SUCCESS"));
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kPaid);
}

TEST_F(EngineTest, PayErrorWhoseCloseFailsSystemWideIsNotRequeried) {
  AddUnpaidWithTrade("ORDER000001", "PAYERROR");
  wechat_.PushClose("ORDER000001", MakePayError(PayErrorKind::kTransient, 500, "SYSTEM_ERROR", true));
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kReschedule);
  EXPECT_EQ(wechat_.CallCount(), 2);
  EXPECT_EQ(store_.WriteCount(), 0);
}

TEST_F(EngineTest, NotPayWhoseCloseIsRefusedIsNotRequeriedNorCancelled) {
  AddUnpaidWithTrade("ORDER000001", "NOTPAY");
  wechat_.PushClose("ORDER000001", MakePayError(PayErrorKind::kPermanent, 403, "TRADE_ERROR", false));
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kReschedule);
  EXPECT_TRUE(d.permanent);
  EXPECT_EQ(wechat_.CallCount(), 2);
  EXPECT_EQ(store_.WriteCount(), 0);
}

TEST_F(EngineTest, RequeryFailureAfterCloseReschedules) {
  ShopOrder o = AddUnpaidWithTrade("ORDER000001", "NOTPAY");
  wechat_.PushQuery("ORDER000001", MakeTrade(o, "NOTPAY"));
  wechat_.PushQuery("ORDER000001", MakePayError(PayErrorKind::kTransient, 0, "", true));
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kReschedule);
  EXPECT_TRUE(d.system_wide);
  EXPECT_EQ(Endpoints(wechat_), kQueryCloseQuery);
  EXPECT_EQ(store_.WriteCount(), 0);
}

TEST_F(EngineTest, UserPayingOnTheRequeryReschedulesAfterRecheck) {
  ShopOrder o = AddUnpaidWithTrade("ORDER000001", "NOTPAY");
  wechat_.PushQuery("ORDER000001", MakeTrade(o, "NOTPAY"));
  wechat_.PushQuery("ORDER000001", MakeTrade(o, "USERPAYING"));
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kReschedule);
  EXPECT_EQ(d.delay, Millis(60s));
  EXPECT_EQ(store_.WriteCount(), 0);
}

}  // namespace
}  // namespace wxpay::testing
