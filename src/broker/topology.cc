#include "broker/topology.h"

namespace wxpay {
namespace {

std::string Quote(const std::string& name) { return "'" + name + "'"; }

constexpr char kMismatchAdvice[] =
    "wxpay-reconciler never changes an existing queue or exchange: move its messages elsewhere and delete it "
    "(rabbitmqctl delete_queue / delete_exchange), or configure other names under rabbitmq:";

Status DeclareExchangeIfAbsent(BrokerSession& session, const ExchangeSpec& spec, TopologyReport& report) {
  const std::string label = "exchange " + Quote(spec.name);
  AmqpStatus existing = session.InspectExchange(spec.name);
  if (existing) {
    if (spec.check_existing) {
      AmqpStatus same = session.DeclareExchange(spec.name, spec.type);
      if (!same) {
        if (same.error().server.code == kReplyPreconditionFailed) {
          return Fail("rabbitmq: " + label + " exists but is not a durable " + spec.type +
                      " exchange; RabbitMQ says: " + same.error().server.text + ". " + kMismatchAdvice);
        }
        return Fail(same.error().message);
      }
    }
    report.existing.push_back(label);
    return Status::Ok();
  }
  if (existing.error().server.code != kReplyNotFound) return Fail(existing.error().message);
  AmqpStatus created = session.DeclareExchange(spec.name, spec.type);
  if (!created) return Fail(created.error().message);
  report.created.push_back(label);
  return Status::Ok();
}

Status DeclareQueueIfAbsent(BrokerSession& session, const QueueSpec& spec, TopologyReport& report) {
  const std::string label = "queue " + Quote(spec.name);
  Result<QueueInfo, AmqpFailure> existing = session.InspectQueue(spec.name);
  if (existing) {
    if (spec.check_existing) {
      Result<QueueInfo, AmqpFailure> same = session.DeclareQueue(spec.name, spec.arguments);
      if (!same) {
        if (same.error().server.code == kReplyPreconditionFailed) {
          return Fail("rabbitmq: " + label + " exists with other arguments than wxpay-reconciler needs: wanted " +
                      "a durable queue with " + DescribeFieldTable(spec.arguments) +
                      "; RabbitMQ says about the existing one: " + same.error().server.text + ". " + kMismatchAdvice);
        }
        return Fail(same.error().message);
      }
    }
    report.existing.push_back(label);
    return Status::Ok();
  }
  if (existing.error().server.code != kReplyNotFound) return Fail(existing.error().message);
  Result<QueueInfo, AmqpFailure> created = session.DeclareQueue(spec.name, spec.arguments);
  if (!created) return Fail(created.error().message);
  report.created.push_back(label);
  return Status::Ok();
}

}  // namespace

FieldTable DelayQueueArguments(Millis ttl, const std::string& target_queue) {
  return FieldTable{
      {"x-message-ttl", FieldValue::SignedInt(ttl.count())},
      {"x-dead-letter-exchange", FieldValue::String("")},
      {"x-dead-letter-routing-key", FieldValue::String(target_queue)},
  };
}

TopologyPlan RetryTopology(const RabbitConfig& config, const DelayTiers& tiers) {
  TopologyPlan plan;
  plan.exchanges.push_back(ExchangeSpec{config.retry_exchange, "direct", true});
  for (Millis tier : tiers) {
    const std::string name = RetryQueueName(config.queue, tier);
    plan.queues.push_back(QueueSpec{name, DelayQueueArguments(tier, config.queue), true});
    plan.bindings.push_back(BindingSpec{name, config.retry_exchange, name});
  }
  return plan;
}

TopologyPlan FullTopology(const RabbitConfig& config, const DelayTiers& tiers) {
  TopologyPlan plan;
  plan.queues.push_back(QueueSpec{config.queue, {}, false});
  plan.queues.push_back(QueueSpec{config.dead_letter_queue, {}, false});
  TopologyPlan retry = RetryTopology(config, tiers);
  plan.exchanges = std::move(retry.exchanges);
  plan.queues.insert(plan.queues.end(), retry.queues.begin(), retry.queues.end());
  plan.bindings = std::move(retry.bindings);
  if (!config.shop_delay.exchange.empty()) {
    const ShopDelay& d = config.shop_delay;
    plan.exchanges.push_back(ExchangeSpec{d.exchange, "fanout", false});
    plan.queues.push_back(QueueSpec{d.queue, DelayQueueArguments(d.ttl, config.queue), true});
    plan.bindings.push_back(BindingSpec{d.queue, d.exchange, d.queue});
  }
  return plan;
}

Result<TopologyReport> DeclareTopology(BrokerSession& session, const TopologyPlan& plan) {
  TopologyReport report;
  for (const ExchangeSpec& e : plan.exchanges) {
    if (Status s = DeclareExchangeIfAbsent(session, e, report); !s) return Fail(s.message());
  }
  for (const QueueSpec& q : plan.queues) {
    if (Status s = DeclareQueueIfAbsent(session, q, report); !s) return Fail(s.message());
  }
  for (const BindingSpec& b : plan.bindings) {
    AmqpStatus bound = session.BindQueue(b.queue, b.exchange, b.routing_key);
    if (!bound) return Fail(bound.error().message);
  }
  return report;
}

}  // namespace wxpay
