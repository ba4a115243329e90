#include "broker/delay_tiers.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace wxpay {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(DelayTiers, DefaultsCoverEveryConfiguredDelayExactly) {
  RetryPolicy retry;  // 10s .. 10m
  const DelayTiers tiers = ComputeDelayTiers(retry, seconds(60), minutes(15));
  const DelayTiers expected = {seconds(1), seconds(5), seconds(10), seconds(30), minutes(1),
                               minutes(2), minutes(5), minutes(10), minutes(15)};
  EXPECT_EQ(tiers, expected);
}

TEST(DelayTiers, OddConfiguredValuesBecomeTiersAndTheLadderCoversThem) {
  RetryPolicy retry;
  retry.initial = seconds(7);
  retry.max = minutes(20);
  const DelayTiers tiers = ComputeDelayTiers(retry, seconds(45), minutes(25));
  EXPECT_TRUE(std::is_sorted(tiers.begin(), tiers.end()));
  EXPECT_EQ(std::adjacent_find(tiers.begin(), tiers.end()), tiers.end());
  for (milliseconds d : {milliseconds(seconds(7)), milliseconds(minutes(20)), milliseconds(seconds(45)), milliseconds(minutes(25))}) {
    EXPECT_NE(std::find(tiers.begin(), tiers.end(), d), tiers.end()) << d.count();
  }
  EXPECT_EQ(tiers.back(), minutes(30));  // first rung at or above 25m
}

TEST(DelayTiers, NeedsBeyondTheLadderEndAtTheNeed) {
  RetryPolicy retry;
  const DelayTiers tiers = ComputeDelayTiers(retry, seconds(60), hours(48));
  EXPECT_EQ(tiers.back(), hours(48));
  EXPECT_NE(std::find(tiers.begin(), tiers.end(), hours(24)), tiers.end());
}

TEST(DelayTiers, TierForRoundsUp) {
  const DelayTiers tiers = {milliseconds(200), seconds(1), seconds(5), seconds(30)};
  EXPECT_EQ(TierFor(tiers, milliseconds(0)), milliseconds(200));
  EXPECT_EQ(TierFor(tiers, milliseconds(-5)), milliseconds(200));
  EXPECT_EQ(TierFor(tiers, milliseconds(200)), milliseconds(200));
  EXPECT_EQ(TierFor(tiers, milliseconds(201)), seconds(1));
  EXPECT_EQ(TierFor(tiers, seconds(20)), seconds(30));
  EXPECT_EQ(TierFor(tiers, seconds(30)), seconds(30));
  // Longer than every tier: the longest (the window check reschedules again).
  EXPECT_EQ(TierFor(tiers, hours(2)), seconds(30));
}

TEST(DelayTiers, BackoffStepsRoundUpNeverDown) {
  RetryPolicy retry;  // 10s, 20s, 40s, 80s, 160s, 320s, 600s
  const DelayTiers tiers = ComputeDelayTiers(retry, seconds(60), minutes(15));
  for (milliseconds d = seconds(10); d <= minutes(10); d *= 2) {
    EXPECT_GE(TierFor(tiers, d), d);
  }
  EXPECT_EQ(TierFor(tiers, seconds(20)), seconds(30));
  EXPECT_EQ(TierFor(tiers, seconds(160)), minutes(5));
}

TEST(DelayTiers, RetryQueueName) {
  EXPECT_EQ(RetryQueueName("order.expired", seconds(30)), "order.expired.retry.30000");
  EXPECT_EQ(RetryQueueName("q", milliseconds(200)), "q.retry.200");
}

}  // namespace
}  // namespace wxpay
