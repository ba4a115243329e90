// What the loader learns while reading a file: the problems found (errors
// and warnings, each with its 1-based line and key) and where each key was
// written. Checks run after the tree walk use both.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wxpay {

class Diagnostics {
 public:
  void Error(int line, std::string key, std::string text);
  void Warning(int line, std::string key, std::string text);

  bool HasErrors() const { return !errors_.empty(); }

  // "FILE:LINE: KEY: text" (or "FILE:LINE: text" without a key), ordered by
  // line; problems on one line keep the order they were found in.
  std::vector<std::string> FormattedErrors(const std::string& file) const;
  std::vector<std::string> FormattedWarnings(const std::string& file) const;

 private:
  struct Entry {
    int line;
    std::string key;
    std::string text;
  };
  static std::vector<std::string> Format(const std::string& file, std::vector<Entry> entries);

  std::vector<Entry> errors_;
  std::vector<Entry> warnings_;
};

// Where keys were written, and which ones hold no usable value.
class KeyLocations {
 public:
  void SetLine(const std::string& key, int line) { lines_[key] = line; }
  // Lists: where each item was written.
  void SetItemLine(const std::string& key, std::size_t index, int line) { item_lines_[{key, index}] = line; }
  void MarkUnusable(const std::string& key) { unusable_.insert(key); }

  // Written in the file (sections included).
  bool Present(std::string_view key) const;
  // The line of the key; for a key left at its default, the line of its
  // nearest written section; 1 when none is written.
  int LineOf(std::string_view key) const;
  // False when the key, or a section holding it, failed to convert or is
  // missing though required: checks that need its value are skipped, so
  // one mistake is reported once.
  bool Usable(std::string_view key) const;
  // The line of item `index` of a list key; the key's line when unknown.
  int ItemLineOf(const std::string& key, std::size_t index) const;

 private:
  std::map<std::string, int, std::less<>> lines_;
  std::set<std::string, std::less<>> unusable_;
  std::map<std::pair<std::string, std::size_t>, int> item_lines_;
};

}  // namespace wxpay
