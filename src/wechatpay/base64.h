// Standard Base64 (RFC 4648 §4, padded): what WeChat Pay uses for signatures.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wxpay {

std::string Base64Encode(std::string_view bytes);

// Strict: only the standard alphabet, length a multiple of 4, '=' only as
// padding at the end. Anything else (e.g. "WECHATPAY/SIGNTEST/..." probes,
// URL-safe alphabet, whitespace) is nullopt, never an exception.
std::optional<std::string> Base64DecodeStrict(std::string_view text);

}  // namespace wxpay
