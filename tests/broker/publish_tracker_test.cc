#include "broker/publish_tracker.h"

#include <gtest/gtest.h>

namespace wxpay {
namespace {

TEST(PublishTracker, NumbersPublishesFromOne) {
  PublishTracker t;
  EXPECT_EQ(t.Track(10, "x", "k", "a"), 1u);
  EXPECT_EQ(t.Track(11, "x", "k", "b"), 2u);
  EXPECT_EQ(t.outstanding(), 2u);
}

TEST(PublishTracker, SingleAndMultipleAcks) {
  PublishTracker t;
  t.Track(10, "x", "k", "a");
  t.Track(11, "x", "k", "b");
  t.Track(12, "x", "k", "c");
  std::vector<PublishOutcome> o = t.Ack(2, false);
  ASSERT_EQ(o.size(), 1u);
  EXPECT_EQ(o[0].id, 11u);
  EXPECT_TRUE(o[0].confirmed);
  o = t.Ack(3, true);  // covers 1 and 3 (2 is gone)
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[0].id, 10u);
  EXPECT_EQ(o[1].id, 12u);
  EXPECT_EQ(t.outstanding(), 0u);
  EXPECT_TRUE(t.Ack(3, true).empty());  // duplicate acks are ignored
}

TEST(PublishTracker, NackFails) {
  PublishTracker t;
  t.Track(1, "x", "k", "a");
  t.Track(2, "x", "k", "b");
  std::vector<PublishOutcome> o = t.Nack(2, true);
  ASSERT_EQ(o.size(), 2u);
  EXPECT_FALSE(o[0].confirmed);
  EXPECT_FALSE(o[1].confirmed);
  EXPECT_NE(o[0].reason.find("nack"), std::string::npos);
}

TEST(PublishTracker, ReturnedThenAckedIsUnroutable) {
  PublishTracker t;
  t.Track(1, "retry", "q.retry.1000", "order-1");
  t.Track(2, "", "missing-queue", "order-2");
  t.Track(3, "retry", "q.retry.1000", "order-3");
  t.MarkReturned("", "missing-queue", "order-2", "312 NO_ROUTE");
  std::vector<PublishOutcome> o = t.Ack(3, true);
  ASSERT_EQ(o.size(), 3u);
  EXPECT_TRUE(o[0].confirmed);
  EXPECT_FALSE(o[1].confirmed);
  EXPECT_NE(o[1].reason.find("unroutable"), std::string::npos);
  EXPECT_NE(o[1].reason.find("312 NO_ROUTE"), std::string::npos);
  EXPECT_TRUE(o[2].confirmed);
}

TEST(PublishTracker, IdenticalPublishesAreReturnedOldestFirst) {
  PublishTracker t;
  t.Track(1, "", "gone", "same");
  t.Track(2, "", "gone", "same");
  t.MarkReturned("", "gone", "same", "312 NO_ROUTE");
  std::vector<PublishOutcome> first = t.Ack(1, false);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_FALSE(first[0].confirmed);
  std::vector<PublishOutcome> second = t.Ack(2, false);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_TRUE(second[0].confirmed);
}

TEST(PublishTracker, UnmatchedReturnFailsEverythingTheNextAckCovers) {
  PublishTracker t;
  t.Track(1, "", "a", "x");
  t.Track(2, "", "b", "y");
  t.MarkReturned("", "c", "z", "312 NO_ROUTE");
  std::vector<PublishOutcome> o = t.Ack(2, true);
  ASSERT_EQ(o.size(), 2u);
  EXPECT_FALSE(o[0].confirmed);
  EXPECT_FALSE(o[1].confirmed);
  t.Track(3, "", "a", "x");
  o = t.Ack(3, false);
  ASSERT_EQ(o.size(), 1u);
  EXPECT_TRUE(o[0].confirmed);  // only the next ack was affected
}

TEST(PublishTracker, FailAllRestartsNumbering) {
  PublishTracker t;
  t.Track(1, "", "a", "x");
  t.Track(2, "", "a", "y");
  EXPECT_TRUE(t.IsOutstanding(2));
  std::vector<PublishOutcome> o = t.FailAll("channel closed");
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[1].reason, "channel closed");
  EXPECT_FALSE(t.IsOutstanding(2));
  EXPECT_EQ(t.Track(3, "", "a", "z"), 1u);
}

}  // namespace
}  // namespace wxpay
