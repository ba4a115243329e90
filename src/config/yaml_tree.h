// A YAML document as a plain tree that keeps what yaml-cpp's Node API loses:
// every mapping entry in file order (duplicates included), 1-based lines, and
// whether a scalar was quoted. Built from yaml-cpp's event parser so that the
// configuration checks can report every problem with its line.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace wxpay {

struct YamlNode {
  enum class Kind { kNull, kScalar, kSequence, kMapping };
  Kind kind = Kind::kNull;
  int line = 1;  // 1-based
  std::string text;    // kScalar
  bool quoted = false; // kScalar written '...' or "..." (or with an explicit tag)
  std::vector<YamlNode> items;                            // kSequence
  std::vector<std::pair<YamlNode, YamlNode>> entries;     // kMapping, in file order

  bool IsNull() const { return kind == Kind::kNull; }
  bool IsScalar() const { return kind == Kind::kScalar; }
  bool IsSequence() const { return kind == Kind::kSequence; }
  bool IsMapping() const { return kind == Kind::kMapping; }
};

// "a mapping", "a list", "an empty value", "\"text\"" — for error messages.
// `quote_scalar` false describes a scalar only as "a text value".
std::string DescribeNode(const YamlNode& node, bool quote_scalar = true);

struct YamlSyntaxError {
  int line = 1;  // 1-based
  std::string message;
};

// Parses exactly one document. An empty text gives a kNull root. Aliases are
// resolved by copying the anchored node. A second document is an error.
Result<YamlNode, YamlSyntaxError> ParseYaml(std::string_view text);

}  // namespace wxpay
