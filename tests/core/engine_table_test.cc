// SPEC §3, row by row: the rows without a close.
#include <gtest/gtest.h>

#include "core/engine_fixture.h"

namespace wxpay::testing {
namespace {

using Ep = FakePaymentGateway::Endpoint;
using Op = FakeShopStore::Op;

// ---- order not found / filtered

TEST_F(EngineTest, UnknownOrderIsDeadLetteredWithoutCallingWeChat) {
  Decision d = Process("NOSUCH000001");
  EXPECT_EQ(d.outcome, Outcome::kDeadLetter);
  EXPECT_EQ(d.reason, DeadLetterReason::kUnknownOrder);
  EXPECT_EQ(wechat_.CallCount(), 0);
  EXPECT_EQ(d.WechatCallCount(), 0);
  EXPECT_EQ(store_.WriteCount(), 0);
  EXPECT_FALSE(d.shop_before.has_value());
  EXPECT_NE(d.error.find("NOSUCH000001"), std::string::npos) << d.error;
  EXPECT_EQ(d.Action(), "dead_letter");
}

TEST_F(EngineTest, InvalidOrderNumberNeverReachesTheStore) {
  Decision d = Process("12'; DROP TABLE orders;--");
  EXPECT_EQ(d.outcome, Outcome::kDeadLetter);
  EXPECT_EQ(d.reason, DeadLetterReason::kInvalidMessage);
  EXPECT_EQ(store_.Count(Op::kLoad), 0);
  EXPECT_EQ(wechat_.CallCount(), 0);
}

TEST_F(EngineTest, InvalidOutTradeNoColumnNeverReachesWeChat) {
  ShopOrder o = AddOrder("ORDER000001");
  o.out_trade_no = "a/b?c";
  store_.Put(o);
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kDeadLetter);
  EXPECT_EQ(d.reason, DeadLetterReason::kUnknownOrder);
  EXPECT_EQ(wechat_.CallCount(), 0);
}

// ---- not unpaid

class NotUnpaidTest : public EngineTest, public ::testing::WithParamInterface<ShopState> {};

TEST_P(NotUnpaidTest, AcksWithoutCallOrWrite) {
  AddOrder("ORDER000001", GetParam());
  wechat_.SetTradeState("ORDER000001", "NOTPAY");
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kNothingToDo);
  EXPECT_TRUE(d.MayAcknowledge());
  EXPECT_EQ(wechat_.CallCount(), 0);
  EXPECT_EQ(store_.WriteCount(), 0);
  EXPECT_EQ(d.shop_before, GetParam());
  EXPECT_EQ(d.shop_after, GetParam());
  EXPECT_EQ(d.Action(), "none");
}

INSTANTIATE_TEST_SUITE_P(States, NotUnpaidTest,
                         ::testing::Values(ShopState::kPaid, ShopState::kCancelled, ShopState::kOther));

// ---- window (invariant 5)

TEST_F(EngineTest, EarlyMessageWaitsForTheRestOfTheWindowWithoutCallOrAttempt) {
  AddUnpaidWithTrade("ORDER000001", "NOTPAY");
  clock_.Set(created_ + 10min);  // 5 minutes early
  Decision d = Process("ORDER000001", 3);
  EXPECT_EQ(d.outcome, Outcome::kReschedule);
  EXPECT_EQ(d.delay, Millis(5min));
  EXPECT_FALSE(d.counts_as_attempt);
  EXPECT_EQ(d.next_attempt, 3);
  EXPECT_EQ(wechat_.CallCount(), 0);
  EXPECT_EQ(store_.WriteCount(), 0);
  EXPECT_EQ(StateOf("ORDER000001"), ShopState::kUnpaid);
}

TEST_F(EngineTest, OneMillisecondBeforeTheBoundaryStillWaits) {
  AddUnpaidWithTrade("ORDER000001", "NOTPAY");
  clock_.Set(created_ + 15min - 1ms);
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kReschedule);
  EXPECT_EQ(d.delay, 1ms);
  EXPECT_EQ(wechat_.CallCount(), 0);
}

TEST_F(EngineTest, SubMillisecondRemainderRoundsUpSoTheRetryIsNeverEarly) {
  AddUnpaidWithTrade("ORDER000001", "NOTPAY");
  clock_.Set(created_ + 15min - std::chrono::microseconds(1));
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kReschedule);
  EXPECT_EQ(d.delay, 1ms);
}

TEST_F(EngineTest, ExactlyAtTheBoundaryTheWindowIsOver) {
  AddUnpaidWithTrade("ORDER000001", "NOTPAY");
  clock_.Set(created_ + 15min);
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kCancelled);
  EXPECT_EQ(wechat_.CloseCount(), 1);
}

TEST_F(EngineTest, WindowWaitNeverExhaustsAttempts) {
  AddUnpaidWithTrade("ORDER000001", "NOTPAY");
  clock_.Set(created_ + 1min);
  Decision d = Process("ORDER000001", options_.retry.max_attempts);
  EXPECT_EQ(d.outcome, Outcome::kReschedule);
  EXPECT_FALSE(d.counts_as_attempt);
}

TEST_F(EngineTest, PaidOrderAckedEvenInsideTheWindow) {
  AddOrder("ORDER000001", ShopState::kPaid);
  clock_.Set(created_ + 1min);
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kNothingToDo);
}

// ---- SUCCESS

TEST_F(EngineTest, SuccessMarksPaidWithOneQuery) {
  AddUnpaidWithTrade("ORDER000001", "SUCCESS");
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kPaid);
  EXPECT_EQ(d.Action(), "mark_paid");
  EXPECT_EQ(wechat_.QueryCount(), 1);
  EXPECT_EQ(wechat_.CloseCount(), 0);
  EXPECT_EQ(StateOf("ORDER000001"), ShopState::kPaid);
  const auto writes = store_.Writes();
  ASSERT_EQ(writes.size(), 1u);
  const auto& w = writes[0];
  EXPECT_EQ(w.op, Op::kMarkPaid);
  ASSERT_TRUE(w.trade.has_value());
  EXPECT_EQ(w.trade->transaction_id, "4200000000ORDER000001");
  ASSERT_TRUE(d.trade.has_value());
  EXPECT_EQ(d.trade->trade_state, "SUCCESS");
  EXPECT_EQ(d.trade_states, std::vector<std::string>{"SUCCESS"});
  EXPECT_EQ(d.shop_after, ShopState::kPaid);
}

TEST_F(EngineTest, QueriesTheMappedOutTradeNoAndTheOrdersSubMerchant) {
  ShopOrder o = AddOrder("ORDER000001");
  o.out_trade_no = "WX-ORDER000001";
  o.sub_mchid = "1900000109";
  store_.Put(o);
  options_.partner = true;
  options_.sp_mchid = "1900000100";
  Trade t = MakeTrade(o, "SUCCESS");
  t.mchid.clear();
  t.sp_mchid = "1900000100";
  t.sub_mchid = "1900000109";
  wechat_.SetTrade(t);
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kPaid) << d.error;
  ASSERT_EQ(wechat_.Calls().size(), 1u);
  EXPECT_EQ(wechat_.Calls()[0].ref.out_trade_no, "WX-ORDER000001");
  EXPECT_EQ(wechat_.Calls()[0].ref.sub_mchid, "1900000109");
}

struct MismatchCase {
  const char* name;
  void (*tamper)(Trade&);
  DeadLetterReason reason;
};

class MismatchTest : public EngineTest, public ::testing::WithParamInterface<MismatchCase> {};

TEST_P(MismatchTest, DeadLettersAndChangesNothing) {
  options_.appids = {kAppid};
  ShopOrder o = AddOrder("ORDER000001");
  Trade t = MakeTrade(o, "SUCCESS", kMchid, kAppid);
  GetParam().tamper(t);
  wechat_.PushQuery(o.out_trade_no, t);
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kDeadLetter);
  EXPECT_EQ(d.reason, GetParam().reason) << d.error;
  EXPECT_EQ(store_.WriteCount(), 0);
  EXPECT_EQ(wechat_.CallCount(), 1);
  EXPECT_EQ(StateOf("ORDER000001"), ShopState::kUnpaid);
  EXPECT_FALSE(d.error.empty());
}

void WrongAmount(Trade& trade) { trade.amount_total = 99; }
void NoAmount(Trade& trade) { trade.amount_total.reset(); }
void WrongMchid(Trade& trade) { trade.mchid = "1900000002"; }
void WrongAppid(Trade& trade) { trade.appid = "wxOTHER"; }
void WrongOutTradeNo(Trade& trade) { trade.out_trade_no = "ORDER000002"; }

std::string MismatchName(const ::testing::TestParamInfo<MismatchCase>& param_info) {
  return param_info.param.name;
}

INSTANTIATE_TEST_SUITE_P(
    Checks, MismatchTest,
    ::testing::Values(MismatchCase{"amount", WrongAmount, DeadLetterReason::kAmountMismatch},
                      MismatchCase{"amount_missing", NoAmount, DeadLetterReason::kAmountMismatch},
                      MismatchCase{"mchid", WrongMchid, DeadLetterReason::kMchidMismatch},
                      MismatchCase{"appid", WrongAppid, DeadLetterReason::kAppidMismatch},
                      MismatchCase{"out_trade_no", WrongOutTradeNo, DeadLetterReason::kOutTradeNoMismatch}),
    MismatchName);

TEST_F(EngineTest, SuccessSeenAfterTheCloseIsCheckedToo) {
  ShopOrder o = AddUnpaidWithTrade("ORDER000001", "NOTPAY");
  Trade paid = MakeTrade(o, "SUCCESS");
  paid.amount_total = 1;
  wechat_.PushClose("ORDER000001", CloseAccepted{});
  wechat_.PushQuery("ORDER000001", MakeTrade(o, "NOTPAY"));
  wechat_.PushQuery("ORDER000001", paid);
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kDeadLetter);
  EXPECT_EQ(d.reason, DeadLetterReason::kAmountMismatch);
  EXPECT_EQ(store_.WriteCount(), 0);
}

// ---- CLOSED / REVOKED

class ClosedTest : public EngineTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(ClosedTest, CancelsWithoutClosing) {
  AddUnpaidWithTrade("ORDER000001", GetParam());
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kCancelled);
  EXPECT_EQ(d.Action(), "cancel");
  EXPECT_EQ(wechat_.QueryCount(), 1);
  EXPECT_EQ(wechat_.CloseCount(), 0);
  EXPECT_EQ(StateOf("ORDER000001"), ShopState::kCancelled);
  EXPECT_EQ(d.shop_after, ShopState::kCancelled);
}

INSTANTIATE_TEST_SUITE_P(States, ClosedTest, ::testing::Values("CLOSED", "REVOKED"));

// ---- USERPAYING, unknown states

TEST_F(EngineTest, UserPayingReschedulesAfterRecheckAndCounts) {
  AddUnpaidWithTrade("ORDER000001", "USERPAYING");
  Decision d = Process("ORDER000001", 2);
  EXPECT_EQ(d.outcome, Outcome::kReschedule);
  EXPECT_EQ(d.delay, Millis(60s));
  EXPECT_TRUE(d.counts_as_attempt);
  EXPECT_EQ(d.next_attempt, 3);
  EXPECT_FALSE(d.unknown_trade_state);
  EXPECT_EQ(wechat_.CallCount(), 1);
  EXPECT_EQ(store_.WriteCount(), 0);
}

TEST_F(EngineTest, UnknownTradeStateReschedulesWithAWarning) {
  AddUnpaidWithTrade("ORDER000001", "ACCEPT");
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kReschedule);
  EXPECT_EQ(d.delay, Millis(60s));
  EXPECT_TRUE(d.unknown_trade_state);
  EXPECT_EQ(d.Severity(), DecisionSeverity::kWarning);
  EXPECT_NE(d.error.find("ACCEPT"), std::string::npos);
  EXPECT_EQ(wechat_.CloseCount(), 0);
  EXPECT_EQ(store_.WriteCount(), 0);
}

// ---- REFUND

TEST_F(EngineTest, RefundIsParkedByDefault) {
  AddUnpaidWithTrade("ORDER000001", "REFUND");
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kDeadLetter);
  EXPECT_EQ(d.reason, DeadLetterReason::kRefunded);
  EXPECT_EQ(store_.WriteCount(), 0);
  EXPECT_EQ(wechat_.CloseCount(), 0);
}

TEST_F(EngineTest, RefundMarkPaidPolicyMarksPaid) {
  options_.refund_action = RefundAction::kMarkPaid;
  AddUnpaidWithTrade("ORDER000001", "REFUND");
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kPaid);
  EXPECT_EQ(StateOf("ORDER000001"), ShopState::kPaid);
}

TEST_F(EngineTest, RefundMarkPaidPolicyStillChecksTheTrade) {
  options_.refund_action = RefundAction::kMarkPaid;
  ShopOrder o = AddOrder("ORDER000001");
  Trade t = MakeTrade(o, "REFUND");
  t.mchid = "1900000002";
  wechat_.SetTrade(t);
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kDeadLetter);
  EXPECT_EQ(d.reason, DeadLetterReason::kMchidMismatch);
  EXPECT_EQ(store_.WriteCount(), 0);
}

// ---- 404 on the first query

TEST_F(EngineTest, NotFoundCancelsByDefault) {
  AddOrder("ORDER000001");
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kCancelled);
  EXPECT_EQ(d.Action(), "cancel");
  EXPECT_EQ(wechat_.QueryCount(), 1);
  EXPECT_EQ(wechat_.CloseCount(), 0);
  EXPECT_EQ(StateOf("ORDER000001"), ShopState::kCancelled);
}

TEST_F(EngineTest, NotFoundParkPolicyDeadLetters) {
  options_.not_found_action = NotFoundAction::kPark;
  AddOrder("ORDER000001");
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kDeadLetter);
  EXPECT_EQ(d.reason, DeadLetterReason::kNotFound);
  EXPECT_EQ(store_.WriteCount(), 0);
  EXPECT_FALSE(d.not_found_breaker_open);
}

// ---- transient / permanent failures

struct FailureCase {
  const char* name;
  PayError error;
  bool permanent;
};

class QueryFailureTest : public EngineTest, public ::testing::WithParamInterface<FailureCase> {};

std::string FailureName(const ::testing::TestParamInfo<FailureCase>& param_info) {
  return param_info.param.name;
}

TEST_P(QueryFailureTest, ReschedulesWithBackoffAndCounts) {
  AddOrder("ORDER000001");
  wechat_.PushQuery("ORDER000001", GetParam().error);
  Decision d = Process("ORDER000001", 3);
  EXPECT_EQ(d.outcome, Outcome::kReschedule);
  EXPECT_EQ(d.delay, Millis(40s));  // 10s * 2^(3-1)
  EXPECT_TRUE(d.counts_as_attempt);
  EXPECT_EQ(d.next_attempt, 4);
  EXPECT_EQ(d.permanent, GetParam().permanent);
  EXPECT_EQ(d.system_wide, GetParam().error.system_wide);
  EXPECT_EQ(d.Severity(), GetParam().permanent ? DecisionSeverity::kError : DecisionSeverity::kInfo);
  EXPECT_EQ(wechat_.CallCount(), 1);
  EXPECT_EQ(store_.WriteCount(), 0);
  EXPECT_NE(d.error.find(GetParam().error.Describe()), std::string::npos) << d.error;
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, QueryFailureTest,
    ::testing::Values(
        FailureCase{"timeout", MakePayError(PayErrorKind::kTransient, 0, "", true), false},
        FailureCase{"http500", MakePayError(PayErrorKind::kTransient, 500, "SYSTEM_ERROR", true), false},
        FailureCase{"http429", MakePayError(PayErrorKind::kThrottled, 429, "FREQUENCY_LIMITED", true), false},
        FailureCase{"bad_signature", MakePayError(PayErrorKind::kBadSignature, 200, "", true), false},
        FailureCase{"unknown_code", MakePayError(PayErrorKind::kTransient, 400, "SOMETHING_NEW", false), false},
        FailureCase{"sign_error", MakePayError(PayErrorKind::kPermanent, 401, "SIGN_ERROR", true), true},
        FailureCase{"param_error", MakePayError(PayErrorKind::kPermanent, 400, "PARAM_ERROR", false), true}),
    FailureName);

// ---- store failures

TEST_F(EngineTest, DatabaseUnavailableOnLoadIsNotAcked) {
  AddUnpaidWithTrade("ORDER000001", "SUCCESS");
  store_.FailNext(Op::kLoad, StoreError{StoreError::Kind::kUnavailable, "connection refused"});
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kDatabaseError);
  EXPECT_FALSE(d.MayAcknowledge());
  EXPECT_EQ(wechat_.CallCount(), 0);
  EXPECT_NE(d.error.find("connection refused"), std::string::npos);
}

TEST_F(EngineTest, DatabaseUnavailableOnTheWriteIsNotAcked) {
  AddUnpaidWithTrade("ORDER000001", "SUCCESS");
  store_.FailNext(Op::kMarkPaid, StoreError{StoreError::Kind::kUnavailable, "lock wait timeout"});
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kDatabaseError);
  EXPECT_FALSE(d.MayAcknowledge());
  EXPECT_EQ(StateOf("ORDER000001"), ShopState::kUnpaid);
}

TEST_F(EngineTest, BadRowIsDeadLetteredAsUnknownOrderWithTheMessage) {
  AddOrder("ORDER000001");
  store_.FailNext(Op::kLoad, StoreError{StoreError::Kind::kBadRow, "amount is NULL"});
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kDeadLetter);
  EXPECT_EQ(d.reason, DeadLetterReason::kUnknownOrder);
  EXPECT_NE(d.error.find("amount is NULL"), std::string::npos);
  EXPECT_NE(d.error.find("unknown_order"), std::string::npos);
  EXPECT_EQ(wechat_.CallCount(), 0);
}

}  // namespace
}  // namespace wxpay::testing
