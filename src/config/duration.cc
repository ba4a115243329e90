#include "config/duration.h"

#include <cstdint>

namespace wxpay {
namespace {

constexpr std::string_view kHowTo = "write e.g. 500ms, 30s, 5m, 1h or 1h30m";

struct Unit {
  std::string_view name;
  std::int64_t millis;
};
// Largest first: a combination must use them in this order, each once.
constexpr Unit kUnits[] = {{"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1}};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string Quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  if (text.empty()) return Fail(std::string("empty value; ") + std::string(kHowTo));
  if (text.front() == '-') {
    return Fail(Quoted(text) + " is negative; a duration must be 0 or more");
  }
  if (text == "0") return Duration{0};

  std::int64_t total = 0;
  std::size_t pos = 0;
  std::size_t next_unit = 0;  // index into kUnits of the largest unit still allowed
  bool any_unit = false;
  while (pos < text.size()) {
    const std::size_t digits_start = pos;
    while (pos < text.size() && IsDigit(text[pos])) ++pos;
    if (pos == digits_start) return Fail(Quoted(text) + " is not a duration; " + std::string(kHowTo));
    if (pos - digits_start > 12) {
      return Fail(Quoted(text) + " is too long (at most " + FormatDuration(kMaxConfigDuration) + ")");
    }
    std::int64_t number = 0;
    for (std::size_t i = digits_start; i < pos; ++i) number = number * 10 + (text[i] - '0');

    if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
      return Fail(Quoted(text) + " has a fraction; use whole numbers, e.g. 1h30m or 1s500ms");
    }
    const std::size_t unit_start = pos;
    while (pos < text.size() && !IsDigit(text[pos])) ++pos;
    const std::string_view unit_name = text.substr(unit_start, pos - unit_start);
    if (unit_name.empty()) {
      if (!any_unit && digits_start == 0) {
        return Fail(Quoted(text) + " has no unit; write e.g. " + std::string(text) +
                    "s (units: ms, s, m, h)");
      }
      return Fail(Quoted(text) + " is not a duration; " + std::string(kHowTo));
    }
    std::size_t unit_index = std::size(kUnits);
    for (std::size_t i = 0; i < std::size(kUnits); ++i) {
      if (kUnits[i].name == unit_name) unit_index = i;
    }
    if (unit_index == std::size(kUnits)) {
      return Fail(Quoted(text) + " is not a duration (unknown unit \"" + std::string(unit_name) +
                  "\"; units: ms, s, m, h); " + std::string(kHowTo));
    }
    if (unit_index < next_unit) {
      return Fail(Quoted(text) + ": write the units from largest to smallest, each once, e.g. 1h30m");
    }
    next_unit = unit_index + 1;
    any_unit = true;
    total += number * kUnits[unit_index].millis;
    if (total > kMaxConfigDuration.count()) {
      return Fail(Quoted(text) + " is too long (at most " + FormatDuration(kMaxConfigDuration) + ")");
    }
  }
  return Duration{total};
}

std::string FormatDuration(Duration d) {
  std::int64_t rest = d.count();
  if (rest == 0) return "0s";
  std::string out;
  if (rest < 0) {
    out = "-";
    rest = -rest;
  }
  for (const Unit& unit : kUnits) {
    if (rest >= unit.millis) {
      out += std::to_string(rest / unit.millis);
      out += unit.name;
      rest %= unit.millis;
    }
  }
  return out;
}

}  // namespace wxpay
