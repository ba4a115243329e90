// DeclareTopology and the TTL retry tiers against a real RabbitMQ.
#include <gtest/gtest.h>

#include "broker/follow_up.h"
#include "broker/rabbit_fixture.h"
#include "broker/topology.h"

namespace wxpay::broker_test {
namespace {

using std::chrono::seconds;

class TopologyTest : public RabbitTest {
 protected:
  RabbitConfig Config() {
    RabbitConfig c;
    c.queue = UniqueName("work");
    c.dead_letter_queue = c.queue + ".dead";
    c.retry_exchange = c.queue + ".retry-x";
    return c;
  }
  void CleanUp(const RabbitConfig& c, const DelayTiers& tiers) {
    DeleteLater(c.queue);
    DeleteLater(c.dead_letter_queue);
    for (Millis t : tiers) DeleteLater(RetryQueueName(c.queue, t));
    exchanges_.push_back(c.retry_exchange);
    if (!c.shop_delay.exchange.empty()) {
      DeleteLater(c.shop_delay.queue);
      exchanges_.push_back(c.shop_delay.exchange);
    }
  }
};

TEST_F(TopologyTest, DeclaresEverythingOnceAndIsIdempotent) {
  RabbitConfig c = Config();
  c.shop_delay.exchange = c.queue + ".delay-x";
  c.shop_delay.queue = c.queue + ".delay";
  c.shop_delay.ttl = std::chrono::minutes(15);
  const DelayTiers tiers = {seconds(1), seconds(30)};
  CleanUp(c, tiers);
  const TopologyPlan plan = FullTopology(c, tiers);

  Result<TopologyReport> first = DeclareTopology(*admin_, plan);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->created.size(), 7u);  // 2 exchanges + 5 queues
  EXPECT_TRUE(first->existing.empty());

  Result<TopologyReport> second = DeclareTopology(*admin_, plan);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_TRUE(second->created.empty());
  EXPECT_EQ(second->existing.size(), 7u);

  // The shop delay path: exchange -> TTL queue -> work queue (checked by
  // routing, not by waiting 15 minutes).
  Result<QueueInfo, AmqpFailure> delay = admin_->InspectQueue(c.shop_delay.queue);
  ASSERT_TRUE(delay.ok());
  OutgoingMessage m;
  m.exchange = c.shop_delay.exchange;
  m.routing_key = "any-key-the-shop-uses";
  m.body = "ORDER000100";
  ASSERT_TRUE(admin_->PublishAndWait(m, seconds(5)).ok());
  delay = admin_->InspectQueue(c.shop_delay.queue);
  ASSERT_TRUE(delay.ok());
  EXPECT_EQ(delay->message_count, 1u);
}

TEST_F(TopologyTest, AMismatchIsReportedWithTheQueueNameAndArguments) {
  RabbitConfig c = Config();
  const DelayTiers tiers = {seconds(5)};
  CleanUp(c, tiers);
  const std::string retry_queue = RetryQueueName(c.queue, seconds(5));
  // Someone created the retry queue with another TTL.
  ASSERT_TRUE(admin_->DeclareQueue(retry_queue, DelayQueueArguments(seconds(6), c.queue)).ok());

  Result<TopologyReport> r = DeclareTopology(*admin_, FullTopology(c, tiers));
  ASSERT_FALSE(r.ok());
  const std::string& msg = r.error().message;
  EXPECT_NE(msg.find("'" + retry_queue + "'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("x-message-ttl=5000 (signed int)"), std::string::npos) << msg;  // wanted
  EXPECT_NE(msg.find("6000"), std::string::npos) << msg;                             // existing
  EXPECT_NE(msg.find("never changes an existing queue"), std::string::npos) << msg;

  // Unchanged: still the old TTL, and the session is still usable.
  EXPECT_FALSE(admin_->closed());
  EXPECT_TRUE(admin_->DeclareQueue(retry_queue, DelayQueueArguments(seconds(6), c.queue)).ok());
}

TEST_F(TopologyTest, TheShopsExistingQueuesAreLeftAsTheyAre) {
  RabbitConfig c = Config();
  const DelayTiers tiers = {seconds(1)};
  CleanUp(c, tiers);
  const FieldTable shop_args = {{"x-max-length", FieldValue::Int32(1000)}};
  ASSERT_TRUE(admin_->DeclareQueue(c.queue, shop_args).ok());
  Result<TopologyReport> r = DeclareTopology(*admin_, FullTopology(c, tiers));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_NE(std::find(r->existing.begin(), r->existing.end(), "queue '" + c.queue + "'"), r->existing.end());
  // Still declared with the shop's arguments.
  EXPECT_TRUE(admin_->DeclareQueue(c.queue, shop_args).ok());
}

TEST_F(TopologyTest, ARetryTierDeadLettersBackToTheWorkQueueAfterItsTtl) {
  RabbitConfig c = Config();
  const DelayTiers tiers = {milliseconds(200), seconds(5)};
  CleanUp(c, tiers);
  ASSERT_TRUE(DeclareTopology(*admin_, FullTopology(c, tiers)).ok());

  std::unique_ptr<BrokerSession> s = OpenSession(3);
  ASSERT_TRUE(s->StartConsuming(c.queue, 10).ok());
  PublishTo(c.queue, "ORDER000110");
  std::vector<Delivery> first = CollectDeliveries(PollOf(*s), 1, seconds(5));
  ASSERT_EQ(first.size(), 1u);

  const OutgoingMessage again = MakeReschedule(first[0], c, tiers, milliseconds(150), FollowUpHeaders{1, "", "", ""});
  EXPECT_EQ(again.routing_key, RetryQueueName(c.queue, milliseconds(200)));
  const auto sent = std::chrono::steady_clock::now();
  ASSERT_TRUE(s->PublishAndWait(again, seconds(5)).ok());
  ASSERT_TRUE(s->Ack(first[0].ref()).ok());

  std::vector<Delivery> back = CollectDeliveries(PollOf(*s), 1, seconds(5));
  ASSERT_EQ(back.size(), 1u);
  const auto waited = std::chrono::steady_clock::now() - sent;
  EXPECT_GE(waited, milliseconds(190));
  EXPECT_EQ(back[0].body, "ORDER000110");
  EXPECT_FALSE(back[0].redelivered);
  const FieldTable& h = *back[0].properties.headers;
  EXPECT_EQ(*FindField(h, kAttemptHeader), FieldValue::Int32(1));
  const FieldValue* death = FindField(h, "x-death");
  ASSERT_NE(death, nullptr);
  EXPECT_EQ(death->kind, FieldKind::kArray);
  EXPECT_EQ(ReadFollowUpHeaders(back[0].properties).problems, "");
}

}  // namespace
}  // namespace wxpay::broker_test
