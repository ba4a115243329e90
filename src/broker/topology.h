// The broker objects the daemon needs (SPEC §6), as a plan (pure) and its
// application (DeclareTopology).
//
//   queue, dead_letter_queue   durable classic queues without arguments,
//                              declared only if absent; when present they
//                              belong to the shop and are not inspected.
//   retry_exchange             durable direct exchange.
//   <queue>.retry.<ms>         one durable queue per delay tier with
//                              x-message-ttl=<ms>, x-dead-letter-exchange=""
//                              and x-dead-letter-routing-key=<queue>, bound
//                              to retry_exchange with its own name as key.
//   shop_delay (optional)      a durable fanout exchange (the shop's routing
//                              key does not matter) and a TTL queue bound to
//                              it, dead-lettering to <queue> after ttl.
//
// Nothing existing is ever changed. For the objects whose arguments matter
// (retry exchange and queues, shop delay queue) an existing one is checked by
// declaring it again with the wanted arguments on a throwaway channel: equal
// arguments are a no-op, different ones make RabbitMQ refuse with 406
// PRECONDITION_FAILED, which is reported with the queue's name, the wanted
// arguments and RabbitMQ's account of the existing ones.
#pragma once

#include <string>
#include <vector>

#include "broker/broker_session.h"
#include "broker/delay_tiers.h"
#include "broker/field_table.h"
#include "config/config.h"
#include "core/result.h"

namespace wxpay {

struct QueueSpec {
  std::string name;
  FieldTable arguments;
  bool check_existing = true;  // false: any existing queue of that name will do
};

struct ExchangeSpec {
  std::string name;
  std::string type;  // "direct", "fanout"
  bool check_existing = true;
};

struct BindingSpec {
  std::string queue;
  std::string exchange;
  std::string routing_key;
};

struct TopologyPlan {
  std::vector<ExchangeSpec> exchanges;
  std::vector<QueueSpec> queues;
  std::vector<BindingSpec> bindings;  // applied after exchanges and queues
};

// The arguments of a queue that delays by `ttl` and then dead-letters into
// `target_queue` through the default exchange.
FieldTable DelayQueueArguments(Millis ttl, const std::string& target_queue);

// Only the daemon's own objects: retry exchange, retry queues, bindings.
// Re-declared on every reconnect.
TopologyPlan RetryTopology(const RabbitConfig& config, const DelayTiers& tiers);
// Everything: work queue, dead-letter queue, the retry topology and, when
// configured, the shop delay exchange and queue (setup-topology, run at start).
TopologyPlan FullTopology(const RabbitConfig& config, const DelayTiers& tiers);

struct TopologyReport {
  std::vector<std::string> created;   // "queue 'x'", "exchange 'y'"
  std::vector<std::string> existing;  // already there (and, where checked, equal)
};

// Applies `plan` through `session`'s administration channel. Stops at the
// first problem; the error names the object, what was wanted and what to do.
Result<TopologyReport> DeclareTopology(BrokerSession& session, const TopologyPlan& plan);

}  // namespace wxpay
