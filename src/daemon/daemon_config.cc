#include "daemon/daemon_config.h"

#include "broker/delay_tiers.h"

namespace wxpay {

MessageOptions MessageOptionsFromConfig(const RabbitConfig& rabbit) {
  MessageOptions o;
  o.format = rabbit.message_format == RabbitConfig::MessageFormat::kJson ? MessageFormat::kJson : MessageFormat::kText;
  o.json_field = rabbit.json_field;
  return o;
}

DeliveryLoopOptions DeliveryLoopOptionsFromConfig(const Config& config) {
  DeliveryLoopOptions o;
  o.rabbit = config.rabbitmq;
  // Only names are needed here; keep secrets in as few places as possible.
  o.rabbit.url.clear();
  o.rabbit.password.clear();
  o.tiers = ComputeDelayTiers(config);
  o.message = MessageOptionsFromConfig(config.rabbitmq);
  o.concurrency = config.policy.concurrency;
  o.dry_run = config.policy.dry_run;
  return o;
}

DaemonOptions DaemonOptionsFromConfig(const Config& config) {
  DaemonOptions o;
  o.drain_timeout = config.policy.drain_timeout;
  o.metrics_textfile = config.metrics.textfile;
  // A worker is stuck when one order takes longer than its slowest honest
  // path: three WeChat Pay calls (query, close, query) and two statements,
  // each at its own timeout, plus slack for the rate limiter and scheduling.
  o.stuck_worker = 3 * config.wechatpay.timeout + 2 * config.database.timeout + std::chrono::seconds(10);
  return o;
}

}  // namespace wxpay
