#include "broker/amqp_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "broker/follow_up.h"

namespace wxpay {
namespace {

// The bytes librabbitmq puts on the wire for `table`.
std::string Encode(const FieldTable& table) {
  AmqpPool pool;
  Result<amqp_table_t> t = ToAmqpTable(table, pool);
  EXPECT_TRUE(t.ok());
  std::vector<char> buffer(65536);
  size_t offset = 0;
  const int status = amqp_encode_table(amqp_bytes_t{buffer.size(), buffer.data()}, &*t, &offset);
  EXPECT_EQ(status, AMQP_STATUS_OK);
  return std::string(buffer.data(), offset);
}

// And back, through librabbitmq's decoder.
FieldTable Decode(const std::string& wire, std::string& problem) {
  AmqpPool pool;
  amqp_table_t t;
  size_t offset = 0;
  std::string copy = wire;
  const int status = amqp_decode_table(amqp_bytes_t{copy.size(), copy.data()}, pool.get(), &t, &offset);
  EXPECT_EQ(status, AMQP_STATUS_OK);
  return FromAmqpTable(t, problem);
}

FieldValue Of(FieldKind kind, int64_t integer) {
  FieldValue v;
  v.kind = kind;
  v.integer = integer;
  return v;
}

TEST(AmqpTable, FollowUpHeadersGoOutAsSignedIntAndLongString) {
  const std::string wire = Encode({{kAttemptHeader, FieldValue::Int32(3)}, {kReasonHeader, FieldValue::String("poison")}});
  // table length (4) | key length (1) | "x-wxpay-attempt" | kind | 4-byte value | ...
  const size_t attempt_kind_at = 4 + 1 + std::string(kAttemptHeader).size();
  ASSERT_GT(wire.size(), attempt_kind_at);
  EXPECT_EQ(wire[attempt_kind_at], 'I');
  const size_t reason_kind_at = attempt_kind_at + 1 + 4 + 1 + std::string(kReasonHeader).size();
  ASSERT_GT(wire.size(), reason_kind_at);
  EXPECT_EQ(wire[reason_kind_at], 'S');
}

TEST(AmqpTable, SignedIntPicksI32OrI64) {
  EXPECT_EQ(FieldValue::SignedInt(200).kind, FieldKind::kI32);
  EXPECT_EQ(FieldValue::SignedInt(int64_t{3'000'000'000}).kind, FieldKind::kI64);
  EXPECT_EQ(Encode({{"x-message-ttl", FieldValue::SignedInt(200)}})[4 + 1 + 13], 'I');
  EXPECT_EQ(Encode({{"x-message-ttl", FieldValue::SignedInt(int64_t{3'000'000'000})}})[4 + 1 + 13], 'l');
}

TEST(AmqpTable, EveryKindRoundTripsThroughTheWire) {
  FieldValue f32;
  f32.kind = FieldKind::kF32;
  f32.real = 1.5;
  FieldValue f64;
  f64.kind = FieldKind::kF64;
  f64.real = -2.25;
  FieldValue dec;
  dec.kind = FieldKind::kDecimal;
  dec.decimal_places = 2;
  dec.decimal_value = 12345;
  FieldValue u64;
  u64.kind = FieldKind::kU64;
  u64.unsigned_integer = 18'000'000'000'000'000'000u;
  FieldValue bytes;
  bytes.kind = FieldKind::kBytes;
  bytes.bytes = std::string("\0\x01\xff", 3);
  FieldValue array;
  array.kind = FieldKind::kArray;
  array.array = {FieldValue::String("a"), FieldValue::Int32(-1), FieldValue::Table({{"k", FieldValue::Bool(true)}})};
  FieldValue empty_array;
  empty_array.kind = FieldKind::kArray;
  FieldValue void_value;

  const FieldTable original = {
      {"bool", FieldValue::Bool(true)},
      {"i8", Of(FieldKind::kI8, -8)},
      {"u8", Of(FieldKind::kU8, 200)},
      {"i16", Of(FieldKind::kI16, -1600)},
      {"u16", Of(FieldKind::kU16, 60000)},
      {"i32", Of(FieldKind::kI32, -2'000'000'000)},
      {"u32", Of(FieldKind::kU32, 4'000'000'000)},
      {"i64", Of(FieldKind::kI64, -9'000'000'000'000)},
      {"u64", u64},
      {"f32", f32},
      {"f64", f64},
      {"decimal", dec},
      {"string", FieldValue::String("订单 \"quoted\"")},
      {"empty-string", FieldValue::String("")},
      {"bytes", bytes},
      {"timestamp", FieldValue::Timestamp(1'700'000'000)},
      {"table", FieldValue::Table({{"nested", FieldValue::Int64(1)}})},
      {"empty-table", FieldValue::Table({})},
      {"array", array},
      {"empty-array", empty_array},
      {"void", void_value},
  };
  std::string problem;
  const FieldTable decoded = Decode(Encode(original), problem);
  EXPECT_EQ(problem, "");
  ASSERT_EQ(decoded.size(), original.size());
  for (size_t i = 0; i < original.size(); ++i) {
    EXPECT_EQ(decoded[i], original[i]) << original[i].key;
  }
}

TEST(AmqpTable, DeepNestingIsCutAndReported) {
  FieldValue deep = FieldValue::Int32(1);
  for (int i = 0; i < kMaxFieldDepth + 5; ++i) deep = FieldValue::Table({{"n", deep}});
  // librabbitmq's own structures, nested deeper than we accept.
  AmqpPool pool;
  std::vector<amqp_table_entry_t> entries(kMaxFieldDepth + 5);
  amqp_table_t inner{0, nullptr};
  for (auto& e : entries) {
    e.key = amqp_cstring_bytes("n");
    e.value.kind = AMQP_FIELD_KIND_TABLE;
    e.value.value.table = inner;
    inner = amqp_table_t{1, &e};
  }
  std::string problem;
  const FieldTable copy = FromAmqpTable(inner, problem);
  EXPECT_NE(problem.find("nested deeper"), std::string::npos) << problem;
  ASSERT_EQ(copy.size(), 1u);
  // And our own too-deep tables are refused rather than half-built.
  EXPECT_FALSE(ToAmqpTable({{"deep", deep}}, pool).ok());
}

TEST(AmqpTable, PropertiesSetExactlyThePresentFlags) {
  MessageProperties p;
  p.content_type = "application/json";
  p.delivery_mode = kPersistentDeliveryMode;
  p.message_id = "";
  p.headers = FieldTable{{"h", FieldValue::String("v")}};
  AmqpPool pool;
  Result<amqp_basic_properties_t> c = ToAmqpProperties(p, pool);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->_flags, static_cast<amqp_flags_t>(AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
                                                  AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_HEADERS_FLAG));
  std::string problem;
  const MessageProperties back = FromAmqpProperties(*c, problem);
  EXPECT_EQ(back, p);
  EXPECT_TRUE(back.message_id.has_value());  // present-but-empty stays present
  EXPECT_FALSE(back.expiration.has_value());
}

TEST(AmqpTable, DescribeShowsKindsAndEscapes) {
  const std::string text = DescribeFieldTable(
      {{"x-message-ttl", FieldValue::Int32(200)}, {"x-dead-letter-exchange", FieldValue::String("a\"b\n")}});
  EXPECT_EQ(text, "{x-message-ttl=200 (signed int), x-dead-letter-exchange=\"a\\\"b\\x0a\" (string)}");
}

}  // namespace
}  // namespace wxpay
