#include "core/retry.h"

#include <algorithm>
#include <cmath>

namespace wxpay {

Millis BackoffDelay(const BackoffPolicy& policy, int attempt) {
  const int n = std::max(attempt, 1);
  const double multiplier = std::max(policy.multiplier, 1.0);
  const double initial_ms = static_cast<double>(std::max<Millis::rep>(policy.initial.count(), 0));
  const double max_ms = static_cast<double>(std::max<Millis::rep>(policy.max.count(), 0));
  // pow overflows to +inf for huge attempts; the cap below absorbs it.
  const double delay_ms = initial_ms * std::pow(multiplier, n - 1);
  if (!(delay_ms < max_ms)) return Millis(static_cast<Millis::rep>(max_ms));
  return Millis(std::llround(delay_ms));
}

bool AttemptsExhausted(const BackoffPolicy& policy, int attempt) {
  return attempt >= std::max(policy.max_attempts, 1);
}

}  // namespace wxpay
