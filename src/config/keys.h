// The declaration table: every configuration key of SPEC §5, declared once
// with its type, default (or "required"), one-line doc, whether SIGHUP may
// change it, and where its value lives in `Config`. The loader, the reload
// logic and the sample-file test all work from this table; nothing else
// lists keys.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.h"

namespace wxpay {

enum class KeyType {
  kSection,       // a mapping of further keys
  kString,
  kInt,
  kBool,
  kDuration,      // "500ms", "30s", "5m", "1h", "1h30m"
  kDouble,
  kEnum,          // one of KeyDecl::allowed
  kStringOrList,  // "a" or [a, b]; held as a list
  kStringList,    // [a, b]
};

// A typed key value. kInt and kEnum use std::int64_t (kEnum: the index into
// KeyDecl::allowed, which lists the values in the order of the C++ enum).
using KeyValue =
    std::variant<std::string, std::int64_t, bool, Duration, double, std::vector<std::string>>;

struct KeyDecl {
  std::string name;  // dotted path, e.g. "rabbitmq.prefetch"
  KeyType type = KeyType::kString;
  std::string doc;   // one line
  bool required = false;
  std::string required_hint;  // required keys: what to write, e.g. "the shop's payment window, e.g. 15m"
  // Non-required leaves: the default as it would be written in the file
  // ("64", "30s", "\"\"", "[]"), parsed with the same rules as the file.
  std::string default_yaml;
  // The default as the documentation shows it; equals default_yaml except for
  // state_dir, whose default depends on the environment.
  std::string default_doc;
  bool reloadable = false;  // SPEC §5 (R): SIGHUP may change it
  bool secret = false;      // its value may hold a password: never quoted in messages
  std::vector<std::string> allowed;  // kEnum
  // kInt: allowed value range; kDuration: range in milliseconds.
  std::int64_t min = INT64_MIN;
  std::int64_t max = INT64_MAX;

  // Where the value lives in Config (absent for sections).
  std::function<void(Config&, const KeyValue&)> store;
  std::function<KeyValue(const Config&)> load;
  KeyValue default_value;  // default_yaml converted (non-required leaves only)

  bool IsSection() const { return type == KeyType::kSection; }
  bool HasStaticDefault() const { return !IsSection() && !required && !default_yaml.empty(); }
};

// Every key, parents before children, in the order of SPEC §5.
// Built once (thread-safe static); a default that does not parse is a bug and
// throws std::logic_error on first use.
const std::vector<KeyDecl>& ConfigKeys();

// nullptr when the name is not declared.
const KeyDecl* FindKey(std::string_view name);

// The keys directly inside `section` ("" = top level).
std::vector<const KeyDecl*> ChildKeys(std::string_view section);

// "rabbitmq.prefetch" -> "rabbitmq"; "" for a top-level key.
std::string_view ParentKey(std::string_view name);

// A value as the file would spell it: 64, 30s, text, [a, b], "" — for
// messages and the reload report. Never call it for a secret key.
std::string FormatKeyValue(const KeyDecl& decl, const KeyValue& value);

// The description of a type for messages: "an integer", "a duration", ...
std::string DescribeKeyType(const KeyDecl& decl);

// Where state_dir defaults to: the first path of $STATE_DIRECTORY (systemd's
// StateDirectory=) when set, else /var/lib/wxpay-reconciler.
inline constexpr std::string_view kDefaultStateDir = "/var/lib/wxpay-reconciler";

}  // namespace wxpay
