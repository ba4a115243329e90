// The broker thread's discipline (SPEC §2 invariant 4, §3, §6): what is acked
// when, what is published, what is held, with a FakeBroker.
#include <gtest/gtest.h>

#include <thread>

#include "broker/follow_up.h"
#include "daemon/loop_fixture.h"

namespace wxpay::testing {
namespace {

using PublishMode = FakeBroker::PublishMode;

TEST_F(LoopTest, PaidOrderIsAckedOnlyAfterTheCommit) {
  AddUnpaid("ORDER000001", "SUCCESS");
  int writes_seen_at_ack = -1;
  broker_.OnAck([&](const DeliveryRef&) { writes_seen_at_ack = store_.WriteCount(); });
  broker_.Deliver("ORDER000001");

  ASSERT_TRUE(RunUntil([&] { return broker_.acks().size() == 1; }));
  EXPECT_EQ(writes_seen_at_ack, 1);
  EXPECT_EQ(StateOf("ORDER000001"), ShopState::kPaid);
  EXPECT_TRUE(broker_.publishes().empty());
  EXPECT_EQ(broker_.acks()[0].generation, 1u);
  EXPECT_TRUE(log_.Contains("order=ORDER000001 shop=unpaid wechat=SUCCESS action=mark_paid result=paid"));
  EXPECT_EQ(loop().stats().held, 0u);
}

// The broker thread waits in Poll() for as long as it is told; a worker's
// result must end that wait (the mailbox's wake descriptor), or every order
// would be acked up to one poll period late.
TEST_F(LoopTest, AWorkerResultEndsALongBrokerWait) {
  AddUnpaid("ORDER000002", "SUCCESS");
  gateway_.Close("ORDER000002");
  broker_.Deliver("ORDER000002");
  ASSERT_TRUE(RunUntil([&] { return loop().stats().processing == 1; }));
  ASSERT_TRUE(gateway_.WaitEntered("ORDER000002", 1, 5s));

  // The result is posted while the loop waits in Poll(): that must end the wait.
  const int polls = broker_.polls();
  std::thread opener([&] {
    broker_.WaitForPoll(polls, 5s);
    gateway_.Open("ORDER000002");
  });
  const auto started = std::chrono::steady_clock::now();
  loop().Step(60s);
  const auto waited = std::chrono::steady_clock::now() - started;
  opener.join();
  EXPECT_LT(waited, 30s) << "the worker's result did not end the 60 s wait";
  ASSERT_TRUE(RunUntil([&] { return broker_.acks().size() == 1; }));
  EXPECT_EQ(StateOf("ORDER000002"), ShopState::kPaid);
}

TEST_F(LoopTest, RescheduleIsAckedOnlyOnceItsPublishIsConfirmed) {
  AddUnpaid("ORDER000002", "USERPAYING");
  broker_.SetPublishMode(PublishMode::kManual);
  broker_.Deliver("ORDER000002");

  ASSERT_TRUE(RunUntil([&] { return broker_.publishes().size() == 1; }));
  RunFor(50ms);
  EXPECT_TRUE(broker_.acks().empty()) << "acked before the reschedule was confirmed";

  const auto published = broker_.publishes()[0];
  EXPECT_EQ(published.message.exchange, kRetryExchange);
  EXPECT_EQ(published.message.routing_key, "order.expired.retry.60000");  // userpaying_recheck 60s
  EXPECT_TRUE(published.message.mandatory);
  EXPECT_EQ(published.message.body, "ORDER000002");
  EXPECT_EQ(HeaderText(published.message, kAttemptHeader), "2");
  EXPECT_EQ(HeaderText(published.message, kReasonHeader), "");
  EXPECT_NE(HeaderText(published.message, kFirstSeenHeader), "");
  EXPECT_NE(HeaderText(published.message, kErrorHeader).find("USERPAYING"), std::string::npos);

  broker_.Confirm(published.id);
  ASSERT_TRUE(RunUntil([&] { return broker_.acks().size() == 1; }));
  EXPECT_EQ(StateOf("ORDER000002"), ShopState::kUnpaid);
}

TEST_F(LoopTest, WindowWaitKeepsTheAttemptAndFirstSeen) {
  ShopOrder o = AddUnpaid("ORDER000003", "NOTPAY");
  o.created_at = clock_.Now() - 10min;  // 5 minutes of the window left
  store_.Put(o);
  FieldTable headers = {{kAttemptHeader, FieldValue::Int32(3)},
                        {kFirstSeenHeader, FieldValue::String("2024-05-01T04:00:00Z")}};
  broker_.Deliver("ORDER000003", headers);

  ASSERT_TRUE(RunUntil([&] { return broker_.acks().size() == 1; }));
  ASSERT_EQ(broker_.publishes().size(), 1u);
  const OutgoingMessage m = broker_.publishes()[0].message;
  EXPECT_EQ(m.routing_key, "order.expired.retry.600000");  // 5 min rounds up to the 10 min tier
  EXPECT_EQ(HeaderText(m, kAttemptHeader), "3");
  EXPECT_EQ(HeaderText(m, kFirstSeenHeader), "2024-05-01T04:00:00Z");
  EXPECT_EQ(wechat_.CallCount(), 0);
}

TEST_F(LoopTest, ReturnedOrNackedFollowUpKeepsTheOriginalUnackedAndPausesConsuming) {
  broker_.SetPublishMode(PublishMode::kFail);  // basic.return of an unroutable dead letter
  broker_.Deliver("ORDER000404");              // not in the shop: dead-letter unknown_order

  ASSERT_TRUE(RunUntil([&] { return broker_.publishes().size() >= 2; }));
  EXPECT_TRUE(broker_.acks().empty());
  EXPECT_FALSE(broker_.consuming());
  EXPECT_TRUE(loop().stats().publish_failing);
  EXPECT_TRUE(log_.Contains("was not delivered (312 NO_ROUTE)"));

  broker_.SetPublishMode(PublishMode::kConfirm);
  ASSERT_TRUE(RunUntil([&] { return broker_.acks().size() == 1; }));
  EXPECT_TRUE(broker_.consuming());
  const auto publishes = broker_.publishes();
  for (const auto& p : publishes) {
    EXPECT_EQ(p.message.routing_key, kDeadLetters);
    EXPECT_EQ(HeaderText(p.message, kReasonHeader), "unknown_order");
    EXPECT_EQ(HeaderText(p.message, kAttemptHeader), "1");
  }
  auto parked = state_->IsParked("ORDER000404");
  ASSERT_TRUE(parked.ok());
  EXPECT_TRUE(*parked);
}

TEST_F(LoopTest, ResultOfAnEarlierConnectionIsNeverAcked) {
  AddUnpaid("ORDER000005", "NOTPAY");
  gateway_.Close("ORDER000005");
  broker_.Deliver("ORDER000005");
  ASSERT_TRUE(RunUntil([&] { return gateway_.Entered("ORDER000005") >= 1; }));

  broker_.Reconnect();  // delivery tags of generation 1 are void now
  RunFor(20ms);
  gateway_.Open("ORDER000005");
  ASSERT_TRUE(RunUntil([&] { return loop().stats().held == 0; }));
  EXPECT_TRUE(broker_.acks().empty());
  EXPECT_TRUE(broker_.refused_acks().empty()) << "tried to ack a stale delivery";
  EXPECT_EQ(loop().stats().dropped_stale, 1u);

  // The broker redelivers it on the new connection: finished once, acked there.
  broker_.Deliver("ORDER000005");
  ASSERT_TRUE(RunUntil([&] { return broker_.acks().size() == 1; }));
  EXPECT_EQ(broker_.acks()[0].generation, 2u);
  EXPECT_EQ(store_.Count(FakeShopStore::Op::kMarkCancelled), 1);
}

TEST_F(LoopTest, UnconfirmedFollowUpOfALostConnectionIsNotRepublished) {
  AddUnpaid("ORDER000006", "USERPAYING");
  broker_.SetPublishMode(PublishMode::kManual);
  broker_.Deliver("ORDER000006");
  ASSERT_TRUE(RunUntil([&] { return broker_.publishes().size() == 1; }));

  broker_.Reconnect();  // the publish fails, then the connection is gone
  ASSERT_TRUE(RunUntil([&] { return loop().stats().held == 0; }));
  RunFor(100ms);
  EXPECT_EQ(broker_.publishes().size(), 1u);
  EXPECT_TRUE(broker_.acks().empty());
  EXPECT_TRUE(broker_.refused_acks().empty());
}

TEST_F(LoopTest, DatabaseOutagePausesConsumingWithoutAckingAndResumes) {
  AddUnpaid("ORDER000007", "SUCCESS");
  store_.FailNext(FakeShopStore::Op::kLoad, StoreError{StoreError::Kind::kUnavailable, "connection refused"});
  store_.FailNext(FakeShopStore::Op::kDatabaseNow, StoreError{StoreError::Kind::kUnavailable, "connection refused"});
  broker_.Deliver("ORDER000007");

  ASSERT_TRUE(RunUntil([&] { return loop().stats().database_outage; }));
  EXPECT_FALSE(broker_.consuming());
  EXPECT_TRUE(broker_.acks().empty());
  EXPECT_TRUE(broker_.publishes().empty());
  EXPECT_TRUE(broker_.nacks().empty());

  // The first probe fails, the second finds the database: the held delivery
  // is processed again and acked.
  ASSERT_TRUE(RunUntil([&] { return broker_.acks().size() == 1; }));
  EXPECT_GE(store_.Count(FakeShopStore::Op::kDatabaseNow), 2);
  EXPECT_EQ(StateOf("ORDER000007"), ShopState::kPaid);
  EXPECT_TRUE(broker_.consuming());
  EXPECT_EQ(broker_.consuming_changes(), (std::vector<bool>{false, true}));
  EXPECT_FALSE(loop().stats().database_outage);
}

TEST_F(LoopTest, DeliveryHeldTooLongIsHandedBackBeforeTheConsumerTimeout) {
  options_.hold_limit = 100ms;
  options_.database_probe = ReconnectPolicy{10s, 10s, 1.0};  // no probe within the test
  AddUnpaid("ORDER000008", "SUCCESS");
  store_.FailNext(FakeShopStore::Op::kLoad, StoreError{StoreError::Kind::kUnavailable, "timeout"});
  broker_.Deliver("ORDER000008");

  ASSERT_TRUE(RunUntil([&] { return broker_.nacks().size() == 1; }));
  EXPECT_TRUE(broker_.nacks()[0].second) << "must be requeued";
  EXPECT_TRUE(broker_.acks().empty());
  EXPECT_EQ(loop().stats().held, 0u);
  EXPECT_FALSE(broker_.consuming()) << "still paused: the database has not answered";
}

TEST_F(LoopTest, InvalidMessageIsDeadLetteredWithoutTouchingTheStoreOrWeChatPay) {
  broker_.Deliver("not an order!");
  ASSERT_TRUE(RunUntil([&] { return broker_.acks().size() == 1; }));

  ASSERT_EQ(broker_.publishes().size(), 1u);
  const OutgoingMessage m = broker_.publishes()[0].message;
  EXPECT_EQ(m.exchange, "");
  EXPECT_EQ(m.routing_key, kDeadLetters);
  EXPECT_EQ(m.body, "not an order!");
  EXPECT_EQ(HeaderText(m, kReasonHeader), "invalid_message");
  EXPECT_NE(HeaderText(m, kErrorHeader), "");
  EXPECT_EQ(store_.Count(FakeShopStore::Op::kLoad), 0);
  EXPECT_EQ(store_.WriteCount(), 0);
  EXPECT_EQ(wechat_.CallCount(), 0);
}

TEST_F(LoopTest, JavaSerializedBodyIsAnInvalidMessage) {
  broker_.Deliver(std::string("\xac\xed\x00\x05t\x00\x0bORDER000009", 18));
  ASSERT_TRUE(RunUntil([&] { return broker_.acks().size() == 1; }));
  EXPECT_EQ(HeaderText(broker_.publishes().at(0).message, kReasonHeader), "invalid_message");
  EXPECT_EQ(store_.Count(FakeShopStore::Op::kLoad), 0);
}

TEST_F(LoopTest, OrderThatCrashedTheDaemonThreeTimesIsPoison) {
  AddUnpaid("ORDER000010", "NOTPAY");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(state_->BeginOrder("ORDER000010").ok());  // three crashes
  broker_.Deliver("ORDER000010");

  ASSERT_TRUE(RunUntil([&] { return broker_.acks().size() == 1; }));
  ASSERT_EQ(broker_.publishes().size(), 1u);
  EXPECT_EQ(broker_.publishes()[0].message.routing_key, kDeadLetters);
  EXPECT_EQ(HeaderText(broker_.publishes()[0].message, kReasonHeader), "poison");
  EXPECT_EQ(store_.Count(FakeShopStore::Op::kLoad), 0);
  EXPECT_EQ(wechat_.CallCount(), 0);
  auto parked = state_->IsParked("ORDER000010");
  ASSERT_TRUE(parked.ok());
  EXPECT_TRUE(*parked);
  auto crashes = state_->CrashCount("ORDER000010");
  ASSERT_TRUE(crashes.ok());
  EXPECT_EQ(*crashes, 0);
}

TEST_F(LoopTest, TwoCrashesAreNotPoisonAndFinishingClearsTheCount) {
  AddUnpaid("ORDER000011", "SUCCESS");
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(state_->BeginOrder("ORDER000011").ok());
  broker_.Deliver("ORDER000011");
  ASSERT_TRUE(RunUntil([&] { return broker_.acks().size() == 1; }));
  EXPECT_EQ(StateOf("ORDER000011"), ShopState::kPaid);
  EXPECT_EQ(*state_->CrashCount("ORDER000011"), 0);
}

TEST_F(LoopTest, SameOrderTwiceIsProcessedOneAtATime) {
  AddUnpaid("ORDER000012", "NOTPAY");
  gateway_.Close("ORDER000012");
  broker_.Deliver("ORDER000012");
  broker_.Deliver("ORDER000012");
  ASSERT_TRUE(RunUntil([&] { return gateway_.Entered("ORDER000012") >= 1; }));
  RunFor(50ms);
  EXPECT_EQ(gateway_.Entered("ORDER000012"), 1) << "the second delivery must wait";
  EXPECT_TRUE(broker_.acks().empty());
  EXPECT_TRUE(broker_.nacks().empty());

  gateway_.Open("ORDER000012");
  ASSERT_TRUE(RunUntil([&] { return broker_.acks().size() == 2; }));
  EXPECT_EQ(gateway_.MaxConcurrent("ORDER000012"), 1);
  EXPECT_EQ(store_.Count(FakeShopStore::Op::kMarkCancelled), 1);
  EXPECT_EQ(store_.Count(FakeShopStore::Op::kLoad), 2);  // the second one found it cancelled
  EXPECT_EQ(claims_.size(), 0u);
}

TEST_F(LoopTest, DrainFinishesInFlightOrdersAndHandsBackTheRest) {
  options_.concurrency = 1;
  AddUnpaid("ORDER000013", "NOTPAY");
  AddUnpaid("ORDER000014", "NOTPAY");
  gateway_.Close("ORDER000013");
  broker_.Deliver("ORDER000013");
  broker_.Deliver("ORDER000014");
  ASSERT_TRUE(RunUntil([&] { return gateway_.Entered("ORDER000013") >= 1; }));
  RunFor(20ms);

  loop().StartDrain();
  EXPECT_FALSE(broker_.consuming());
  ASSERT_EQ(broker_.nacks().size(), 1u);  // ORDER000014 had not started
  EXPECT_TRUE(broker_.nacks()[0].second);
  EXPECT_FALSE(loop().Drained());
  // A delivery still in the prefetch pipe is handed back at once.
  broker_.Deliver("ORDER000015");
  RunFor(20ms);
  EXPECT_EQ(broker_.nacks().size(), 2u);

  gateway_.Open("ORDER000013");
  ASSERT_TRUE(RunUntil([&] { return loop().Drained(); }));
  EXPECT_EQ(broker_.acks().size(), 1u);
  EXPECT_EQ(StateOf("ORDER000013"), ShopState::kCancelled);
  EXPECT_EQ(StateOf("ORDER000014"), ShopState::kUnpaid);
}

TEST_F(LoopTest, WechatBreakerPausesConsumingHoldsOrdersAndResumesAfterAProbe) {
  breaker_options_ = WechatBreakerOptions{4, 4, 4, 30ms, 1s, 2.0};
  const PayError outage = MakePayError(PayErrorKind::kTransient, 502, "", true);
  for (const char* no : {"ORDER000021", "ORDER000022", "ORDER000023", "ORDER000024"}) {
    AddUnpaid(no, "NOTPAY");
    wechat_.PushQuery(no, outage);
  }
  wechat_.PushQuery(kProbeOrderNo, outage);  // the first probe fails too
  for (const char* no : {"ORDER000021", "ORDER000022", "ORDER000023", "ORDER000024"}) broker_.Deliver(no);

  ASSERT_TRUE(RunUntil([&] { return loop().stats().wechat_breaker_open; }));
  EXPECT_FALSE(broker_.consuming());
  EXPECT_TRUE(log_.Contains("WeChat breaker open"));
  AddUnpaid("ORDER000025", "SUCCESS");
  broker_.Deliver("ORDER000025");

  // While open (until the second probe), ORDER000025 is held, not processed.
  ASSERT_TRUE(RunUntil([&] { return gateway_.Entered(kProbeOrderNo) >= 1; }));
  EXPECT_EQ(gateway_.Entered("ORDER000025"), 0);
  ASSERT_TRUE(RunUntil([&] { return broker_.acks().size() == 5; }));
  EXPECT_EQ(gateway_.Entered(kProbeOrderNo), 2);
  EXPECT_TRUE(broker_.consuming());
  EXPECT_FALSE(loop().stats().wechat_breaker_open);
  EXPECT_EQ(StateOf("ORDER000025"), ShopState::kPaid);

  // The reschedule decided as the breaker opened was not charged an attempt.
  int uncharged = 0;
  for (const auto& p : broker_.publishes()) {
    EXPECT_EQ(p.message.exchange, kRetryExchange);
    if (HeaderText(p.message, kAttemptHeader) == "1") ++uncharged;
  }
  EXPECT_EQ(broker_.publishes().size(), 4u);
  EXPECT_GE(uncharged, 1);
}

TEST_F(LoopTest, OutcomeEventIsConfirmedBeforeTheAck) {
  options_.rabbit.events_exchange = "order.events";
  AddUnpaid("ORDER000031", "SUCCESS", 2500);
  broker_.SetPublishMode(PublishMode::kManual);
  broker_.Deliver("ORDER000031");
  ASSERT_TRUE(RunUntil([&] { return broker_.publishes().size() == 1; }));
  RunFor(20ms);
  EXPECT_TRUE(broker_.acks().empty());

  const auto event = broker_.publishes()[0];
  EXPECT_EQ(event.message.exchange, "order.events");
  EXPECT_EQ(event.message.routing_key, "paid");
  EXPECT_EQ(event.message.properties.delivery_mode, kPersistentDeliveryMode);
  EXPECT_NE(event.message.body.find(R"("order_no":"ORDER000031")"), std::string::npos) << event.message.body;
  EXPECT_NE(event.message.body.find(R"("outcome":"paid")"), std::string::npos);
  EXPECT_NE(event.message.body.find(R"("trade_state":"SUCCESS")"), std::string::npos);
  EXPECT_NE(event.message.body.find(R"("transaction_id":"4200000000ORDER000031")"), std::string::npos);
  EXPECT_NE(event.message.body.find(R"("amount":2500)"), std::string::npos);
  broker_.Confirm(event.id);
  ASSERT_TRUE(RunUntil([&] { return broker_.acks().size() == 1; }));
}

TEST_F(LoopTest, UndeliverableEventIsGivenUpAndTheCommittedOrderAcked) {
  options_.rabbit.events_exchange = "order.events";
  options_.event_attempts = 2;
  AddUnpaid("ORDER000032", "CLOSED");
  broker_.SetPublishMode(PublishMode::kFail);
  broker_.Deliver("ORDER000032");
  ASSERT_TRUE(RunUntil([&] { return broker_.acks().size() == 1; }));
  EXPECT_EQ(broker_.publishes().size(), 2u);
  EXPECT_EQ(broker_.publishes()[0].message.routing_key, "cancelled");
  EXPECT_EQ(loop().stats().events_failed, 1u);
  EXPECT_TRUE(log_.Contains("acknowledged without the event"));
  EXPECT_TRUE(broker_.consuming()) << "event failures do not pause consuming";
}

TEST_F(LoopTest, NothingToDoIsAckedWithoutAnEvent) {
  options_.rabbit.events_exchange = "order.events";
  ShopOrder o = AddUnpaid("ORDER000033", "SUCCESS");
  o.state = ShopState::kPaid;
  store_.Put(o);
  broker_.Deliver("ORDER000033");
  ASSERT_TRUE(RunUntil([&] { return broker_.acks().size() == 1; }));
  EXPECT_TRUE(broker_.publishes().empty());
  EXPECT_EQ(wechat_.CallCount(), 0);
}

TEST_F(LoopTest, RetriesExhaustedIsDeadLetteredWithItsAttempt) {
  AddUnpaid("ORDER000034", "NOTPAY");
  wechat_.PushQuery("ORDER000034", MakePayError(PayErrorKind::kTransient, 500, "SOME_ORDER_ERROR", false));
  broker_.Deliver("ORDER000034", FieldTable{{kAttemptHeader, FieldValue::Int32(5)}});  // max_attempts 5
  ASSERT_TRUE(RunUntil([&] { return broker_.acks().size() == 1; }));
  const OutgoingMessage m = broker_.publishes().at(0).message;
  EXPECT_EQ(m.routing_key, kDeadLetters);
  EXPECT_EQ(HeaderText(m, kReasonHeader), "retries_exhausted");
  EXPECT_EQ(HeaderText(m, kAttemptHeader), "5");
}

TEST_F(LoopTest, SetTiersMovesLaterReschedulesAndKeepsThoseAlreadyBuilt) {
  AddUnpaid("ORDER000036", "USERPAYING");
  AddUnpaid("ORDER000037", "USERPAYING");
  loop();  // with the tiers 1s, 10s, 60s, 600s
  EngineOptions reloaded = engine_options_;
  reloaded.userpaying_recheck = 90s;
  engine_->SetOptions(reloaded);
  broker_.SetPublishMode(PublishMode::kManual);

  broker_.Deliver("ORDER000036");
  ASSERT_TRUE(RunUntil([&] { return broker_.publishes().size() == 1; }));
  const FakeBroker::Published before = broker_.publishes()[0];
  EXPECT_EQ(before.message.routing_key, "order.expired.retry.600000");  // 90 s rounds up to the old 10 min tier

  const DelayTiers tiers = {1s, 10s, 90s, 600s};
  loop().SetTiers(tiers);
  EXPECT_EQ(loop().tiers(), tiers);
  broker_.Deliver("ORDER000037");
  ASSERT_TRUE(RunUntil([&] { return broker_.publishes().size() == 2; }));
  EXPECT_EQ(broker_.publishes()[1].message.body, "ORDER000037");
  EXPECT_EQ(broker_.publishes()[1].message.routing_key, "order.expired.retry.90000");

  // A publish built before the change is retried as it was: its queue exists.
  broker_.FailPublish(before.id, "312 NO_ROUTE");
  ASSERT_TRUE(RunUntil([&] { return broker_.publishes().size() == 3; }));
  EXPECT_EQ(broker_.publishes()[2].message.body, "ORDER000036");
  EXPECT_EQ(broker_.publishes()[2].message.routing_key, "order.expired.retry.600000");
  for (PublishId id : broker_.outstanding()) broker_.Confirm(id);
  ASSERT_TRUE(RunUntil([&] { return broker_.acks().size() == 2; }));
}

TEST_F(LoopTest, JsonMessagesAreParsed) {
  options_.message.format = MessageFormat::kJson;
  AddUnpaid("ORDER000035", "SUCCESS");
  broker_.Deliver(R"({"orderNo":"ORDER000035","other":1})");
  ASSERT_TRUE(RunUntil([&] { return broker_.acks().size() == 1; }));
  EXPECT_EQ(StateOf("ORDER000035"), ShopState::kPaid);
}

}  // namespace
}  // namespace wxpay::testing
