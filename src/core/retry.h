// The retry schedule for counted reschedules (SPEC §3 "Attempts"): an
// exponential backoff, capped, and the attempt budget.
//
// No jitter, on purpose: reschedules travel through fixed-delay retry queues
// (SPEC §6, "delays round up to the next tier"), which would erase any jitter,
// and a deterministic schedule keeps the attempt header and the log honest.
// The rate limiter, not the schedule, protects WeChat Pay from bursts.
//
// Named BackoffPolicy (not RetryPolicy) because config/config.h already
// declares wxpay::RetryPolicy; the CLI converts one into the other.
#pragma once

#include "core/clock.h"

namespace wxpay {

struct BackoffPolicy {
  Millis initial{10'000};
  Millis max{600'000};
  double multiplier = 2.0;  // >= 1 (the config loader rejects less)
  int max_attempts = 20;    // >= 1 (the config loader rejects less)
};

// The delay before the next try after counted attempt `attempt` (1-based: the
// first delivery is attempt 1) failed: initial * multiplier^(attempt-1),
// capped at max. Attempts below 1 are treated as 1.
Millis BackoffDelay(const BackoffPolicy& policy, int attempt);

// True when `attempt` was the last one the budget allows: a failure of this
// attempt dead-letters the order `retries_exhausted` instead of rescheduling.
bool AttemptsExhausted(const BackoffPolicy& policy, int attempt);

}  // namespace wxpay
