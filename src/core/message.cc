#include "core/message.h"

#include <cstdint>
#include <optional>

#include "core/order.h"
#include "core/text.h"

namespace wxpay {
namespace {

constexpr int kMaxJsonDepth = 32;
constexpr std::string_view kOrderNoRule = "6-32 characters of [0-9A-Za-z_-|*]";

bool IsJavaSerialized(std::string_view body) {
  return body.size() >= 2 && static_cast<unsigned char>(body[0]) == 0xAC &&
         static_cast<unsigned char>(body[1]) == 0xED;
}

// A strict RFC 8259 reader for one object, keeping what the order field needs:
// its kind, its raw text (numbers) and its decoded value (strings). cJSON is
// not used because it parses numbers into doubles, which is exactly the loss
// of digits this check exists to refuse.
class JsonObjectReader {
 public:
  enum class Kind { kString, kNumber, kObject, kArray, kTrue, kFalse, kNull };

  struct Field {
    Kind kind = Kind::kNull;
    std::string decoded;    // kString
    std::string_view raw;   // kNumber
  };

  JsonObjectReader(std::string_view text, std::string_view wanted) : s_(text), wanted_(wanted) {}

  // On success: how often `wanted` occurred at top level, and its last value.
  Result<int> Read() {
    SkipWhitespace();
    if (!Consume('{')) return Err("a JSON object was expected");
    int found = 0;
    SkipWhitespace();
    if (!Consume('}')) {
      for (;;) {
        SkipWhitespace();
        std::string key;
        if (Peek() != '"') return Err("a member name (string) was expected");
        if (auto st = ReadString(&key); !st.ok()) return Error{st.message()};
        SkipWhitespace();
        if (!Consume(':')) return Err("':' was expected after a member name");
        SkipWhitespace();
        const bool is_wanted = key == wanted_;
        Field value;
        if (auto st = ReadValue(1, is_wanted ? &value : nullptr); !st.ok()) {
          return Error{st.message()};
        }
        if (is_wanted) {
          ++found;
          field_ = std::move(value);
        }
        SkipWhitespace();
        if (Consume(',')) continue;
        if (Consume('}')) break;
        return Err("',' or '}' was expected");
      }
    }
    SkipWhitespace();
    if (pos_ != s_.size()) return Err("unexpected data after the JSON object");
    return found;
  }

  const Field& field() const { return field_; }

 private:
  Error Err(std::string_view what) const {
    return Fail("message body is not valid JSON: " + std::string(what) + " at byte " +
                std::to_string(pos_));
  }
  Status ErrStatus(std::string_view what) const { return Err(what); }

  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  bool AtEnd() const { return pos_ >= s_.size(); }
  bool Consume(char c) {
    if (AtEnd() || s_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  void SkipWhitespace() {
    while (!AtEnd() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }

  // `out` null: validate and skip.
  Status ReadValue(int depth, Field* out) {
    if (depth > kMaxJsonDepth) return ErrStatus("nesting is too deep");
    const char c = Peek();
    if (c == '"') {
      std::string decoded;
      if (auto st = ReadString(&decoded); !st.ok()) return st;
      if (out) {
        out->kind = Kind::kString;
        out->decoded = std::move(decoded);
      }
      return Status::Ok();
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      const size_t start = pos_;
      if (auto st = ReadNumber(); !st.ok()) return st;
      if (out) {
        out->kind = Kind::kNumber;
        out->raw = s_.substr(start, pos_ - start);
      }
      return Status::Ok();
    }
    if (c == '{') {
      if (out) out->kind = Kind::kObject;
      return SkipObject(depth);
    }
    if (c == '[') {
      if (out) out->kind = Kind::kArray;
      return SkipArray(depth);
    }
    for (auto [word, kind] : {std::pair{std::string_view("true"), Kind::kTrue},
                              std::pair{std::string_view("false"), Kind::kFalse},
                              std::pair{std::string_view("null"), Kind::kNull}}) {
      if (s_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        if (out) out->kind = kind;
        return Status::Ok();
      }
    }
    return ErrStatus("a value was expected");
  }

  Status SkipObject(int depth) {
    Consume('{');
    SkipWhitespace();
    if (Consume('}')) return Status::Ok();
    for (;;) {
      SkipWhitespace();
      std::string key;
      if (Peek() != '"') return ErrStatus("a member name (string) was expected");
      if (auto st = ReadString(&key); !st.ok()) return st;
      SkipWhitespace();
      if (!Consume(':')) return ErrStatus("':' was expected after a member name");
      SkipWhitespace();
      if (auto st = ReadValue(depth + 1, nullptr); !st.ok()) return st;
      SkipWhitespace();
      if (Consume(',')) continue;
      if (Consume('}')) return Status::Ok();
      return ErrStatus("',' or '}' was expected");
    }
  }

  Status SkipArray(int depth) {
    Consume('[');
    SkipWhitespace();
    if (Consume(']')) return Status::Ok();
    for (;;) {
      SkipWhitespace();
      if (auto st = ReadValue(depth + 1, nullptr); !st.ok()) return st;
      SkipWhitespace();
      if (Consume(',')) continue;
      if (Consume(']')) return Status::Ok();
      return ErrStatus("',' or ']' was expected");
    }
  }

  Status ReadNumber() {
    Consume('-');
    if (Consume('0')) {
      // no leading zeros
    } else if (Peek() >= '1' && Peek() <= '9') {
      while (Peek() >= '0' && Peek() <= '9') ++pos_;
    } else {
      return ErrStatus("a digit was expected");
    }
    if (Consume('.')) {
      if (!(Peek() >= '0' && Peek() <= '9')) return ErrStatus("a digit was expected after '.'");
      while (Peek() >= '0' && Peek() <= '9') ++pos_;
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++pos_;
      if (Peek() == '+' || Peek() == '-') ++pos_;
      if (!(Peek() >= '0' && Peek() <= '9')) return ErrStatus("a digit was expected in the exponent");
      while (Peek() >= '0' && Peek() <= '9') ++pos_;
    }
    return Status::Ok();
  }

  std::optional<uint32_t> ReadHex4() {
    if (pos_ + 4 > s_.size()) return std::nullopt;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = s_[pos_ + i];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= static_cast<uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f') v |= static_cast<uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') v |= static_cast<uint32_t>(h - 'A' + 10);
      else return std::nullopt;
    }
    pos_ += 4;
    return v;
  }

  static void AppendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // Validates one raw UTF-8 sequence starting at pos_ and copies it.
  Status CopyUtf8Sequence(std::string& out) {
    const auto b = [&](size_t k) { return static_cast<unsigned char>(s_[pos_ + k]); };
    const unsigned char b0 = b(0);
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    } else {
      return ErrStatus("invalid UTF-8");
    }
    if (pos_ + len > s_.size() || b(1) < lo || b(1) > hi) return ErrStatus("invalid UTF-8");
    for (size_t k = 2; k < len; ++k) {
      if (b(k) < 0x80 || b(k) > 0xBF) return ErrStatus("invalid UTF-8");
    }
    out.append(s_.substr(pos_, len));
    pos_ += len;
    return Status::Ok();
  }

  Status ReadString(std::string* out) {
    Consume('"');
    for (;;) {
      if (AtEnd()) return ErrStatus("unterminated string");
      const unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return Status::Ok();
      }
      if (c < 0x20) return ErrStatus("control character inside a string");
      if (c >= 0x80) {
        if (auto st = CopyUtf8Sequence(*out); !st.ok()) return st;
        continue;
      }
      ++pos_;
      if (c != '\\') {
        *out += static_cast<char>(c);
        continue;
      }
      if (AtEnd()) return ErrStatus("unterminated escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"': *out += '"'; break;
        case '\\': *out += '\\'; break;
        case '/': *out += '/'; break;
        case 'b': *out += '\b'; break;
        case 'f': *out += '\f'; break;
        case 'n': *out += '\n'; break;
        case 'r': *out += '\r'; break;
        case 't': *out += '\t'; break;
        case 'u': {
          auto cp = ReadHex4();
          if (!cp) return ErrStatus("bad \\u escape");
          if (*cp >= 0xDC00 && *cp <= 0xDFFF) return ErrStatus("lone low surrogate in \\u escape");
          if (*cp >= 0xD800 && *cp <= 0xDBFF) {
            if (!(Consume('\\') && Consume('u'))) return ErrStatus("lone high surrogate in \\u escape");
            auto low = ReadHex4();
            if (!low || *low < 0xDC00 || *low > 0xDFFF) {
              return ErrStatus("lone high surrogate in \\u escape");
            }
            *cp = 0x10000 + ((*cp - 0xD800) << 10) + (*low - 0xDC00);
          }
          AppendUtf8(*out, *cp);
          break;
        }
        default:
          return ErrStatus("unknown escape in a string");
      }
    }
  }

  std::string_view s_;
  std::string_view wanted_;
  size_t pos_ = 0;
  Field field_;
};

std::string_view KindName(JsonObjectReader::Kind k) {
  switch (k) {
    case JsonObjectReader::Kind::kString: return "a string";
    case JsonObjectReader::Kind::kNumber: return "a number";
    case JsonObjectReader::Kind::kObject: return "an object";
    case JsonObjectReader::Kind::kArray: return "an array";
    case JsonObjectReader::Kind::kTrue:
    case JsonObjectReader::Kind::kFalse: return "a boolean";
    case JsonObjectReader::Kind::kNull: return "null";
  }
  return "a value";
}

Error NotAnOrderNo(std::string_view what, std::string_view value) {
  return Fail(std::string(what) + " is not an order number (" + std::string(kOrderNoRule) +
              "): " + std::to_string(value.size()) + " bytes \"" + PreviewBytes(value) + "\"");
}

Result<std::string> ParseText(std::string_view body) {
  if (IsValidOrderNo(body)) return std::string(body);
  Error e = NotAnOrderNo("message body", body);
  const char first = body.front();
  const char last = body.back();
  if (first == '{' || first == '"') {
    e.message += "; it looks like JSON: set rabbitmq.message.format: json, or publish the bare order number";
  } else if (last == '\n' || last == '\r' || last == ' ' || first == ' ') {
    e.message += "; the body must be the order number alone, without whitespace or a newline";
  }
  return e;
}

Result<std::string> ParseIntegerOrderNo(std::string_view raw, std::string_view field) {
  const std::string where = "JSON field \"" + std::string(field) + "\"";
  if (raw.front() == '-') return Fail(where + " is a negative number (" + std::string(raw) + ")");
  if (raw.find_first_of(".eE") != std::string_view::npos) {
    return Fail(where + " is not an integer (" + PreviewBytes(raw) +
                "): send the order number as a string or a plain integer");
  }
  const std::string_view max_text = "9007199254740991";
  if (raw.size() > max_text.size() || (raw.size() == max_text.size() && raw > max_text)) {
    return Fail(where + " is larger than 2^53-1 (9007199254740991): JSON parsers lose digits of such "
                "numbers; send the order number as a JSON string");
  }
  if (!IsValidOrderNo(raw)) return NotAnOrderNo(where, raw);
  return std::string(raw);
}

Result<std::string> ParseJson(std::string_view body, std::string_view field) {
  if (body.size() >= 3 && body.substr(0, 3) == "\xEF\xBB\xBF") {
    return Fail("message body starts with a UTF-8 byte order mark: publish plain JSON");
  }
  JsonObjectReader reader(body, field);
  auto found = reader.Read();
  if (!found.ok()) return found.error();
  const std::string where = "JSON field \"" + std::string(field) + "\"";
  if (*found == 0) return Fail("message body has no " + where + " (rabbitmq.message.json_field)");
  if (*found > 1) {
    return Fail("message body has " + where + " " + std::to_string(*found) +
                " times: ambiguous, refused");
  }
  const auto& value = reader.field();
  switch (value.kind) {
    case JsonObjectReader::Kind::kString:
      if (!IsValidOrderNo(value.decoded)) return NotAnOrderNo(where, value.decoded);
      return value.decoded;
    case JsonObjectReader::Kind::kNumber:
      return ParseIntegerOrderNo(value.raw, field);
    default:
      return Fail(where + " must be a string or an integer, not " + std::string(KindName(value.kind)));
  }
}

}  // namespace

Result<std::string> ParseOrderMessage(std::string_view body, const MessageOptions& options) {
  if (body.empty()) return Fail("message body is empty: expected an order number");
  if (IsJavaSerialized(body)) {
    return Fail("message body is a Java-serialized object (starts 0xAC 0xED): configure the "
                "publisher to send the order number as a String or use a JSON message converter");
  }
  if (body.size() > kMaxMessageBodyBytes) {
    return Fail("message body is too large (" + std::to_string(body.size()) + " bytes, limit " +
                std::to_string(kMaxMessageBodyBytes) + ")");
  }
  if (options.format == MessageFormat::kText) return ParseText(body);
  return ParseJson(body, options.json_field);
}

}  // namespace wxpay
