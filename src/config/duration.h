// Durations as written in the configuration file: "500ms", "30s", "5m", "1h"
// and combinations from the largest unit down ("1h30m", "1m30s").
#pragma once

#include <string>
#include <string_view>

#include "config/config.h"
#include "core/result.h"

namespace wxpay {

// The longest duration accepted; anything longer is a typo (and would
// overflow arithmetic done on it later).
inline constexpr Duration kMaxConfigDuration = std::chrono::hours(87600);  // 10 years

// Errors say what is wrong with the text and how to write it; they quote the
// text, which callers must therefore never pass a secret.
Result<Duration> ParseDuration(std::string_view text);

// The canonical spelling: "1h30m", "1s500ms", "0s".
std::string FormatDuration(Duration d);

}  // namespace wxpay
