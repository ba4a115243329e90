#include "broker/topology.h"

#include <gtest/gtest.h>

namespace wxpay {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

RabbitConfig Config() {
  RabbitConfig c;
  c.queue = "order.expired";
  c.dead_letter_queue = "order.expired.dead";
  c.retry_exchange = "wxpay-reconciler.retry";
  return c;
}

TEST(TopologyPlan, RetryTopologyHasOneTtlQueuePerTierDeadLetteringToTheWorkQueue) {
  const TopologyPlan plan = RetryTopology(Config(), {seconds(1), seconds(30)});
  ASSERT_EQ(plan.exchanges.size(), 1u);
  EXPECT_EQ(plan.exchanges[0].name, "wxpay-reconciler.retry");
  EXPECT_EQ(plan.exchanges[0].type, "direct");
  ASSERT_EQ(plan.queues.size(), 2u);
  EXPECT_EQ(plan.queues[1].name, "order.expired.retry.30000");
  EXPECT_TRUE(plan.queues[1].check_existing);
  const FieldTable& args = plan.queues[1].arguments;
  EXPECT_EQ(*FindField(args, "x-message-ttl"), FieldValue::Int32(30000));
  EXPECT_EQ(*FindField(args, "x-dead-letter-exchange"), FieldValue::String(""));
  EXPECT_EQ(*FindField(args, "x-dead-letter-routing-key"), FieldValue::String("order.expired"));
  ASSERT_EQ(plan.bindings.size(), 2u);
  EXPECT_EQ(plan.bindings[1].queue, "order.expired.retry.30000");
  EXPECT_EQ(plan.bindings[1].exchange, "wxpay-reconciler.retry");
  EXPECT_EQ(plan.bindings[1].routing_key, "order.expired.retry.30000");
  // Nothing the shop owns is in the reconnect plan.
  for (const QueueSpec& q : plan.queues) {
    EXPECT_NE(q.name, "order.expired");
    EXPECT_NE(q.name, "order.expired.dead");
  }
}

TEST(TopologyPlan, FullTopologyAddsTheShopQueuesUncheckedAndTheShopDelay) {
  RabbitConfig c = Config();
  c.shop_delay.exchange = "order.delay";
  c.shop_delay.queue = "order.delay.wait";
  c.shop_delay.ttl = minutes(15);
  const TopologyPlan plan = FullTopology(c, {seconds(1)});
  ASSERT_EQ(plan.queues.size(), 4u);
  EXPECT_EQ(plan.queues[0].name, "order.expired");
  EXPECT_TRUE(plan.queues[0].arguments.empty());
  EXPECT_FALSE(plan.queues[0].check_existing);
  EXPECT_EQ(plan.queues[1].name, "order.expired.dead");
  EXPECT_TRUE(plan.queues[1].arguments.empty());
  EXPECT_FALSE(plan.queues[1].check_existing);
  EXPECT_EQ(plan.queues[3].name, "order.delay.wait");
  EXPECT_EQ(*FindField(plan.queues[3].arguments, "x-message-ttl"), FieldValue::Int32(900000));
  EXPECT_EQ(*FindField(plan.queues[3].arguments, "x-dead-letter-routing-key"), FieldValue::String("order.expired"));
  ASSERT_EQ(plan.exchanges.size(), 2u);
  EXPECT_EQ(plan.exchanges[1].name, "order.delay");
  EXPECT_EQ(plan.exchanges[1].type, "fanout");
  EXPECT_EQ(plan.bindings.back().queue, "order.delay.wait");
  EXPECT_EQ(plan.bindings.back().exchange, "order.delay");
}

TEST(TopologyPlan, NoShopDelayUnlessConfigured) {
  const TopologyPlan plan = FullTopology(Config(), {seconds(1)});
  EXPECT_EQ(plan.exchanges.size(), 1u);
  EXPECT_EQ(plan.queues.size(), 3u);
}

}  // namespace
}  // namespace wxpay
