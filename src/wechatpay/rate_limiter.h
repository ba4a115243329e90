// The process-wide limit wechatpay.max_requests_per_second: a token bucket
// shared by every worker, applied to every signed request (failover attempts
// included). Reloadable.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>

namespace wxpay {

// The arithmetic, without threads or clocks: `rate` tokens per second, at
// most `rate` banked (a burst of one second's worth).
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  TokenBucket(int per_second, Clock::time_point now);

  // Takes a token (nullopt), or says how long until one is available.
  std::optional<Clock::duration> TryTake(Clock::time_point now);
  void SetRate(int per_second, Clock::time_point now);
  int rate() const { return rate_; }

 private:
  void Refill(Clock::time_point now);

  int rate_;
  double tokens_;
  Clock::time_point last_;
};

// Waiting is bounded: a caller that gets no token within `max_wait` is told
// so (Acquire returns false) instead of blocking a worker indefinitely; the
// client reports that as kThrottled with nothing sent.
class RateLimiter {
 public:
  explicit RateLimiter(int per_second);

  bool Acquire(std::chrono::milliseconds max_wait);
  // REQUIRES: per_second >= 1. Wakes waiters so a raised limit applies at once.
  void SetRate(int per_second);
  int rate() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_;
  TokenBucket bucket_;  // guarded by mu_
};

}  // namespace wxpay
