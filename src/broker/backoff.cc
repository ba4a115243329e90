#include "broker/backoff.h"

#include <algorithm>

namespace wxpay {

std::chrono::milliseconds Backoff::Next() {
  const double cap = static_cast<double>(policy_.max.count());
  double wait = static_cast<double>(policy_.initial.count());
  for (int i = 0; i < failures_ && wait < cap; ++i) wait *= std::max(1.0, policy_.multiplier);
  ++failures_;
  return std::chrono::milliseconds(static_cast<long long>(std::min(wait, cap)));
}

}  // namespace wxpay
