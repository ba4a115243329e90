// Races, dry runs, the attempt budget, the not-found breaker and reloads.
#include <gtest/gtest.h>

#include "core/engine_fixture.h"

namespace wxpay::testing {
namespace {

using Op = FakeShopStore::Op;

// ---- invariant 3: the callback wins

TEST_F(EngineTest, CallbackPayingBetweenQueryAndCancelWins) {
  AddUnpaidWithTrade("ORDER000001", "NOTPAY");
  store_.SetBeforeUpdate([](ShopOrder& row) {
    row.state = ShopState::kPaid;  // the payment callback commits first
    row.raw_status = "2";
  });
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kNothingToDo);
  EXPECT_TRUE(d.lost_race);
  EXPECT_EQ(d.shop_after, ShopState::kPaid);
  EXPECT_EQ(d.shop_status_after, "2");
  EXPECT_EQ(StateOf("ORDER000001"), ShopState::kPaid);
  EXPECT_EQ(store_.Count(Op::kMarkCancelled), 1);
  ASSERT_EQ(store_.Writes().size(), 1u);
  EXPECT_FALSE(store_.Writes()[0].applied);
  EXPECT_TRUE(d.MayAcknowledge());
  EXPECT_FALSE(d.needs_attention);
  EXPECT_NE(RenderLogLine(d).find("lost_race=paid"), std::string::npos) << RenderLogLine(d);
}

TEST_F(EngineTest, CallbackPayingBeforeOurMarkPaidIsNothingToDo) {
  AddUnpaidWithTrade("ORDER000001", "SUCCESS");
  store_.SetBeforeUpdate([](ShopOrder& row) { row.state = ShopState::kPaid; });
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kNothingToDo);
  EXPECT_TRUE(d.lost_race);
  EXPECT_FALSE(d.needs_attention);
  EXPECT_EQ(store_.Count(Op::kMarkPaid), 1);
}

TEST_F(EngineTest, PaidAtWeChatButCancelledInTheShopNeedsAttention) {
  AddUnpaidWithTrade("ORDER000001", "SUCCESS");
  store_.SetBeforeUpdate([](ShopOrder& row) { row.state = ShopState::kCancelled; });
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kNothingToDo);
  EXPECT_TRUE(d.needs_attention);
  EXPECT_EQ(d.Severity(), DecisionSeverity::kError);
  EXPECT_EQ(StateOf("ORDER000001"), ShopState::kCancelled);
}

// ---- dry run

TEST_F(EngineTest, DryRunNotPayMakesNoCloseAndNoWrite) {
  options_.dry_run = true;
  AddUnpaidWithTrade("ORDER000001", "NOTPAY");
  Decision d = Process("ORDER000001");
  EXPECT_TRUE(d.dry_run);
  EXPECT_EQ(d.outcome, Outcome::kCancelled);
  EXPECT_EQ(wechat_.QueryCount(), 1);
  EXPECT_EQ(wechat_.CloseCount(), 0);
  EXPECT_EQ(store_.WriteCount(), 0);
  EXPECT_EQ(StateOf("ORDER000001"), ShopState::kUnpaid);
  EXPECT_EQ(d.shop_after, ShopState::kUnpaid);
  EXPECT_EQ(wechat_.GetTrade("ORDER000001")->trade_state, "NOTPAY");
}

TEST_F(EngineTest, DryRunWritesNothingOnAnyRow) {
  options_.dry_run = true;
  options_.refund_action = RefundAction::kMarkPaid;
  const char* states[] = {"SUCCESS", "CLOSED", "REVOKED", "PAYERROR", "REFUND", "USERPAYING"};
  int i = 0;
  for (const char* s : states) {
    AddUnpaidWithTrade("ORDER00000" + std::to_string(i++), s);
  }
  AddOrder("ORDER0000404");  // 404
  for (int k = 0; k < i; ++k) Process("ORDER00000" + std::to_string(k));
  Decision nf = Process("ORDER0000404");
  EXPECT_EQ(nf.outcome, Outcome::kCancelled);
  EXPECT_EQ(store_.WriteCount(), 0);
  EXPECT_EQ(wechat_.CloseCount(), 0);
}

TEST_F(EngineTest, DryRunSuccessReportsPaidWithoutWriting) {
  options_.dry_run = true;
  AddUnpaidWithTrade("ORDER000001", "SUCCESS");
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.outcome, Outcome::kPaid);
  EXPECT_EQ(store_.WriteCount(), 0);
  EXPECT_NE(RenderLogLine(d).find("dry_run=true"), std::string::npos);
}

// ---- attempts

TEST_F(EngineTest, LastAttemptFailingDeadLettersRetriesExhausted) {
  AddOrder("ORDER000001");
  wechat_.PushQuery("ORDER000001", MakePayError(PayErrorKind::kTransient, 400, "NEW_CODE", false));
  Decision d = Process("ORDER000001", options_.retry.max_attempts);
  EXPECT_EQ(d.outcome, Outcome::kDeadLetter);
  EXPECT_EQ(d.reason, DeadLetterReason::kRetriesExhausted);
  EXPECT_NE(d.error.find("NEW_CODE"), std::string::npos) << d.error;
  EXPECT_EQ(d.Action(), "dead_letter");
  EXPECT_EQ(store_.WriteCount(), 0);
}

TEST_F(EngineTest, SecondToLastAttemptStillReschedules) {
  AddOrder("ORDER000001");
  wechat_.PushQuery("ORDER000001", MakePayError(PayErrorKind::kTransient, 400, "NEW_CODE", false));
  Decision d = Process("ORDER000001", options_.retry.max_attempts - 1);
  EXPECT_EQ(d.outcome, Outcome::kReschedule);
  EXPECT_EQ(d.next_attempt, options_.retry.max_attempts);
}

TEST_F(EngineTest, UserPayingOnTheLastAttemptIsExhausted) {
  AddUnpaidWithTrade("ORDER000001", "USERPAYING");
  Decision d = Process("ORDER000001", options_.retry.max_attempts);
  EXPECT_EQ(d.outcome, Outcome::kDeadLetter);
  EXPECT_EQ(d.reason, DeadLetterReason::kRetriesExhausted);
}

TEST_F(EngineTest, SystemWideFailuresNeverExhaustAnOrder) {
  AddOrder("ORDER000001");
  wechat_.PushQuery("ORDER000001", MakePayError(PayErrorKind::kPermanent, 401, "SIGN_ERROR", true));
  Decision d = Process("ORDER000001", options_.retry.max_attempts + 3);
  EXPECT_EQ(d.outcome, Outcome::kReschedule);
  EXPECT_EQ(d.delay, options_.retry.max);
  EXPECT_TRUE(d.system_wide);
  EXPECT_TRUE(d.permanent);
}

TEST_F(EngineTest, BackoffGrowsWithTheAttemptAndIsCapped) {
  options_.retry.max_attempts = 100;
  AddOrder("ORDER000001");
  const Millis expected[] = {10s, 20s, 40s, 80s, 160s, 320s, 600s, 600s};
  for (int attempt = 1; attempt <= 8; ++attempt) {
    wechat_.PushQuery("ORDER000001", MakePayError(PayErrorKind::kTransient, 503, "", true));
    Decision d = Process("ORDER000001", attempt);
    EXPECT_EQ(d.delay, expected[attempt - 1]) << "attempt " << attempt;
  }
}

TEST_F(EngineTest, AttemptBelowOneIsTreatedAsOne) {
  AddUnpaidWithTrade("ORDER000001", "USERPAYING");
  Decision d = Process("ORDER000001", 0);
  EXPECT_EQ(d.attempt, 1);
  EXPECT_EQ(d.next_attempt, 2);
}

// ---- not-found breaker

TEST_F(EngineTest, NotFoundBreakerParksAfterTheThresholdUntilReset) {
  options_.not_found_breaker = 3;
  for (int i = 1; i <= 5; ++i) AddOrder("MISSING00" + std::to_string(i));

  for (int i = 1; i <= 3; ++i) {
    Decision d = Process("MISSING00" + std::to_string(i));
    EXPECT_EQ(d.outcome, Outcome::kCancelled) << i;
  }
  EXPECT_TRUE(engine().not_found_breaker().open());

  Decision parked = Process("MISSING004");
  EXPECT_EQ(parked.outcome, Outcome::kDeadLetter);
  EXPECT_EQ(parked.reason, DeadLetterReason::kNotFound);
  EXPECT_TRUE(parked.not_found_breaker_open);
  EXPECT_EQ(StateOf("MISSING004"), ShopState::kUnpaid);
  EXPECT_NE(parked.error.find("breaker"), std::string::npos);

  // A found order does not close an open breaker: only a reload does.
  AddUnpaidWithTrade("FOUND00001", "SUCCESS");
  Process("FOUND00001");
  EXPECT_TRUE(engine().not_found_breaker().open());

  engine().not_found_breaker().Reset();
  EXPECT_FALSE(engine().not_found_breaker().open());
  EXPECT_EQ(Process("MISSING005").outcome, Outcome::kCancelled);
}

TEST_F(EngineTest, AFoundOrderBreaksTheRunOfNotFound) {
  options_.not_found_breaker = 3;
  for (int i = 1; i <= 4; ++i) AddOrder("MISSING00" + std::to_string(i));
  AddUnpaidWithTrade("FOUND00001", "CLOSED");
  Process("MISSING001");
  Process("MISSING002");
  Process("FOUND00001");
  Process("MISSING003");
  EXPECT_FALSE(engine().not_found_breaker().open());
  EXPECT_EQ(engine().not_found_breaker().status().consecutive_not_found, 1);
  Process("MISSING004");
  EXPECT_EQ(engine().not_found_breaker().status().consecutive_not_found, 2);
}

TEST_F(EngineTest, OtherErrorsNeitherExtendNorBreakTheRun) {
  options_.not_found_breaker = 2;
  AddOrder("MISSING001");
  AddOrder("MISSING002");
  AddOrder("FAILING001");
  wechat_.PushQuery("FAILING001", MakePayError(PayErrorKind::kTransient, 500, "SYSTEM_ERROR", true));
  Process("MISSING001");
  Process("FAILING001");
  EXPECT_EQ(engine().not_found_breaker().status().consecutive_not_found, 1);
  Process("MISSING002");
  EXPECT_TRUE(engine().not_found_breaker().open());
}

TEST_F(EngineTest, NotFoundBreakerZeroDisablesIt) {
  options_.not_found_breaker = 0;
  for (int i = 1; i <= 5; ++i) {
    AddOrder("MISSING00" + std::to_string(i));
    EXPECT_EQ(Process("MISSING00" + std::to_string(i)).outcome, Outcome::kCancelled);
  }
  EXPECT_FALSE(engine().not_found_breaker().open());
}

// ---- reload

TEST_F(EngineTest, SetOptionsAppliesToLaterDecisions) {
  AddOrder("MISSING001");
  AddOrder("MISSING002");
  engine();  // built with the default cancel policy
  EngineOptions reloaded = engine().options();
  reloaded.not_found_action = NotFoundAction::kPark;
  engine().SetOptions(reloaded);
  EXPECT_EQ(Process("MISSING001").reason, DeadLetterReason::kNotFound);
  reloaded.not_found_action = NotFoundAction::kCancel;
  engine().SetOptions(reloaded);
  EXPECT_EQ(Process("MISSING002").outcome, Outcome::kCancelled);
}

// ---- timing

TEST_F(EngineTest, TookIsMeasuredWithTheInjectedClock) {
  AddOrder("ORDER000001");
  store_.SetBeforeUpdate([&](ShopOrder&) { clock_.Advance(23ms); });
  Decision d = Process("ORDER000001");
  EXPECT_EQ(d.took, 23ms);
}

}  // namespace
}  // namespace wxpay::testing
