#include "wechatpay/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace wxpay {
namespace {

using std::chrono::milliseconds;
using Clock = TokenBucket::Clock;

TEST(TokenBucket, AllowsABurstOfOneSecondThenTheRate) {
  Clock::time_point t0{};
  TokenBucket bucket(10, t0);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(bucket.TryTake(t0).has_value()) << i;
  std::optional<Clock::duration> wait = bucket.TryTake(t0);
  ASSERT_TRUE(wait.has_value());
  EXPECT_GE(*wait, milliseconds(99));
  EXPECT_LE(*wait, milliseconds(101));
  EXPECT_TRUE(bucket.TryTake(t0 + milliseconds(50)).has_value());
  EXPECT_FALSE(bucket.TryTake(t0 + milliseconds(101)).has_value());
  // Idle time banks at most one second's worth.
  Clock::time_point later = t0 + std::chrono::seconds(60);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(bucket.TryTake(later).has_value());
  EXPECT_TRUE(bucket.TryTake(later).has_value());
}

TEST(TokenBucket, SetRateAppliesAtOnceAndCapsTheBurst) {
  Clock::time_point t0{};
  TokenBucket bucket(100, t0);
  bucket.SetRate(2, t0);
  EXPECT_EQ(bucket.rate(), 2);
  EXPECT_FALSE(bucket.TryTake(t0).has_value());
  EXPECT_FALSE(bucket.TryTake(t0).has_value());
  std::optional<Clock::duration> wait = bucket.TryTake(t0);
  ASSERT_TRUE(wait.has_value());
  EXPECT_GE(*wait, milliseconds(499));
}

TEST(RateLimiter, BoundedWaitFailsInsteadOfBlocking) {
  RateLimiter limiter(1);
  EXPECT_TRUE(limiter.Acquire(milliseconds(0)));
  auto start = Clock::now();
  EXPECT_FALSE(limiter.Acquire(milliseconds(100)));  // next token is ~1 s away
  EXPECT_LT(Clock::now() - start, milliseconds(500));
}

TEST(RateLimiter, SharedByThreadsNeverExceedsTheRate) {
  RateLimiter limiter(20);
  std::atomic<int> granted{0};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 8; ++i) {
        if (limiter.Acquire(milliseconds(5000))) ++granted;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  auto elapsed = Clock::now() - start;
  EXPECT_EQ(granted.load(), 32);
  // 20 at once, then 12 more at 20/s: at least ~600 ms.
  EXPECT_GE(elapsed, milliseconds(550));
}

TEST(RateLimiter, RaisingTheRateWakesWaiters) {
  RateLimiter limiter(1);
  ASSERT_TRUE(limiter.Acquire(milliseconds(0)));
  std::atomic<bool> got{false};
  std::thread waiter([&] { got = limiter.Acquire(milliseconds(5000)); });
  limiter.SetRate(1000);
  waiter.join();
  EXPECT_TRUE(got.load());
  EXPECT_EQ(limiter.rate(), 1000);
}

}  // namespace
}  // namespace wxpay
