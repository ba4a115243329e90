#include "core/retry.h"

#include <gtest/gtest.h>

#include <chrono>
#include <climits>

namespace wxpay {
namespace {

using namespace std::chrono_literals;

TEST(Backoff, DoublesFromInitialAndCapsAtMax) {
  const BackoffPolicy p{10s, 10min, 2.0, 20};
  EXPECT_EQ(BackoffDelay(p, 1), 10s);
  EXPECT_EQ(BackoffDelay(p, 2), 20s);
  EXPECT_EQ(BackoffDelay(p, 3), 40s);
  EXPECT_EQ(BackoffDelay(p, 6), 320s);
  EXPECT_EQ(BackoffDelay(p, 7), 10min);
  EXPECT_EQ(BackoffDelay(p, 1000), 10min);
  EXPECT_EQ(BackoffDelay(p, INT_MAX), 10min);
}

TEST(Backoff, FractionalMultiplierRoundsToMilliseconds) {
  const BackoffPolicy p{1000ms, 1h, 1.5, 20};
  EXPECT_EQ(BackoffDelay(p, 2), 1500ms);
  EXPECT_EQ(BackoffDelay(p, 3), 2250ms);
  EXPECT_EQ(BackoffDelay(p, 4), 3375ms);
}

TEST(Backoff, AttemptsBelowOneCountAsOne) {
  const BackoffPolicy p{10s, 10min, 2.0, 20};
  EXPECT_EQ(BackoffDelay(p, 0), 10s);
  EXPECT_EQ(BackoffDelay(p, -5), 10s);
}

TEST(Backoff, InitialAboveMaxIsCapped) {
  const BackoffPolicy p{20min, 10min, 2.0, 20};
  EXPECT_EQ(BackoffDelay(p, 1), 10min);
}

TEST(Backoff, MultiplierOneIsConstant) {
  const BackoffPolicy p{30s, 10min, 1.0, 20};
  EXPECT_EQ(BackoffDelay(p, 1), 30s);
  EXPECT_EQ(BackoffDelay(p, 50), 30s);
}

TEST(Backoff, ExhaustedOnTheLastAllowedAttempt) {
  const BackoffPolicy p{10s, 10min, 2.0, 3};
  EXPECT_FALSE(AttemptsExhausted(p, 1));
  EXPECT_FALSE(AttemptsExhausted(p, 2));
  EXPECT_TRUE(AttemptsExhausted(p, 3));
  EXPECT_TRUE(AttemptsExhausted(p, 4));
  EXPECT_TRUE(AttemptsExhausted(BackoffPolicy{10s, 10min, 2.0, 1}, 1));
}

}  // namespace
}  // namespace wxpay
