// The daemon's options, read from the configuration (SPEC §5).
#pragma once

#include "config/config.h"
#include "core/message.h"
#include "daemon/daemon.h"
#include "daemon/delivery_loop.h"

namespace wxpay {

// rabbitmq.message.
MessageOptions MessageOptionsFromConfig(const RabbitConfig& rabbit);
// rabbitmq.*, the delay tiers and policy.concurrency.
DeliveryLoopOptions DeliveryLoopOptionsFromConfig(const Config& config);
// policy.drain_timeout, metrics.textfile.
DaemonOptions DaemonOptionsFromConfig(const Config& config);

}  // namespace wxpay
