// ReconnectingBroker against a real RabbitMQ whose connections are killed and
// whose application is stopped and started again with rabbitmqctl.
#include <gtest/gtest.h>

#include "broker/rabbit_fixture.h"
#include "broker/reconnecting_broker.h"

namespace wxpay::broker_test {
namespace {

using std::chrono::seconds;

class ReconnectTest : public RabbitTest {
 protected:
  std::unique_ptr<ReconnectingBroker> MakeBroker(const std::string& queue, const TopologyPlan& redeclare = {}) {
    BrokerOptions o;
    o.connect = TestConnectOptions(env_);
    o.queue = queue;
    o.prefetch = 10;
    o.redeclare = redeclare;
    o.reconnect = ReconnectPolicy{milliseconds(50), milliseconds(500), 2.0};
    return std::make_unique<ReconnectingBroker>(o, log_);
  }
  static PollFn PollOf(ReconnectingBroker& b) {
    return [&b](milliseconds timeout) { return b.Poll(timeout, -1); };
  }
};

TEST_F(ReconnectTest, ServerClosingTheConnectionGivesANewGenerationAndRedelivers) {
  const std::string q = MakeQueue("reconnect");
  RabbitConfig c;
  c.queue = q;
  c.retry_exchange = q + ".retry-x";
  exchanges_.push_back(c.retry_exchange);
  DeleteLater(RetryQueueName(q, seconds(1)));
  std::unique_ptr<ReconnectingBroker> b = MakeBroker(q, RetryTopology(c, {seconds(1)}));
  ASSERT_TRUE(b->Connect().ok());
  const uint64_t first_generation = b->generation();
  EXPECT_GT(first_generation, 0u);
  PublishTo(q, "ORDER000200");
  PublishTo(q, "ORDER000201");
  std::vector<Delivery> got = CollectDeliveries(PollOf(*b), 2, seconds(5));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].generation, first_generation);

  // A publish still waiting for its confirm when the connection dies fails.
  OutgoingMessage pending;
  pending.routing_key = q;
  pending.body = "ORDER000202";
  Result<PublishId> unconfirmed = b->Publish(pending);
  ASSERT_TRUE(unconfirmed.ok());

  // The admin connection is closed too; the fixture reopens it when needed.
  // Polled meanwhile: an idle connection may miss its heartbeats before the
  // command reaches the broker, and then it is not closed by the command.
  std::vector<BrokerEvent> before_close;
  ASSERT_EQ(RunRabbitmqctlWhilePolling(env_, "close_all_connections 'broker_it: simulated failure'", PollOf(*b),
                                       before_close),
            0);
  std::optional<BrokerEvent> closed = SeenOrPolled(PollOf(*b), Is<Closed>, seconds(10), before_close);
  ASSERT_TRUE(closed.has_value());
  EXPECT_NE(std::get<Closed>(*closed).reason.find("320"), std::string::npos) << std::get<Closed>(*closed).reason;
  bool unconfirmed_settled = false;
  for (const BrokerEvent& e : before_close) {
    if (const auto* f = std::get_if<PublishFailed>(&e); f && f->id == *unconfirmed) unconfirmed_settled = true;
    if (const auto* ok = std::get_if<PublishConfirmed>(&e); ok && ok->id == *unconfirmed) unconfirmed_settled = true;
  }
  EXPECT_TRUE(unconfirmed_settled) << "every publish is settled before Closed";
  EXPECT_FALSE(b->Ack(got[0].ref()).ok());  // disconnected

  std::optional<BrokerEvent> connected = PollUntil(PollOf(*b), Is<Connected>, seconds(10));
  ASSERT_TRUE(connected.has_value());
  const uint64_t second_generation = std::get<Connected>(*connected).generation;
  EXPECT_GT(second_generation, first_generation);
  EXPECT_EQ(b->generation(), second_generation);

  std::vector<Delivery> again = CollectDeliveries(PollOf(*b), 2, seconds(5));
  ASSERT_GE(again.size(), 2u);
  for (const Delivery& d : again) {
    if (d.body == "ORDER000202") continue;  // may or may not have made it before the close
    EXPECT_TRUE(d.redelivered) << d.body;
    EXPECT_EQ(d.generation, second_generation);
  }
  // A result computed for the old delivery is never acked on the new channel.
  Status stale = b->Ack(got[0].ref());
  ASSERT_FALSE(stale.ok());
  EXPECT_NE(stale.message().find("generation"), std::string::npos) << stale.message();
  for (const Delivery& d : again) EXPECT_TRUE(b->Ack(d.ref()).ok());
  EXPECT_TRUE(log_.Contains("reconnecting"));
}

TEST_F(ReconnectTest, BrokerRestartIsSurvived) {
  const std::string q = MakeQueue("restart");
  PublishTo(q, "ORDER000300");
  std::unique_ptr<ReconnectingBroker> b = MakeBroker(q);
  ASSERT_TRUE(b->Connect().ok());
  const uint64_t first_generation = b->generation();
  std::vector<Delivery> got = CollectDeliveries(PollOf(*b), 1, seconds(5));
  ASSERT_EQ(got.size(), 1u);
  admin_.reset();

  ASSERT_EQ(RunRabbitmqctl(env_, "stop_app"), 0);
  std::vector<BrokerEvent> seen;
  std::optional<BrokerEvent> closed = PollUntil(PollOf(*b), Is<Closed>, seconds(10), &seen);
  EXPECT_TRUE(closed.has_value());
  // While the application is down every attempt fails and says when it retries.
  std::optional<BrokerEvent> failed = PollUntil(PollOf(*b), Is<ConnectFailed>, seconds(10), &seen);
  ASSERT_TRUE(failed.has_value());
  EXPECT_GT(std::get<ConnectFailed>(*failed).retry_in.count(), 0);
  ASSERT_EQ(RunRabbitmqctl(env_, "start_app"), 0);

  std::optional<BrokerEvent> connected = PollUntil(PollOf(*b), Is<Connected>, seconds(20), &seen);
  ASSERT_TRUE(connected.has_value());
  EXPECT_GT(std::get<Connected>(*connected).generation, first_generation);
  std::vector<Delivery> again = CollectDeliveries(PollOf(*b), 1, seconds(5));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].body, "ORDER000300");
  EXPECT_TRUE(again[0].redelivered);
  EXPECT_FALSE(b->Ack(got[0].ref()).ok());
  EXPECT_TRUE(b->Ack(again[0].ref()).ok());
}

TEST_F(ReconnectTest, ConsumerCancelledByQueueDeletionResubscribesWhenTheQueueReturns) {
  const std::string q = MakeQueue("resubscribe");
  std::unique_ptr<ReconnectingBroker> b = MakeBroker(q);
  ASSERT_TRUE(b->Connect().ok());
  const uint64_t generation = b->generation();
  ASSERT_TRUE(admin_->DeleteQueue(q).ok());
  ASSERT_TRUE(PollUntil(PollOf(*b), Is<ConsumerCancelled>, seconds(5)).has_value());
  std::optional<BrokerEvent> failed = PollUntil(PollOf(*b), Is<ConnectFailed>, seconds(5));
  ASSERT_TRUE(failed.has_value());
  EXPECT_NE(std::get<ConnectFailed>(*failed).reason.find("does not exist"), std::string::npos);

  ASSERT_TRUE(admin_->DeclareQueue(q, {}).ok());
  PublishTo(q, "ORDER000400");
  std::vector<Delivery> got = CollectDeliveries(PollOf(*b), 1, seconds(5));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].generation, generation);  // same connection, same tags
  EXPECT_TRUE(b->Ack(got[0].ref()).ok());
}

TEST_F(ReconnectTest, PausingStopsDeliveriesAndResumingRestartsThem) {
  const std::string q = MakeQueue("pause");
  std::unique_ptr<ReconnectingBroker> b = MakeBroker(q);
  ASSERT_TRUE(b->Connect().ok());
  ASSERT_TRUE(b->SetConsuming(false).ok());
  PublishTo(q, "ORDER000500");
  EXPECT_FALSE(PollUntil(PollOf(*b), Is<Delivery>, milliseconds(300)).has_value());
  ASSERT_TRUE(b->SetConsuming(true).ok());
  std::vector<Delivery> got = CollectDeliveries(PollOf(*b), 1, seconds(5));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(b->Ack(got[0].ref()).ok());
}

}  // namespace
}  // namespace wxpay::broker_test
