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
  return o;
}

}  // namespace wxpay
