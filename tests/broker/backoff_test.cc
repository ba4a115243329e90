#include "broker/backoff.h"

#include <gtest/gtest.h>

namespace wxpay {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, GrowsExponentiallyUpToTheCap) {
  Backoff b(ReconnectPolicy{milliseconds(100), milliseconds(1000), 3.0});
  EXPECT_EQ(b.Next(), milliseconds(100));
  EXPECT_EQ(b.Next(), milliseconds(300));
  EXPECT_EQ(b.Next(), milliseconds(900));
  EXPECT_EQ(b.Next(), milliseconds(1000));
  EXPECT_EQ(b.Next(), milliseconds(1000));
  EXPECT_EQ(b.failures(), 5);
}

TEST(Backoff, ResetStartsOver) {
  Backoff b(ReconnectPolicy{milliseconds(50), milliseconds(10'000), 2.0});
  b.Next();
  b.Next();
  b.Reset();
  EXPECT_EQ(b.Next(), milliseconds(50));
}

TEST(Backoff, ManyFailuresDoNotOverflow) {
  Backoff b(ReconnectPolicy{milliseconds(500), milliseconds(30'000), 2.0});
  for (int i = 0; i < 10'000; ++i) b.Next();
  EXPECT_EQ(b.Next(), milliseconds(30'000));
}

}  // namespace
}  // namespace wxpay
