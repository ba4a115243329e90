// BrokerSession against a real RabbitMQ (scripts/start-rabbitmq.sh).
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "broker/follow_up.h"
#include "broker/rabbit_fixture.h"

namespace wxpay::broker_test {
namespace {

using std::chrono::seconds;

class SessionTest : public RabbitTest {};

TEST_F(SessionTest, ConsumesWithManualAck) {
  const std::string q = MakeQueue("ack");
  PublishTo(q, "ORDER000001");
  PublishTo(q, "ORDER000002");

  std::unique_ptr<BrokerSession> s = OpenSession(7);
  ASSERT_TRUE(s->StartConsuming(q, 10).ok());
  std::vector<Delivery> got = CollectDeliveries(PollOf(*s), 2, seconds(5));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].body, "ORDER000001");
  EXPECT_EQ(got[1].body, "ORDER000002");
  EXPECT_EQ(got[0].generation, 7u);
  EXPECT_FALSE(got[0].redelivered);
  EXPECT_EQ(got[0].routing_key, q);
  EXPECT_EQ(got[0].exchange, "");

  ASSERT_TRUE(s->Ack(got[0].ref()).ok());
  ASSERT_TRUE(s->Nack(got[1].ref(), /*requeue=*/true).ok());
  std::vector<Delivery> again = CollectDeliveries(PollOf(*s), 1, seconds(5));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].body, "ORDER000002");
  EXPECT_TRUE(again[0].redelivered);
  ASSERT_TRUE(s->Ack(again[0].ref()).ok());
  // Nothing more arrives, and the channel survived the acks (an ack for an
  // unknown tag would have closed it).
  EXPECT_FALSE(PollUntil(PollOf(*s), Is<Delivery>, milliseconds(300)).has_value());
  EXPECT_FALSE(s->closed());
  s.reset();
  Result<QueueInfo, AmqpFailure> info = admin_->InspectQueue(q);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->message_count, 0u);
}

TEST_F(SessionTest, UnackedDeliveriesAreRedeliveredAfterTheConnectionCloses) {
  const std::string q = MakeQueue("redeliver");
  PublishTo(q, "ORDER000010");
  {
    std::unique_ptr<BrokerSession> first = OpenSession(1);
    ASSERT_TRUE(first->StartConsuming(q, 10).ok());
    std::vector<Delivery> got = CollectDeliveries(PollOf(*first), 1, seconds(5));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_FALSE(got[0].redelivered);
  }  // closed without ack
  std::unique_ptr<BrokerSession> second = OpenSession(2);
  ASSERT_TRUE(second->StartConsuming(q, 10).ok());
  std::vector<Delivery> got = CollectDeliveries(PollOf(*second), 1, seconds(5));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "ORDER000010");
  EXPECT_TRUE(got[0].redelivered);
  EXPECT_EQ(got[0].generation, 2u);
}

TEST_F(SessionTest, PrefetchLimitsUnackedDeliveries) {
  const std::string q = MakeQueue("prefetch");
  for (int i = 0; i < 5; ++i) PublishTo(q, "ORDER00002" + std::to_string(i));
  std::unique_ptr<BrokerSession> s = OpenSession();
  ASSERT_TRUE(s->StartConsuming(q, 2).ok());
  std::vector<Delivery> got = CollectDeliveries(PollOf(*s), 2, seconds(5));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_FALSE(PollUntil(PollOf(*s), Is<Delivery>, milliseconds(500)).has_value()) << "a third unacked delivery";
  ASSERT_TRUE(s->Ack(got[0].ref()).ok());
  std::vector<Delivery> more = CollectDeliveries(PollOf(*s), 1, seconds(5));
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0].body, "ORDER000022");
  EXPECT_FALSE(PollUntil(PollOf(*s), Is<Delivery>, milliseconds(300)).has_value()) << "more than one slot freed";
}

TEST_F(SessionTest, PublishIsConfirmedThroughPoll) {
  const std::string q = MakeQueue("confirm");
  std::unique_ptr<BrokerSession> s = OpenSession();
  OutgoingMessage m;
  m.routing_key = q;
  m.body = "ORDER000030";
  Result<PublishId> first = s->Publish(m);
  Result<PublishId> second = s->Publish(m);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(*first, *second);
  std::vector<PublishId> confirmed;
  for (int i = 0; i < 2; ++i) {
    std::optional<BrokerEvent> e = PollUntil(PollOf(*s), Is<PublishConfirmed>, seconds(5));
    ASSERT_TRUE(e.has_value());
    confirmed.push_back(std::get<PublishConfirmed>(*e).id);
  }
  EXPECT_EQ(confirmed, (std::vector<PublishId>{*first, *second}));
  Result<QueueInfo, AmqpFailure> info = admin_->InspectQueue(q);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->message_count, 2u);
}

TEST_F(SessionTest, UnroutableMandatoryPublishFails) {
  const std::string q = MakeQueue("routable");
  std::unique_ptr<BrokerSession> s = OpenSession();
  OutgoingMessage routed;
  routed.routing_key = q;
  routed.body = "ORDER000040";
  OutgoingMessage lost = routed;
  lost.routing_key = UniqueName("no-such-queue");
  Result<PublishId> a = s->Publish(routed);
  Result<PublishId> b = s->Publish(lost);
  Result<PublishId> c = s->Publish(routed);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());

  std::vector<BrokerEvent> outcomes;
  for (int i = 0; i < 3; ++i) {
    std::optional<BrokerEvent> e = PollUntil(
        PollOf(*s), [](const BrokerEvent& ev) { return Is<PublishConfirmed>(ev) || Is<PublishFailed>(ev); },
        seconds(5));
    ASSERT_TRUE(e.has_value());
    outcomes.push_back(*e);
  }
  int confirmed = 0;
  for (const BrokerEvent& e : outcomes) {
    if (const auto* f = std::get_if<PublishFailed>(&e)) {
      EXPECT_EQ(f->id, *b);
      EXPECT_NE(f->reason.find("unroutable"), std::string::npos) << f->reason;
      EXPECT_NE(f->reason.find("NO_ROUTE"), std::string::npos) << f->reason;
    } else {
      const PublishId id = std::get<PublishConfirmed>(e).id;
      EXPECT_TRUE(id == *a || id == *c);
      ++confirmed;
    }
  }
  EXPECT_EQ(confirmed, 2);

  // The blocking helper reports the same.
  Status waited = s->PublishAndWait(lost, seconds(5));
  ASSERT_FALSE(waited.ok());
  EXPECT_NE(waited.message().find("unroutable"), std::string::npos) << waited.message();
}

TEST_F(SessionTest, PublishToMissingExchangeFailsAndTheChannelRecovers) {
  const std::string q = MakeQueue("after-404");
  std::unique_ptr<BrokerSession> s = OpenSession();
  ASSERT_TRUE(s->StartConsuming(q, 10).ok());
  PublishTo(q, "ORDER000050");
  std::vector<Delivery> got = CollectDeliveries(PollOf(*s), 1, seconds(5));
  ASSERT_EQ(got.size(), 1u);

  OutgoingMessage m;
  m.exchange = UniqueName("no-such-exchange");
  m.routing_key = "x";
  m.body = "ORDER000051";
  Status failed = s->PublishAndWait(m, seconds(5));
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find("404"), std::string::npos) << failed.message();

  // Consuming was not disturbed: the earlier delivery is still ackable.
  EXPECT_FALSE(s->closed());
  ASSERT_TRUE(s->Ack(got[0].ref()).ok());
  OutgoingMessage ok;
  ok.routing_key = q;
  ok.body = "ORDER000052";
  ASSERT_TRUE(s->PublishAndWait(ok, seconds(5)).ok());
  std::vector<Delivery> next = CollectDeliveries(PollOf(*s), 1, seconds(5));
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].body, "ORDER000052");
  EXPECT_EQ(next[0].generation, got[0].generation);
}

TEST_F(SessionTest, HeadersAndPropertiesRoundTripWithTheirTypes) {
  const std::string q = MakeQueue("headers");
  const std::string dlq = MakeQueue("headers-dead");
  OutgoingMessage shop;
  shop.routing_key = q;
  shop.body = "{\"orderNo\":\"ORDER000060\"}";
  shop.properties.content_type = "application/json";
  shop.properties.content_encoding = "utf-8";
  shop.properties.delivery_mode = kPersistentDeliveryMode;
  shop.properties.message_id = "msg-60";
  shop.properties.correlation_id = "corr";
  shop.properties.app_id = "shop";
  shop.properties.type = "order.expired";
  shop.properties.timestamp = 1700000000;
  shop.properties.priority = 3;
  FieldValue u8;
  u8.kind = FieldKind::kU8;
  u8.integer = 9;
  shop.properties.headers = FieldTable{
      {"trace", FieldValue::String("t-1")},
      {"count", FieldValue::Int64(-5)},
      {"flag", FieldValue::Bool(true)},
      {"small", u8},
      {"nested", FieldValue::Table({{"when", FieldValue::Timestamp(1700000001)}})},
  };
  ASSERT_TRUE(admin_->PublishAndWait(shop, seconds(5)).ok());

  std::unique_ptr<BrokerSession> s = OpenSession(4);
  ASSERT_TRUE(s->StartConsuming(q, 10).ok());
  std::vector<Delivery> got = CollectDeliveries(PollOf(*s), 1, seconds(5));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].properties, shop.properties);
  EXPECT_EQ(got[0].header_problem, "");

  RabbitConfig config;
  config.queue = q;
  config.dead_letter_queue = dlq;
  const OutgoingMessage dead =
      MakeDeadLetter(got[0], config, FollowUpHeaders{2, "amount_mismatch", "amount 100 != 99", "2024-01-01T08:00:00+08:00"});
  ASSERT_TRUE(s->PublishAndWait(dead, seconds(5)).ok());
  ASSERT_TRUE(s->Ack(got[0].ref()).ok());

  std::unique_ptr<BrokerSession> reader = OpenSession(5);
  ASSERT_TRUE(reader->StartConsuming(dlq, 10).ok());
  std::vector<Delivery> dead_got = CollectDeliveries(PollOf(*reader), 1, seconds(5));
  ASSERT_EQ(dead_got.size(), 1u);
  const Delivery& d = dead_got[0];
  EXPECT_EQ(d.body, shop.body);
  MessageProperties expected = shop.properties;
  expected.headers = dead.properties.headers;
  EXPECT_EQ(d.properties, expected);
  const FieldTable& h = *d.properties.headers;
  EXPECT_EQ(FindField(h, kAttemptHeader)->kind, FieldKind::kI32);
  EXPECT_EQ(FindField(h, kAttemptHeader)->integer, 2);
  EXPECT_EQ(FindField(h, kReasonHeader)->kind, FieldKind::kLongString);
  EXPECT_EQ(FindField(h, kErrorHeader)->kind, FieldKind::kLongString);
  EXPECT_EQ(FindField(h, kFirstSeenHeader)->kind, FieldKind::kLongString);
  EXPECT_EQ(FindField(h, "count")->kind, FieldKind::kI64);
  EXPECT_EQ(FindField(h, "small")->kind, FieldKind::kU8);
  const FollowUpState state = ReadFollowUpHeaders(d.properties);
  EXPECT_EQ(state.attempt, 2);
  EXPECT_EQ(state.reason, "amount_mismatch");
  EXPECT_EQ(state.problems, "");
}

TEST_F(SessionTest, AckFromAnotherGenerationIsRefusedAndSendsNothing) {
  const std::string q = MakeQueue("stale");
  PublishTo(q, "ORDER000070");
  DeliveryRef stale;
  {
    std::unique_ptr<BrokerSession> old_session = OpenSession(1);
    ASSERT_TRUE(old_session->StartConsuming(q, 10).ok());
    std::vector<Delivery> got = CollectDeliveries(PollOf(*old_session), 1, seconds(5));
    ASSERT_EQ(got.size(), 1u);
    stale = got[0].ref();
  }
  std::unique_ptr<BrokerSession> s = OpenSession(2);
  ASSERT_TRUE(s->StartConsuming(q, 10).ok());
  std::vector<Delivery> got = CollectDeliveries(PollOf(*s), 1, seconds(5));
  ASSERT_EQ(got.size(), 1u);
  // Same tag number on the new channel, but another generation.
  EXPECT_EQ(got[0].delivery_tag, stale.delivery_tag);
  Status refused = s->Ack(stale);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("generation"), std::string::npos) << refused.message();
  EXPECT_FALSE(s->Nack(stale, false).ok());
  // Nothing was sent: the message is still unacked on this channel.
  s.reset();
  Result<QueueInfo, AmqpFailure> info = admin_->InspectQueue(q);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->message_count, 1u);
}

TEST_F(SessionTest, ConsumerCancelNotificationWhenTheQueueIsDeleted) {
  const std::string q = MakeQueue("cancel");
  PublishTo(q, "ORDER000080");
  std::unique_ptr<BrokerSession> s = OpenSession();
  ASSERT_TRUE(s->StartConsuming(q, 10).ok());
  ASSERT_EQ(CollectDeliveries(PollOf(*s), 1, seconds(5)).size(), 1u);
  ASSERT_TRUE(admin_->DeleteQueue(q).ok());
  std::optional<BrokerEvent> e = PollUntil(PollOf(*s), Is<ConsumerCancelled>, seconds(5));
  ASSERT_TRUE(e.has_value());
  EXPECT_NE(std::get<ConsumerCancelled>(*e).reason.find("cancelled"), std::string::npos);
  EXPECT_FALSE(s->consuming());
  EXPECT_FALSE(s->closed());
  // Consuming again reports the missing queue without breaking the session.
  Status again = s->StartConsuming(q, 10);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.message().find("does not exist"), std::string::npos) << again.message();
  EXPECT_FALSE(s->closed());
}

TEST_F(SessionTest, ResourceAlarmBlocksAndUnblocksPublishing) {
  const std::string q = MakeQueue("blocked");
  admin_.reset();  // would sit idle through the rabbitmqctl calls; TearDown opens a new one
  std::unique_ptr<BrokerSession> s = OpenSession();
  OutgoingMessage m;
  m.routing_key = q;
  m.body = "ORDER000090";
  ASSERT_TRUE(s->PublishAndWait(m, seconds(5)).ok());

  // A memory watermark of 0 raises the memory alarm at once.
  struct RestoreWatermark {  // also when an assertion below fails
    const RabbitEnv& env;
    bool done = false;
    ~RestoreWatermark() {
      if (!done) RunRabbitmqctl(env, "set_vm_memory_high_watermark 0.4");
    }
  } restore{env_};
  // The session is polled while rabbitmqctl runs, as the daemon always
  // polls: an idle one can miss its heartbeats on a loaded machine.
  std::vector<BrokerEvent> events;
  ASSERT_EQ(RunRabbitmqctlWhilePolling(env_, "set_vm_memory_high_watermark 0", PollOf(*s), events), 0);
  ASSERT_FALSE(s->closed()) << s->close_reason();
  // RabbitMQ blocks a connection when it next publishes.
  EXPECT_FALSE(s->blocked());
  Result<PublishId> held = s->Publish(m);
  ASSERT_TRUE(held.ok()) << held.error().message;
  std::optional<BrokerEvent> blocked = PollUntil(PollOf(*s), Is<ConnectionBlocked>, seconds(20), &events);
  ASSERT_TRUE(blocked.has_value());
  EXPECT_NE(std::get<ConnectionBlocked>(*blocked).reason.find("memory"), std::string::npos);
  EXPECT_TRUE(s->blocked());
  Result<PublishId> refused = s->Publish(m);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("blocks publishers"), std::string::npos) << refused.error().message;

  restore.done = true;
  ASSERT_EQ(RunRabbitmqctlWhilePolling(env_, "set_vm_memory_high_watermark 0.4", PollOf(*s), events), 0);
  ASSERT_TRUE(SeenOrPolled(PollOf(*s), Is<ConnectionUnblocked>, seconds(20), events).has_value());
  EXPECT_FALSE(s->blocked());
  // The publish held back by the alarm is confirmed once it is over.
  const EventPredicate held_confirmed = [&](const BrokerEvent& e) {
    const auto* c = std::get_if<PublishConfirmed>(&e);
    return c != nullptr && c->id == *held;
  };
  ASSERT_TRUE(SeenOrPolled(PollOf(*s), held_confirmed, seconds(20), events).has_value());
  const auto position = [&](const EventPredicate& pred) {
    return std::find_if(events.begin(), events.end(), pred) - events.begin();
  };
  EXPECT_GT(position(held_confirmed), position(Is<ConnectionUnblocked>));
  EXPECT_FALSE(s->closed()) << s->close_reason();
}

TEST_F(SessionTest, WrongPasswordIsReportedWithoutThePassword) {
  ConnectOptions o = TestConnectOptions(env_);
  o.password = "Wr0ngSecretPassw0rd";
  Result<std::unique_ptr<BrokerSession>> s = BrokerSession::Open(o, 1, log_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("ACCESS_REFUSED"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("password"), std::string::npos) << s.error().message;
  EXPECT_EQ(s.error().message.find("Wr0ngSecretPassw0rd"), std::string::npos) << s.error().message;
}

TEST_F(SessionTest, UnreachableBrokerNamesTheEndpoint) {
  ConnectOptions o = TestConnectOptions(env_);
  o.endpoint.port = 1;  // nothing listens there
  Result<std::unique_ptr<BrokerSession>> s = BrokerSession::Open(o, 1, log_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("127.0.0.1:1/"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("running and reachable"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace wxpay::broker_test
