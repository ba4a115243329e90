#include "cli/broker_commands.h"

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/amqp_connection.h"
#include "broker/broker_session.h"
#include "broker/delay_tiers.h"
#include "broker/follow_up.h"
#include "broker/topology.h"
#include "cli/exit_codes.h"
#include "config/duration.h"
#include "core/decision.h"
#include "core/message.h"
#include "core/order.h"
#include "core/text.h"
#include "daemon/daemon_config.h"
#include "broker/queue_reader.h"
#include "store/state_store.h"

namespace wxpay {
namespace {

constexpr std::chrono::milliseconds kConfirmTimeout{10'000};

void PrintOut(const std::string& s) { std::fprintf(stdout, "%s\n", s.c_str()); }
void PrintErr(const std::string& s) { std::fprintf(stderr, "wxpay-reconciler: %s\n", s.c_str()); }

// Opens a session; on failure prints why and sets `exit_code`.
std::unique_ptr<BrokerSession> OpenSession(const Config& config, Logger& log, int& exit_code) {
  Result<ConnectOptions> options = ConnectOptionsFromConfig(config.rabbitmq);
  if (!options) {
    PrintErr(options.error().message);
    exit_code = exit_code::kConfig;
    return nullptr;
  }
  options->connection_name = "wxpay-reconciler (command)";
  Result<std::unique_ptr<BrokerSession>> session = BrokerSession::Open(*options, 1, log);
  if (!session) {
    PrintErr(session.error().message);
    exit_code = exit_code::kUnavailable;
    return nullptr;
  }
  return std::move(session).value();
}

// Where a message delayed by at least `delay` goes: the shortest delay queue
// that waits at least that long.
struct DelayRoute {
  std::string exchange;
  std::string routing_key;
  Millis waits{0};
  std::string via;  // for the summary
};

std::optional<DelayRoute> RouteForDelay(const Config& config, Millis delay) {
  std::optional<DelayRoute> best;
  const ShopDelay& shop = config.rabbitmq.shop_delay;
  if (!shop.exchange.empty() && shop.ttl >= delay) {
    best = DelayRoute{shop.exchange, shop.queue, shop.ttl, "the shop delay queue '" + shop.queue + "'"};
  }
  for (Millis tier : ComputeDelayTiers(config)) {
    if (tier < delay) continue;
    if (!best || tier < best->waits) {
      const std::string queue = RetryQueueName(config.rabbitmq.queue, tier);
      best = DelayRoute{config.rabbitmq.retry_exchange, queue, tier, "the retry tier '" + queue + "'"};
    }
    break;  // tiers ascend: the first one that is long enough is the shortest
  }
  return best;
}

// The dead letter's properties with the daemon's per-attempt headers removed,
// so that it starts over as a first delivery.
MessageProperties WithoutAttemptHeaders(MessageProperties properties) {
  if (!properties.headers) return properties;
  FieldTable kept;
  for (FieldEntry& e : *properties.headers) {
    if (e.key == kAttemptHeader || e.key == kReasonHeader || e.key == kErrorHeader) continue;
    kept.push_back(std::move(e));
  }
  if (kept.empty()) {
    properties.headers.reset();
  } else {
    properties.headers = std::move(kept);
  }
  return properties;
}

}  // namespace

int RunSetupTopology(const Invocation&, const Config& config, Logger& log) {
  int rc = exit_code::kOk;
  std::unique_ptr<BrokerSession> session = OpenSession(config, log, rc);
  if (!session) return rc;
  Result<TopologyReport> report = DeclareTopology(*session, FullTopology(config.rabbitmq, ComputeDelayTiers(config)));
  if (!report) {
    PrintErr(report.error().message);
    return exit_code::kUnavailable;
  }
  for (const std::string& s : report->created) PrintOut("created " + s);
  for (const std::string& s : report->existing) PrintOut("exists  " + s);
  PrintOut("setup-topology: " + std::to_string(report->created.size()) + " created, " +
           std::to_string(report->existing.size()) + " already there; nothing existing was changed");
  return exit_code::kOk;
}

int RunEnqueue(const Invocation& inv, const Config& config, Logger& log) {
  if (!IsValidOrderNo(inv.order_no)) {
    PrintErr("enqueue: '" + PreviewBytes(inv.order_no) +
             "' is not a valid order number (6-32 characters of 0-9 A-Z a-z _ - | *)");
    return exit_code::kBadData;
  }
  OutgoingMessage message;
  message.exchange = "";
  message.routing_key = config.rabbitmq.queue;
  message.mandatory = true;
  message.properties.delivery_mode = kPersistentDeliveryMode;
  if (config.rabbitmq.message_format == RabbitConfig::MessageFormat::kJson) {
    message.body = "{";
    AppendJsonString(message.body, config.rabbitmq.json_field);
    message.body += ':';
    AppendJsonString(message.body, inv.order_no);
    message.body += '}';
    message.properties.content_type = "application/json";
  } else {
    message.body = inv.order_no;
    message.properties.content_type = "text/plain";
  }
  std::string where = "queue '" + config.rabbitmq.queue + "'";
  if (inv.delay && inv.delay->count() > 0) {
    std::optional<DelayRoute> route = RouteForDelay(config, *inv.delay);
    if (!route) {
      PrintErr("enqueue: --delay " + FormatDuration(*inv.delay) +
               " is longer than any delay queue (the longest retry tier and rabbitmq.shop_delay.ttl)");
      return exit_code::kUsage;
    }
    message.exchange = route->exchange;
    message.routing_key = route->routing_key;
    where = "queue '" + config.rabbitmq.queue + "' after " + FormatDuration(route->waits) + " in " + route->via;
  }

  int rc = exit_code::kOk;
  std::unique_ptr<BrokerSession> session = OpenSession(config, log, rc);
  if (!session) return rc;
  if (Status s = session->PublishAndWait(message, kConfirmTimeout); !s) {
    PrintErr("enqueue " + inv.order_no + ": not delivered: " + s.message() +
             " (does the queue exist? run `wxpay-reconciler setup-topology`)");
    return exit_code::kUnavailable;
  }
  PrintOut("enqueued " + inv.order_no + " to " + where);
  return exit_code::kOk;
}

int RunRedrive(const Invocation& inv, const Config& config, Logger& log) {
  const RabbitConfig& rabbit = config.rabbitmq;
  if (!inv.reason.empty() && !ParseDeadLetterReason(inv.reason)) {
    PrintErr("redrive: unknown --reason '" + PreviewBytes(inv.reason) +
             "'; one of invalid_message, unknown_order, amount_mismatch, mchid_mismatch, appid_mismatch, "
             "out_trade_no_mismatch, refunded, not_found, retries_exhausted, poison");
    return exit_code::kUsage;
  }
  const long limit = inv.limit.value_or(0);

  int rc = exit_code::kOk;
  std::unique_ptr<BrokerSession> session = OpenSession(config, log, rc);
  if (!session) return rc;
  Result<QueueInfo, AmqpFailure> info = session->InspectQueue(rabbit.dead_letter_queue);
  if (!info) {
    PrintErr(info.error().message);
    return exit_code::kUnavailable;
  }
  Result<ConnectOptions> options = ConnectOptionsFromConfig(rabbit);
  if (!options) {
    PrintErr(options.error().message);
    return exit_code::kConfig;
  }
  options->connection_name = "wxpay-reconciler redrive";
  Result<std::unique_ptr<QueueReader>> reader = QueueReader::Open(*options);
  if (!reader) {
    PrintErr(reader.error().message);
    return exit_code::kUnavailable;
  }

  SystemClock clock;
  Result<std::unique_ptr<StateStore>> state = StateStore::Open(config.state_dir, clock);
  if (!state) PrintErr("warning: " + state.error().message + "; parked marks are not cleared");
  const MessageOptions message_options = MessageOptionsFromConfig(rabbit);

  const uint32_t at_start = info->message_count;
  uint32_t examined = 0;
  long moved = 0;
  long kept = 0;
  std::string failure;
  while (examined < at_start && (limit <= 0 || moved < limit)) {
    Result<std::optional<Delivery>> got = (*reader)->Get(rabbit.dead_letter_queue);
    if (!got) {
      failure = got.error().message;
      break;
    }
    if (!got->has_value()) break;
    const Delivery& d = **got;
    ++examined;
    const FollowUpState history = ReadFollowUpHeaders(d.properties);
    if (!inv.reason.empty() && history.reason.value_or("") != inv.reason) {
      ++kept;  // stays unacknowledged until the end, so the next get sees the next message
      continue;
    }
    OutgoingMessage out;
    out.exchange = "";
    out.routing_key = rabbit.queue;
    out.body = d.body;
    out.properties = WithoutAttemptHeaders(d.properties);
    out.mandatory = true;
    if (Status s = session->PublishAndWait(out, kConfirmTimeout); !s) {
      failure = "republishing to queue '" + rabbit.queue + "' failed: " + s.message() +
                " (the dead letter stays where it was)";
      break;
    }
    if (Status s = (*reader)->Ack(d.delivery_tag); !s) {
      // It was republished: a duplicate is harmless, a loss is not.
      failure = "acknowledging a dead letter failed after it was republished (it will be redriven twice): " +
                s.message();
      ++moved;
      break;
    }
    ++moved;
    Result<std::string> order_no = ParseOrderMessage(d.body, message_options);
    if (order_no && state) {
      if (Status s = (*state)->Unpark(*order_no); !s) PrintErr("warning: order " + *order_no + ": " + s.message());
    }
  }
  if (Status s = (*reader)->RequeueAll(); !s && failure.empty()) failure = s.message();

  std::string line = "redrive: moved " + std::to_string(moved) + " dead letter(s) from '" + rabbit.dead_letter_queue +
                     "' to '" + rabbit.queue + "'";
  if (!inv.reason.empty()) {
    line += " (reason " + inv.reason + "); left " + std::to_string(kept) + " with other reasons";
  }
  line += "; " + std::to_string(at_start) + " were waiting at the start";
  if (limit > 0 && moved >= limit) line += "; stopped at --limit " + std::to_string(limit);
  PrintOut(line);
  if (!failure.empty()) {
    PrintErr("redrive: " + failure);
    return exit_code::kUnavailable;
  }
  return exit_code::kOk;
}

}  // namespace wxpay
