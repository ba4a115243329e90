#include "config/convert.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "config/duration.h"

namespace wxpay {
namespace {

using Problem = std::optional<ValueError>;

ValueError At(int line, std::string message) { return ValueError{line, std::move(message)}; }

std::string Got(const KeyDecl& decl, const YamlNode& node) { return DescribeNode(node, !decl.secret); }

std::string Quote(const KeyDecl& decl, const std::string& text) {
  if (decl.secret) return "the value";
  YamlNode node;
  node.kind = YamlNode::Kind::kScalar;
  node.text = text;
  return DescribeNode(node);
}

Problem ExpandScalar(const YamlNode& node, const EnvLookup& env, int line, std::string& out) {
  Result<std::string> expanded = ExpandEnv(node.text, env);
  if (!expanded) return At(line, expanded.error().message);
  out = std::move(expanded).value();
  return std::nullopt;
}

Problem ToInt(const KeyDecl& decl, const std::string& text, KeyValue& out) {
  std::size_t pos = 0;
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    pos = 1;
  }
  const bool digits_only = pos < text.size() && text.size() - pos <= 12 &&
                           text.find_first_not_of("0123456789", pos) == std::string::npos;
  if (!digits_only) return At(0, "expected an integer, got " + Quote(decl, text));
  std::int64_t value = 0;
  for (std::size_t i = pos; i < text.size(); ++i) value = value * 10 + (text[i] - '0');
  if (negative) value = -value;
  if (value < decl.min || value > decl.max) {
    if (decl.max == INT64_MAX) {
      return At(0, "must be at least " + std::to_string(decl.min) + ", got " + text);
    }
    return At(0, "must be between " + std::to_string(decl.min) + " and " + std::to_string(decl.max) +
                     ", got " + text);
  }
  out = value;
  return std::nullopt;
}

Problem ToDuration(const KeyDecl& decl, const std::string& text, KeyValue& out) {
  Result<Duration> parsed = ParseDuration(text);
  if (!parsed) return At(0, parsed.error().message);
  const Duration value = *parsed;
  if (value.count() < decl.min) {
    if (decl.min == 1) return At(0, "must be more than 0, got " + text);
    return At(0, "must be at least " + FormatDuration(Duration{decl.min}) + ", got " + text);
  }
  if (value.count() > decl.max) {
    return At(0, "must be at most " + FormatDuration(Duration{decl.max}) + ", got " + text);
  }
  out = value;
  return std::nullopt;
}

Problem ToBool(const KeyDecl& decl, const std::string& text, KeyValue& out) {
  if (text == "true" || text == "True" || text == "TRUE") {
    out = true;
  } else if (text == "false" || text == "False" || text == "FALSE") {
    out = false;
  } else {
    return At(0, "expected true or false, got " + Quote(decl, text));
  }
  return std::nullopt;
}

Problem ToDouble(const KeyDecl& decl, const std::string& text, KeyValue& out) {
  const bool plausible = !text.empty() && text.find_first_not_of("0123456789.+-eE") == std::string::npos;
  if (plausible) {
    errno = 0;
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (end == text.c_str() + text.size() && errno == 0 && std::isfinite(value)) {
      out = value;
      return std::nullopt;
    }
  }
  return At(0, "expected a number, got " + Quote(decl, text));
}

Problem ToEnum(const KeyDecl& decl, const std::string& text, KeyValue& out) {
  for (std::size_t i = 0; i < decl.allowed.size(); ++i) {
    if (decl.allowed[i] == text) {
      out = static_cast<std::int64_t>(i);
      return std::nullopt;
    }
  }
  return At(0, "expected " + DescribeKeyType(decl) + ", got " + Quote(decl, text));
}

Problem ToList(const KeyDecl& decl, const YamlNode& node, const EnvLookup& env, KeyValue& out) {
  std::vector<std::string> items;
  for (const YamlNode& item : node.items) {
    if (!item.IsScalar()) {
      return At(item.line, "expected a list of text values, but an item is " + Got(decl, item));
    }
    std::string text;
    if (Problem problem = ExpandScalar(item, env, item.line, text)) return problem;
    items.push_back(std::move(text));
  }
  out = std::move(items);
  return std::nullopt;
}

}  // namespace

std::optional<ValueError> ConvertValue(const KeyDecl& decl, const YamlNode& node, const EnvLookup& env,
                                       KeyValue& out) {
  switch (decl.type) {
    case KeyType::kSection:
      return At(0, "is a section, not a value");
    case KeyType::kStringOrList:
      if (node.IsNull()) {
        out = std::vector<std::string>{};
        return std::nullopt;
      }
      if (node.IsSequence()) return ToList(decl, node, env, out);
      if (node.IsScalar()) {
        std::string text;
        if (Problem problem = ExpandScalar(node, env, 0, text)) return problem;
        out = text.empty() ? std::vector<std::string>{} : std::vector<std::string>{std::move(text)};
        return std::nullopt;
      }
      return At(0, "expected a text value or a list of them, got " + Got(decl, node));
    case KeyType::kStringList:
      if (node.IsNull()) {
        out = std::vector<std::string>{};
        return std::nullopt;
      }
      if (node.IsSequence()) return ToList(decl, node, env, out);
      if (node.IsScalar() && node.text.empty()) {
        return At(0, "expected a list, got \"\" (write [] for an empty list)");
      }
      if (node.IsScalar()) {
        return At(0, "expected a list, got " + Got(decl, node) + " (write [" + node.text + "] for a list of one)");
      }
      return At(0, "expected a list, got " + Got(decl, node));
    case KeyType::kString:
      if (node.IsNull()) {
        out = std::string();
        return std::nullopt;
      }
      break;
    default:
      break;
  }
  if (!node.IsScalar()) return At(0, "expected " + DescribeKeyType(decl) + ", got " + Got(decl, node));
  std::string text;
  if (Problem problem = ExpandScalar(node, env, 0, text)) return problem;
  switch (decl.type) {
    case KeyType::kString:
      out = std::move(text);
      return std::nullopt;
    case KeyType::kInt: return ToInt(decl, text, out);
    case KeyType::kBool: return ToBool(decl, text, out);
    case KeyType::kDuration: return ToDuration(decl, text, out);
    case KeyType::kDouble: return ToDouble(decl, text, out);
    case KeyType::kEnum: return ToEnum(decl, text, out);
    default: break;
  }
  return At(0, "internal error: unhandled key type");
}

}  // namespace wxpay
