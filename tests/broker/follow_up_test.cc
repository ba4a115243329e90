#include "broker/follow_up.h"

#include <gtest/gtest.h>

namespace wxpay {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

RabbitConfig Config() {
  RabbitConfig c;
  c.queue = "order.expired";
  c.dead_letter_queue = "order.expired.dead";
  c.retry_exchange = "wxpay-reconciler.retry";
  return c;
}

Delivery ShopDelivery() {
  Delivery d;
  d.delivery_tag = 7;
  d.generation = 3;
  d.body = "ORD20240101000001";
  d.exchange = "order.delay";
  d.routing_key = "order.delay.wait";
  d.properties.content_type = "text/plain";
  d.properties.delivery_mode = kPersistentDeliveryMode;
  d.properties.message_id = "m-1";
  d.properties.timestamp = 1700000000;
  d.properties.headers = FieldTable{
      {"shop-trace", FieldValue::String("abc")},
      {kAttemptHeader, FieldValue::Int32(2)},
      {"x-death", [] {
         FieldValue v;
         v.kind = FieldKind::kArray;
         v.array.push_back(FieldValue::Table({{"count", FieldValue::Int64(1)},
                                              {"time", FieldValue::Timestamp(1700000001)}}));
         return v;
       }()},
  };
  return d;
}

TEST(FollowUp, DeadLetterCopiesBodyAndPropertiesAndMergesHeaders) {
  const Delivery d = ShopDelivery();
  const OutgoingMessage m =
      MakeDeadLetter(d, Config(), FollowUpHeaders{3, "unknown_order", "no such order", "2024-01-01T00:00:00+08:00"});
  EXPECT_EQ(m.exchange, "");
  EXPECT_EQ(m.routing_key, "order.expired.dead");
  EXPECT_TRUE(m.mandatory);
  EXPECT_EQ(m.body, d.body);
  EXPECT_EQ(m.properties.content_type, d.properties.content_type);
  EXPECT_EQ(m.properties.delivery_mode, d.properties.delivery_mode);
  EXPECT_EQ(m.properties.message_id, d.properties.message_id);
  EXPECT_EQ(m.properties.timestamp, d.properties.timestamp);
  EXPECT_FALSE(m.properties.expiration.has_value());

  ASSERT_TRUE(m.properties.headers.has_value());
  const FieldTable& h = *m.properties.headers;
  // Existing headers keep their place and kind; ours replace same-named ones.
  ASSERT_GE(h.size(), 6u);
  EXPECT_EQ(h[0].key, "shop-trace");
  EXPECT_EQ(h[1].key, kAttemptHeader);
  EXPECT_EQ(h[1].value, FieldValue::Int32(3));
  EXPECT_EQ(h[1].value.kind, FieldKind::kI32);
  EXPECT_EQ(h[2].key, "x-death");
  EXPECT_EQ(h[2].value, (*d.properties.headers)[2].value);
  EXPECT_EQ(*FindField(h, kReasonHeader), FieldValue::String("unknown_order"));
  EXPECT_EQ(*FindField(h, kErrorHeader), FieldValue::String("no such order"));
  EXPECT_EQ(*FindField(h, kFirstSeenHeader), FieldValue::String("2024-01-01T00:00:00+08:00"));
}

TEST(FollowUp, RescheduleGoesThroughTheRetryExchangeToTheRoundedUpTier) {
  const DelayTiers tiers = {seconds(1), seconds(10), seconds(30)};
  const OutgoingMessage m = MakeReschedule(ShopDelivery(), Config(), tiers, seconds(11), FollowUpHeaders{2, "", "", ""});
  EXPECT_EQ(m.exchange, "wxpay-reconciler.retry");
  EXPECT_EQ(m.routing_key, "order.expired.retry.30000");
  const FieldTable& h = *m.properties.headers;
  EXPECT_EQ(*FindField(h, kAttemptHeader), FieldValue::Int32(2));
  EXPECT_EQ(FindField(h, kReasonHeader), nullptr);  // reschedules have no reason
}

TEST(FollowUp, MessageWithoutHeadersGetsOnlyOurs) {
  Delivery d;
  d.body = "123456";
  const OutgoingMessage m = MakeDeadLetter(d, Config(), FollowUpHeaders{1, "invalid_message", "", ""});
  ASSERT_TRUE(m.properties.headers.has_value());
  EXPECT_EQ(m.properties.headers->size(), 2u);
  EXPECT_FALSE(m.properties.content_type.has_value());
  EXPECT_FALSE(m.properties.delivery_mode.has_value());
}

TEST(FollowUp, LongErrorsAreCutWithoutSplittingUtf8) {
  Delivery d;
  std::string error(kMaxFollowUpText - 1, 'e');
  error += "订单";  // 3-byte characters straddling the limit
  const OutgoingMessage m = MakeDeadLetter(d, Config(), FollowUpHeaders{1, "poison", error, ""});
  const std::string& cut = FindField(*m.properties.headers, kErrorHeader)->bytes;
  EXPECT_EQ(cut.size(), kMaxFollowUpText - 1);
  EXPECT_EQ(cut, std::string(kMaxFollowUpText - 1, 'e'));
}

TEST(FollowUp, ReadsWhatItWrote) {
  const OutgoingMessage m =
      MakeDeadLetter(ShopDelivery(), Config(), FollowUpHeaders{5, "refunded", "REFUND", "2024-01-01T00:00:00Z"});
  const FollowUpState s = ReadFollowUpHeaders(m.properties);
  EXPECT_EQ(s.attempt, 5);
  EXPECT_EQ(s.reason, "refunded");
  EXPECT_EQ(s.error, "REFUND");
  EXPECT_EQ(s.first_seen, "2024-01-01T00:00:00Z");
  EXPECT_EQ(s.problems, "");
}

TEST(FollowUp, ReadAcceptsAnyIntegerKindButRejectsNonsense) {
  MessageProperties p;
  FieldValue unsigned_attempt;
  unsigned_attempt.kind = FieldKind::kU8;
  unsigned_attempt.integer = 4;
  p.headers = FieldTable{{kAttemptHeader, unsigned_attempt}};
  EXPECT_EQ(ReadFollowUpHeaders(p).attempt, 4);

  p.headers = FieldTable{{kAttemptHeader, FieldValue::String("4")}, {kReasonHeader, FieldValue::Int32(1)}};
  FollowUpState s = ReadFollowUpHeaders(p);
  EXPECT_FALSE(s.attempt.has_value());
  EXPECT_FALSE(s.reason.has_value());
  EXPECT_NE(s.problems.find("x-wxpay-attempt is a string"), std::string::npos) << s.problems;
  EXPECT_NE(s.problems.find("x-wxpay-reason is a signed int"), std::string::npos) << s.problems;

  p.headers = FieldTable{{kAttemptHeader, FieldValue::Int64(0)}};
  s = ReadFollowUpHeaders(p);
  EXPECT_FALSE(s.attempt.has_value());
  EXPECT_NE(s.problems.find("outside"), std::string::npos);

  p.headers = FieldTable{{kAttemptHeader, FieldValue::Int64(int64_t{1} << 40)}};
  EXPECT_FALSE(ReadFollowUpHeaders(p).attempt.has_value());

  p.headers.reset();
  s = ReadFollowUpHeaders(p);
  EXPECT_FALSE(s.attempt.has_value());
  EXPECT_EQ(s.problems, "");
}

}  // namespace
}  // namespace wxpay
