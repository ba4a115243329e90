// Capped exponential backoff for reconnecting (pure).
#pragma once

#include <chrono>

namespace wxpay {

struct ReconnectPolicy {
  std::chrono::milliseconds initial{500};
  std::chrono::milliseconds max{30'000};
  double multiplier = 2.0;  // >= 1
};

class Backoff {
 public:
  explicit Backoff(ReconnectPolicy policy) : policy_(policy) {}

  // The wait before the next try: initial, initial*multiplier, ... capped at max.
  std::chrono::milliseconds Next();
  // After a success: the next failure waits `initial` again.
  void Reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  ReconnectPolicy policy_;
  int failures_ = 0;
};

}  // namespace wxpay
