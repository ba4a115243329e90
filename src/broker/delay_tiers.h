// Delay tiers (SPEC §6): the daemon delays a message by publishing it into a
// retry queue with a fixed queue-level TTL, one queue per delay value — never
// per-message TTLs in a shared queue, because expired messages only leave a
// queue from its head. Any delay is rounded UP to the next tier, so a message
// never comes back early.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "config/config.h"

namespace wxpay {

using Millis = std::chrono::milliseconds;

// Ascending, no duplicates, every tier > 0.
using DelayTiers = std::vector<Millis>;

// A standard ladder (1s, 5s, 10s, 30s, 1m, 2m, 5m, 10m, 15m, 30m, 1h, 2h, 3h,
// 6h, 12h, 24h) up to the first rung at or above the longest delay the daemon
// needs, plus the exact configured delays (retry.initial, retry.max,
// userpaying_recheck, order_ttl), so that configured waits are not rounded.
// A longest need beyond the ladder becomes the last tier itself.
DelayTiers ComputeDelayTiers(const RetryPolicy& retry, Millis userpaying_recheck, Millis order_ttl);
DelayTiers ComputeDelayTiers(const Config& config);

// The smallest tier >= delay; the largest tier when delay exceeds them all
// (the caller's window check reschedules again when it comes back early).
// REQUIRES: !tiers.empty()
Millis TierFor(const DelayTiers& tiers, Millis delay);

// "<queue>.retry.<ms>", e.g. "order.expired.retry.30000". The same text is
// the routing key of its binding on the retry exchange: unique per work
// queue, so several daemons (or shops) can share one retry exchange.
std::string RetryQueueName(const std::string& queue, Millis tier);

}  // namespace wxpay
