#include "wechatpay/rate_limiter.h"

#include <algorithm>

namespace wxpay {

TokenBucket::TokenBucket(int per_second, Clock::time_point now)
    : rate_(std::max(per_second, 1)), tokens_(rate_), last_(now) {}

void TokenBucket::Refill(Clock::time_point now) {
  if (now <= last_) return;
  double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(static_cast<double>(rate_), tokens_ + elapsed * rate_);
  last_ = now;
}

std::optional<TokenBucket::Clock::duration> TokenBucket::TryTake(Clock::time_point now) {
  Refill(now);
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return std::nullopt;
  }
  auto wait = std::chrono::duration<double>((1.0 - tokens_) / rate_);
  // Round up so a waiter never wakes just before its token is due.
  return std::chrono::duration_cast<Clock::duration>(wait) + Clock::duration(1);
}

void TokenBucket::SetRate(int per_second, Clock::time_point now) {
  Refill(now);
  rate_ = std::max(per_second, 1);
  tokens_ = std::min(tokens_, static_cast<double>(rate_));
}

RateLimiter::RateLimiter(int per_second) : bucket_(per_second, TokenBucket::Clock::now()) {}

bool RateLimiter::Acquire(std::chrono::milliseconds max_wait) {
  const auto deadline = TokenBucket::Clock::now() + max_wait;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    auto now = TokenBucket::Clock::now();
    std::optional<TokenBucket::Clock::duration> wait = bucket_.TryTake(now);
    if (!wait) return true;
    if (now + *wait > deadline) return false;
    changed_.wait_until(lock, now + *wait);
  }
}

void RateLimiter::SetRate(int per_second) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    bucket_.SetRate(per_second, TokenBucket::Clock::now());
  }
  changed_.notify_all();
}

int RateLimiter::rate() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bucket_.rate();
}

}  // namespace wxpay
