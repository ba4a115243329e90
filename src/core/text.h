// Small text helpers shared by the core's renderers and validators.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"

namespace wxpay {

// Appends `s` as a JSON string literal (quotes included). Control characters,
// quotes and backslashes are escaped; invalid UTF-8 bytes become U+FFFD so the
// output is always valid JSON.
void AppendJsonString(std::string& out, std::string_view s);

// A printable, bounded rendering of untrusted bytes for error messages:
// printable ASCII kept except \ and " (so the result can sit inside quotes),
// everything else as \xNN, cut after `max_bytes` input
// bytes with "..." appended.
std::string PreviewBytes(std::string_view bytes, size_t max_bytes = 40);

// "250ms", "30s", "1500ms": whole seconds as s, else ms.
std::string FormatMillis(Millis d);

}  // namespace wxpay
