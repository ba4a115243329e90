#include "broker/field_table.h"

#include <cstdio>
#include <limits>
#include <utility>

namespace wxpay {

FieldValue FieldValue::Bool(bool v) {
  FieldValue f;
  f.kind = FieldKind::kBool;
  f.boolean = v;
  return f;
}

FieldValue FieldValue::Int32(int32_t v) {
  FieldValue f;
  f.kind = FieldKind::kI32;
  f.integer = v;
  return f;
}

FieldValue FieldValue::Int64(int64_t v) {
  FieldValue f;
  f.kind = FieldKind::kI64;
  f.integer = v;
  return f;
}

FieldValue FieldValue::SignedInt(int64_t v) {
  if (v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max()) {
    return Int32(static_cast<int32_t>(v));
  }
  return Int64(v);
}

FieldValue FieldValue::String(std::string v) {
  FieldValue f;
  f.kind = FieldKind::kLongString;
  f.bytes = std::move(v);
  return f;
}

FieldValue FieldValue::Timestamp(uint64_t seconds) {
  FieldValue f;
  f.kind = FieldKind::kTimestamp;
  f.unsigned_integer = seconds;
  return f;
}

FieldValue FieldValue::Table(std::vector<FieldEntry> entries) {
  FieldValue f;
  f.kind = FieldKind::kTable;
  f.table = std::move(entries);
  return f;
}

std::optional<int64_t> FieldValue::AsInteger() const {
  switch (kind) {
    case FieldKind::kI8:
    case FieldKind::kU8:
    case FieldKind::kI16:
    case FieldKind::kU16:
    case FieldKind::kI32:
    case FieldKind::kU32:
    case FieldKind::kI64:
      return integer;
    case FieldKind::kU64:
      if (unsigned_integer > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
      return static_cast<int64_t>(unsigned_integer);
    default:
      return std::nullopt;
  }
}

const std::string* FieldValue::AsString() const {
  if (kind == FieldKind::kLongString || kind == FieldKind::kBytes) return &bytes;
  return nullptr;
}

bool operator==(const FieldValue& a, const FieldValue& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case FieldKind::kBool:
      return a.boolean == b.boolean;
    case FieldKind::kI8:
    case FieldKind::kU8:
    case FieldKind::kI16:
    case FieldKind::kU16:
    case FieldKind::kI32:
    case FieldKind::kU32:
    case FieldKind::kI64:
      return a.integer == b.integer;
    case FieldKind::kU64:
    case FieldKind::kTimestamp:
      return a.unsigned_integer == b.unsigned_integer;
    case FieldKind::kF32:
    case FieldKind::kF64:
      return a.real == b.real;
    case FieldKind::kDecimal:
      return a.decimal_places == b.decimal_places && a.decimal_value == b.decimal_value;
    case FieldKind::kLongString:
    case FieldKind::kBytes:
      return a.bytes == b.bytes;
    case FieldKind::kTable:
      return a.table == b.table;
    case FieldKind::kArray:
      return a.array == b.array;
    case FieldKind::kVoid:
      return true;
  }
  return false;
}

bool operator==(const FieldEntry& a, const FieldEntry& b) { return a.key == b.key && a.value == b.value; }

const FieldValue* FindField(const FieldTable& table, std::string_view key) {
  for (const FieldEntry& e : table) {
    if (e.key == key) return &e.value;
  }
  return nullptr;
}

void UpsertField(FieldTable& table, std::string key, FieldValue value) {
  for (FieldEntry& e : table) {
    if (e.key == key) {
      e.value = std::move(value);
      return;
    }
  }
  table.push_back(FieldEntry{std::move(key), std::move(value)});
}

std::string_view FieldKindName(FieldKind kind) {
  switch (kind) {
    case FieldKind::kBool: return "bool";
    case FieldKind::kI8: return "signed byte";
    case FieldKind::kU8: return "unsigned byte";
    case FieldKind::kI16: return "signed short";
    case FieldKind::kU16: return "unsigned short";
    case FieldKind::kI32: return "signed int";
    case FieldKind::kU32: return "unsigned int";
    case FieldKind::kI64: return "signed long";
    case FieldKind::kU64: return "unsigned long";
    case FieldKind::kF32: return "float";
    case FieldKind::kF64: return "double";
    case FieldKind::kDecimal: return "decimal";
    case FieldKind::kLongString: return "string";
    case FieldKind::kBytes: return "bytes";
    case FieldKind::kArray: return "array";
    case FieldKind::kTimestamp: return "timestamp";
    case FieldKind::kTable: return "table";
    case FieldKind::kVoid: return "void";
  }
  return "unknown";
}

namespace {

void AppendQuoted(std::string& out, std::string_view s) {
  constexpr size_t kMaxShown = 64;
  out.push_back('"');
  for (size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (s.size() > kMaxShown) out += "...";
  out.push_back('"');
}

void AppendValue(std::string& out, const FieldValue& v);

void AppendTable(std::string& out, const FieldTable& t) {
  out.push_back('{');
  for (size_t i = 0; i < t.size(); ++i) {
    if (i) out += ", ";
    out += t[i].key;
    out.push_back('=');
    AppendValue(out, t[i].value);
  }
  out.push_back('}');
}

void AppendValue(std::string& out, const FieldValue& v) {
  switch (v.kind) {
    case FieldKind::kBool:
      out += v.boolean ? "true" : "false";
      break;
    case FieldKind::kLongString:
    case FieldKind::kBytes:
      AppendQuoted(out, v.bytes);
      break;
    case FieldKind::kTable:
      AppendTable(out, v.table);
      return;
    case FieldKind::kArray:
      out.push_back('[');
      for (size_t i = 0; i < v.array.size(); ++i) {
        if (i) out += ", ";
        AppendValue(out, v.array[i]);
      }
      out.push_back(']');
      return;
    case FieldKind::kVoid:
      out += "void";
      return;
    case FieldKind::kF32:
    case FieldKind::kF64:
      out += std::to_string(v.real);
      break;
    case FieldKind::kDecimal:
      out += std::to_string(v.decimal_value) + "e-" + std::to_string(v.decimal_places);
      break;
    case FieldKind::kU64:
    case FieldKind::kTimestamp:
      out += std::to_string(v.unsigned_integer);
      break;
    default:
      out += std::to_string(v.integer);
      break;
  }
  out += " (";
  out += FieldKindName(v.kind);
  out.push_back(')');
}

}  // namespace

std::string DescribeFieldTable(const FieldTable& table) {
  std::string out;
  AppendTable(out, table);
  return out;
}

}  // namespace wxpay
