#pragma once

namespace wxpay {
// The one place the version is written: --version and the User-Agent.
inline constexpr const char* kVersion = "0.1.0";
}  // namespace wxpay
