#include "broker/amqp_table.h"

#include <cstring>

namespace wxpay {
namespace {

constexpr size_t kPoolPageSize = 4096;

Result<amqp_field_value_t> ToAmqpValue(const FieldValue& v, AmqpPool& pool, int depth);

Status FillTable(const FieldTable& table, AmqpPool& pool, int depth, amqp_table_t& out) {
  out.num_entries = 0;
  out.entries = nullptr;
  if (table.empty()) return Status::Ok();
  if (depth > kMaxFieldDepth) return Fail("AMQP table nested deeper than " + std::to_string(kMaxFieldDepth));
  void* mem = amqp_pool_alloc(pool.get(), sizeof(amqp_table_entry_t) * table.size());
  if (mem == nullptr) return Fail("out of memory building an AMQP table");
  auto* entries = static_cast<amqp_table_entry_t*>(mem);
  for (size_t i = 0; i < table.size(); ++i) {
    Result<amqp_bytes_t> key = pool.Bytes(table[i].key);
    if (!key) return key.error();
    Result<amqp_field_value_t> value = ToAmqpValue(table[i].value, pool, depth + 1);
    if (!value) return value.error();
    entries[i].key = *key;
    entries[i].value = *value;
  }
  out.entries = entries;
  out.num_entries = static_cast<int>(table.size());
  return Status::Ok();
}

Result<amqp_field_value_t> ToAmqpValue(const FieldValue& v, AmqpPool& pool, int depth) {
  amqp_field_value_t out;
  std::memset(&out, 0, sizeof out);
  out.kind = static_cast<uint8_t>(v.kind);
  switch (v.kind) {
    case FieldKind::kBool: out.value.boolean = v.boolean ? 1 : 0; break;
    case FieldKind::kI8: out.value.i8 = static_cast<int8_t>(v.integer); break;
    case FieldKind::kU8: out.value.u8 = static_cast<uint8_t>(v.integer); break;
    case FieldKind::kI16: out.value.i16 = static_cast<int16_t>(v.integer); break;
    case FieldKind::kU16: out.value.u16 = static_cast<uint16_t>(v.integer); break;
    case FieldKind::kI32: out.value.i32 = static_cast<int32_t>(v.integer); break;
    case FieldKind::kU32: out.value.u32 = static_cast<uint32_t>(v.integer); break;
    case FieldKind::kI64: out.value.i64 = v.integer; break;
    case FieldKind::kU64:
    case FieldKind::kTimestamp: out.value.u64 = v.unsigned_integer; break;
    case FieldKind::kF32: out.value.f32 = static_cast<float>(v.real); break;
    case FieldKind::kF64: out.value.f64 = v.real; break;
    case FieldKind::kDecimal:
      out.value.decimal.decimals = v.decimal_places;
      out.value.decimal.value = v.decimal_value;
      break;
    case FieldKind::kLongString:
    case FieldKind::kBytes: {
      Result<amqp_bytes_t> b = pool.Bytes(v.bytes);
      if (!b) return b.error();
      out.value.bytes = *b;
      break;
    }
    case FieldKind::kTable: {
      Status s = FillTable(v.table, pool, depth, out.value.table);
      if (!s) return Fail(s.message());
      break;
    }
    case FieldKind::kArray: {
      out.value.array.num_entries = 0;
      out.value.array.entries = nullptr;
      if (v.array.empty()) break;
      if (depth > kMaxFieldDepth) return Fail("AMQP array nested deeper than " + std::to_string(kMaxFieldDepth));
      void* mem = amqp_pool_alloc(pool.get(), sizeof(amqp_field_value_t) * v.array.size());
      if (mem == nullptr) return Fail("out of memory building an AMQP array");
      auto* items = static_cast<amqp_field_value_t*>(mem);
      for (size_t i = 0; i < v.array.size(); ++i) {
        Result<amqp_field_value_t> item = ToAmqpValue(v.array[i], pool, depth + 1);
        if (!item) return item.error();
        items[i] = *item;
      }
      out.value.array.entries = items;
      out.value.array.num_entries = static_cast<int>(v.array.size());
      break;
    }
    case FieldKind::kVoid: break;
  }
  return out;
}

FieldValue FromAmqpValue(const amqp_field_value_t& v, int depth, std::string& problem);

FieldTable FromTable(const amqp_table_t& table, int depth, std::string& problem) {
  FieldTable out;
  if (table.num_entries <= 0 || table.entries == nullptr) return out;
  out.reserve(static_cast<size_t>(table.num_entries));
  for (int i = 0; i < table.num_entries; ++i) {
    const amqp_table_entry_t& e = table.entries[i];
    out.push_back(FieldEntry{ToString(e.key), FromAmqpValue(e.value, depth + 1, problem)});
  }
  return out;
}

FieldValue FromAmqpValue(const amqp_field_value_t& v, int depth, std::string& problem) {
  FieldValue out;
  out.kind = static_cast<FieldKind>(v.kind);
  switch (v.kind) {
    case AMQP_FIELD_KIND_BOOLEAN: out.boolean = v.value.boolean != 0; break;
    case AMQP_FIELD_KIND_I8: out.integer = v.value.i8; break;
    case AMQP_FIELD_KIND_U8: out.integer = v.value.u8; break;
    case AMQP_FIELD_KIND_I16: out.integer = v.value.i16; break;
    case AMQP_FIELD_KIND_U16: out.integer = v.value.u16; break;
    case AMQP_FIELD_KIND_I32: out.integer = v.value.i32; break;
    case AMQP_FIELD_KIND_U32: out.integer = v.value.u32; break;
    case AMQP_FIELD_KIND_I64: out.integer = v.value.i64; break;
    case AMQP_FIELD_KIND_U64:
    case AMQP_FIELD_KIND_TIMESTAMP: out.unsigned_integer = v.value.u64; break;
    case AMQP_FIELD_KIND_F32: out.real = v.value.f32; break;
    case AMQP_FIELD_KIND_F64: out.real = v.value.f64; break;
    case AMQP_FIELD_KIND_DECIMAL:
      out.decimal_places = v.value.decimal.decimals;
      out.decimal_value = v.value.decimal.value;
      break;
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES: out.bytes = ToString(v.value.bytes); break;
    case AMQP_FIELD_KIND_TABLE:
    case AMQP_FIELD_KIND_ARRAY:
      if (depth > kMaxFieldDepth) {
        problem = "headers nested deeper than " + std::to_string(kMaxFieldDepth) + " levels were cut";
        out.kind = FieldKind::kVoid;
        break;
      }
      if (v.kind == AMQP_FIELD_KIND_TABLE) {
        out.table = FromTable(v.value.table, depth, problem);
      } else if (v.value.array.num_entries > 0 && v.value.array.entries != nullptr) {
        out.array.reserve(static_cast<size_t>(v.value.array.num_entries));
        for (int i = 0; i < v.value.array.num_entries; ++i) {
          out.array.push_back(FromAmqpValue(v.value.array.entries[i], depth + 1, problem));
        }
      }
      break;
    case AMQP_FIELD_KIND_VOID: break;
    default:
      // librabbitmq fails to decode unknown kinds, so this is unreachable;
      // keep the copy well-formed anyway.
      problem = "a header of unknown kind was dropped";
      out.kind = FieldKind::kVoid;
      break;
  }
  return out;
}

Status SetText(const std::optional<std::string>& value, amqp_flags_t flag, AmqpPool& pool,
               amqp_basic_properties_t& out, amqp_bytes_t& field) {
  if (!value) return Status::Ok();
  Result<amqp_bytes_t> b = pool.Bytes(*value);
  if (!b) return b.error();
  field = *b;
  out._flags |= flag;
  return Status::Ok();
}

std::optional<std::string> GetText(const amqp_basic_properties_t& p, amqp_flags_t flag, amqp_bytes_t field) {
  if ((p._flags & flag) == 0) return std::nullopt;
  return ToString(field);
}

}  // namespace

AmqpPool::AmqpPool() { init_amqp_pool(&pool_, kPoolPageSize); }
AmqpPool::~AmqpPool() { empty_amqp_pool(&pool_); }

Result<amqp_bytes_t> AmqpPool::Bytes(const std::string& text) {
  amqp_bytes_t out{0, nullptr};
  if (text.empty()) return out;
  amqp_pool_alloc_bytes(&pool_, text.size(), &out);
  if (out.bytes == nullptr) return Fail("out of memory copying bytes for librabbitmq");
  std::memcpy(out.bytes, text.data(), text.size());
  return out;
}

std::string ToString(amqp_bytes_t bytes) {
  if (bytes.len == 0 || bytes.bytes == nullptr) return std::string();
  return std::string(static_cast<const char*>(bytes.bytes), bytes.len);
}

Result<amqp_table_t> ToAmqpTable(const FieldTable& table, AmqpPool& pool) {
  amqp_table_t out;
  Status s = FillTable(table, pool, 0, out);
  if (!s) return Fail(s.message());
  return out;
}

FieldTable FromAmqpTable(const amqp_table_t& table, std::string& problem) { return FromTable(table, 0, problem); }

Result<amqp_basic_properties_t> ToAmqpProperties(const MessageProperties& p, AmqpPool& pool) {
  amqp_basic_properties_t out;
  std::memset(&out, 0, sizeof out);
  for (Status s : {SetText(p.content_type, AMQP_BASIC_CONTENT_TYPE_FLAG, pool, out, out.content_type),
                   SetText(p.content_encoding, AMQP_BASIC_CONTENT_ENCODING_FLAG, pool, out, out.content_encoding),
                   SetText(p.correlation_id, AMQP_BASIC_CORRELATION_ID_FLAG, pool, out, out.correlation_id),
                   SetText(p.reply_to, AMQP_BASIC_REPLY_TO_FLAG, pool, out, out.reply_to),
                   SetText(p.expiration, AMQP_BASIC_EXPIRATION_FLAG, pool, out, out.expiration),
                   SetText(p.message_id, AMQP_BASIC_MESSAGE_ID_FLAG, pool, out, out.message_id),
                   SetText(p.type, AMQP_BASIC_TYPE_FLAG, pool, out, out.type),
                   SetText(p.user_id, AMQP_BASIC_USER_ID_FLAG, pool, out, out.user_id),
                   SetText(p.app_id, AMQP_BASIC_APP_ID_FLAG, pool, out, out.app_id),
                   SetText(p.cluster_id, AMQP_BASIC_CLUSTER_ID_FLAG, pool, out, out.cluster_id)}) {
    if (!s) return Fail(s.message());
  }
  if (p.headers) {
    Result<amqp_table_t> t = ToAmqpTable(*p.headers, pool);
    if (!t) return t.error();
    out.headers = *t;
    out._flags |= AMQP_BASIC_HEADERS_FLAG;
  }
  if (p.delivery_mode) {
    out.delivery_mode = *p.delivery_mode;
    out._flags |= AMQP_BASIC_DELIVERY_MODE_FLAG;
  }
  if (p.priority) {
    out.priority = *p.priority;
    out._flags |= AMQP_BASIC_PRIORITY_FLAG;
  }
  if (p.timestamp) {
    out.timestamp = *p.timestamp;
    out._flags |= AMQP_BASIC_TIMESTAMP_FLAG;
  }
  return out;
}

MessageProperties FromAmqpProperties(const amqp_basic_properties_t& p, std::string& problem) {
  MessageProperties out;
  out.content_type = GetText(p, AMQP_BASIC_CONTENT_TYPE_FLAG, p.content_type);
  out.content_encoding = GetText(p, AMQP_BASIC_CONTENT_ENCODING_FLAG, p.content_encoding);
  out.correlation_id = GetText(p, AMQP_BASIC_CORRELATION_ID_FLAG, p.correlation_id);
  out.reply_to = GetText(p, AMQP_BASIC_REPLY_TO_FLAG, p.reply_to);
  out.expiration = GetText(p, AMQP_BASIC_EXPIRATION_FLAG, p.expiration);
  out.message_id = GetText(p, AMQP_BASIC_MESSAGE_ID_FLAG, p.message_id);
  out.type = GetText(p, AMQP_BASIC_TYPE_FLAG, p.type);
  out.user_id = GetText(p, AMQP_BASIC_USER_ID_FLAG, p.user_id);
  out.app_id = GetText(p, AMQP_BASIC_APP_ID_FLAG, p.app_id);
  out.cluster_id = GetText(p, AMQP_BASIC_CLUSTER_ID_FLAG, p.cluster_id);
  if (p._flags & AMQP_BASIC_HEADERS_FLAG) out.headers = FromAmqpTable(p.headers, problem);
  if (p._flags & AMQP_BASIC_DELIVERY_MODE_FLAG) out.delivery_mode = p.delivery_mode;
  if (p._flags & AMQP_BASIC_PRIORITY_FLAG) out.priority = p.priority;
  if (p._flags & AMQP_BASIC_TIMESTAMP_FLAG) out.timestamp = p.timestamp;
  return out;
}

}  // namespace wxpay
