// Incoming delivery bodies (SPEC §6): every byte from the queue is validated
// here before it can reach SQL or a URL (invariant 6). A body that fails is
// dead-lettered `invalid_message` with the returned error as x-wxpay-error.
//
// text format: the body IS the order number, byte for byte. Nothing is
// trimmed, not even a trailing newline: the shop's publisher controls the
// body exactly, the follow-ups carry it unchanged, and a body with stray
// bytes is better refused (and seen) than silently reinterpreted.
//
// json format: the body is one JSON object (RFC 8259, UTF-8, no BOM) whose
// top-level member `json_field` holds the order number either as a string or
// as a non-negative integer no larger than 2^53-1 (larger numbers lose digits
// in JSON parsers). The field must appear exactly once; fractions, exponents,
// negative numbers and nested values are refused. Other members are ignored
// (but must be well-formed JSON).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.h"

namespace wxpay {

enum class MessageFormat { kText, kJson };

struct MessageOptions {
  MessageFormat format = MessageFormat::kText;
  std::string json_field = "orderNo";
};

// Bodies larger than this are refused before parsing (an order message is a
// few dozen bytes; the bound keeps a hostile publisher from costing CPU).
inline constexpr size_t kMaxMessageBodyBytes = 64 * 1024;

// JSON integers above this lose precision in IEEE doubles: 2^53 - 1.
inline constexpr long long kMaxJsonSafeInteger = 9007199254740991LL;

// The validated order number carried by `body`, or an error saying what is
// wrong with it (no more than a short escaped preview of the body).
Result<std::string> ParseOrderMessage(std::string_view body, const MessageOptions& options);

}  // namespace wxpay
