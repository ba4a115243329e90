// AMQP field tables (message headers, queue arguments, client properties) as
// owned C++ values. Every value keeps its exact AMQP kind, so that headers
// read from a delivery are published again unchanged (SPEC §6: follow-ups
// carry the original properties), and so that the daemon's own integers go
// out as *signed* kinds: RabbitMQ refuses or misreads unsigned ones.
//
// No librabbitmq types here (see amqp_table.h for the conversions).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wxpay {

// The wire tags RabbitMQ (and librabbitmq) use; see amqp.h.
enum class FieldKind : char {
  kBool = 't',
  kI8 = 'b',
  kU8 = 'B',
  kI16 = 's',
  kU16 = 'u',
  kI32 = 'I',
  kU32 = 'i',
  kI64 = 'l',
  kU64 = 'L',
  kF32 = 'f',
  kF64 = 'd',
  kDecimal = 'D',
  kLongString = 'S',
  kBytes = 'x',
  kArray = 'A',
  kTimestamp = 'T',
  kTable = 'F',
  kVoid = 'V',
};

struct FieldEntry;

// One field value. Only the member matching `kind` is meaningful:
//   kBool: boolean; kI8..kI64 and kU8..kU32: integer; kU64, kTimestamp:
//   unsigned_integer; kF32/kF64: real; kDecimal: decimal_places and
//   decimal_value; kLongString/kBytes: bytes; kTable: table; kArray: array.
struct FieldValue {
  FieldKind kind = FieldKind::kVoid;
  bool boolean = false;
  int64_t integer = 0;
  uint64_t unsigned_integer = 0;
  double real = 0;
  uint8_t decimal_places = 0;
  uint32_t decimal_value = 0;
  std::string bytes;
  std::vector<FieldEntry> table;
  std::vector<FieldValue> array;

  static FieldValue Bool(bool v);
  static FieldValue Int32(int32_t v);
  static FieldValue Int64(int64_t v);
  // The smallest signed kind holding v: I32 when it fits, else I64.
  static FieldValue SignedInt(int64_t v);
  static FieldValue String(std::string v);  // longstr ('S')
  static FieldValue Timestamp(uint64_t seconds);
  static FieldValue Table(std::vector<FieldEntry> entries);

  // The value of any integer kind (signed or unsigned) that fits in int64.
  std::optional<int64_t> AsInteger() const;
  // The bytes of a longstr or byte-array value.
  const std::string* AsString() const;
};

struct FieldEntry {
  std::string key;
  FieldValue value;
};

// Entries keep their order; keys are unique (Upsert keeps them so).
using FieldTable = std::vector<FieldEntry>;

bool operator==(const FieldValue& a, const FieldValue& b);
bool operator==(const FieldEntry& a, const FieldEntry& b);

const FieldValue* FindField(const FieldTable& table, std::string_view key);
// Replaces the value of `key` where it stands, or appends it.
void UpsertField(FieldTable& table, std::string key, FieldValue value);

// Human-readable, for error messages: {x-message-ttl=200 (signed int),
// x-dead-letter-exchange="" (string)}. String values are shown escaped and
// cut after 64 bytes; never pass a table holding secrets.
std::string DescribeFieldTable(const FieldTable& table);
std::string_view FieldKindName(FieldKind kind);

}  // namespace wxpay
