#include "ops/notifier.h"

#include <time.h>

#include <cstdio>

namespace wxpay {
namespace {

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), or 0.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto continuation = [&](size_t k) { return k < s.size() && (byte(k) & 0xC0) == 0x80; };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) return continuation(i + 1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (!continuation(i + 1) || !continuation(i + 2)) return 0;
    const unsigned char b1 = byte(i + 1);
    if (b0 == 0xE0 && b1 < 0xA0) return 0;  // overlong
    if (b0 == 0xED && b1 > 0x9F) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (!continuation(i + 1) || !continuation(i + 2) || !continuation(i + 3)) return 0;
    const unsigned char b1 = byte(i + 1);
    if (b0 == 0xF0 && b1 < 0x90) return 0;  // overlong
    if (b0 == 0xF4 && b1 > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

std::string HexEscape(unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", c);
  return buf;
}

}  // namespace

std::string SanitizeStatusLine(std::string_view line) {
  static constexpr std::string_view kEllipsis = "...";
  std::string out;
  out.reserve(line.size());
  size_t cut = 0;  // the last character boundary that leaves room for the ellipsis
  for (size_t i = 0; i < line.size();) {
    const unsigned char c = static_cast<unsigned char>(line[i]);
    size_t consumed = 1;
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f) {
      out += HexEscape(c);
    } else if (size_t n = Utf8SequenceLength(line, i); n > 0) {
      out.append(line.substr(i, n));
      consumed = n;
    } else {
      out += HexEscape(c);
    }
    i += consumed;
    if (out.size() <= kMaxStatusBytes - kEllipsis.size()) cut = out.size();
    if (out.size() > kMaxStatusBytes) break;
  }
  if (out.size() <= kMaxStatusBytes) return out;
  out.resize(cut);
  out += kEllipsis;
  return out;
}

void Notifier::Ready() { Send("READY=1"); }

void Notifier::Reloading() {
  // MONOTONIC_USEC is ignored by systemd 252 but required by Type=notify-reload
  // (v253+), so the same binary works if the unit is moved to a newer type.
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const unsigned long long usec =
      static_cast<unsigned long long>(ts.tv_sec) * 1000000ULL + static_cast<unsigned long long>(ts.tv_nsec) / 1000ULL;
  Send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void Notifier::Stopping() { Send("STOPPING=1"); }

void Notifier::Status(std::string_view line) { Send("STATUS=" + SanitizeStatusLine(line)); }

void Notifier::ExtendTimeout(std::chrono::microseconds extra) {
  const long long usec = extra.count() > 0 ? extra.count() : 0;
  Send("EXTEND_TIMEOUT_USEC=" + std::to_string(usec));
}

void Notifier::Watchdog() { Send("WATCHDOG=1"); }

}  // namespace wxpay
