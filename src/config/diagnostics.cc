#include "config/diagnostics.h"

#include <algorithm>

#include "config/keys.h"

namespace wxpay {

void Diagnostics::Error(int line, std::string key, std::string text) {
  errors_.push_back(Entry{line, std::move(key), std::move(text)});
}

void Diagnostics::Warning(int line, std::string key, std::string text) {
  warnings_.push_back(Entry{line, std::move(key), std::move(text)});
}

std::vector<std::string> Diagnostics::FormattedErrors(const std::string& file) const {
  return Format(file, errors_);
}

std::vector<std::string> Diagnostics::FormattedWarnings(const std::string& file) const {
  return Format(file, warnings_);
}

std::vector<std::string> Diagnostics::Format(const std::string& file, std::vector<Entry> entries) {
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.line < b.line; });
  std::vector<std::string> out;
  out.reserve(entries.size());
  for (const Entry& entry : entries) {
    std::string line = file + ":" + std::to_string(entry.line) + ": ";
    if (!entry.key.empty()) line += entry.key + ": ";
    out.push_back(line + entry.text);
  }
  return out;
}

bool KeyLocations::Present(std::string_view key) const { return lines_.find(key) != lines_.end(); }

int KeyLocations::LineOf(std::string_view key) const {
  for (std::string_view k = key; !k.empty(); k = ParentKey(k)) {
    auto it = lines_.find(k);
    if (it != lines_.end()) return it->second;
  }
  return 1;
}

int KeyLocations::ItemLineOf(const std::string& key, std::size_t index) const {
  auto it = item_lines_.find({key, index});
  return it != item_lines_.end() ? it->second : LineOf(key);
}

bool KeyLocations::Usable(std::string_view key) const {
  for (std::string_view k = key; !k.empty(); k = ParentKey(k)) {
    if (unusable_.find(k) != unusable_.end()) return false;
  }
  return true;
}

}  // namespace wxpay
