// Checks that look at more than one value at a time, or outside the file
// (key files, password files, time zones), run after every key converted.
// A check whose inputs failed to convert is skipped (KeyLocations::Usable),
// so each mistake is reported once. Password files are read here into
// Config::*::password.
#pragma once

#include <string>
#include <string_view>

#include "config/config.h"
#include "config/diagnostics.h"

namespace wxpay {

class ConfigChecker {
 public:
  ConfigChecker(Config& config, const KeyLocations& where, Diagnostics& diag)
      : config_(config), where_(where), diag_(diag) {}

  void RunAll() {
    CheckBroker();
    CheckDatabase();
    CheckWechatPay();
    CheckPolicy();
    CheckPaths();
  }

 private:
  void CheckBroker();      // checks_broker.cc
  void CheckDatabase();    // checks_database.cc
  void CheckWechatPay();   // checks_wechatpay.cc
  void CheckPolicy();      // checks.cc
  void CheckPaths();       // checks.cc: state_dir, metrics.textfile

  // Helpers (checks.cc). `key` is the dotted key name for messages.
  bool Usable(std::string_view key) const { return where_.Usable(key); }
  bool UsableAll(std::initializer_list<std::string_view> keys) const;
  void Error(std::string_view key, std::string text);
  void ErrorAt(int line, std::string_view key, std::string text);
  void Warning(std::string_view key, std::string text);
  // Absolute path check; true when fine.
  bool CheckAbsolute(std::string_view key, const std::string& path, int line = 0);
  // Absolute, readable regular file; `secret`: warn when group/others can read it.
  // `line` 0: the key's line.
  void CheckFile(std::string_view key, const std::string& path, bool secret, int line = 0);
  // Reads a password file into `out`; errors name the key and path.
  void ReadPassword(std::string_view key, const std::string& path, std::string& out);
  // A queue or exchange name the daemon declares or publishes to.
  void CheckAmqpName(std::string_view key, const std::string& name);
  // [A-Za-z_][A-Za-z0-9_]*, or schema.table when `allow_schema`.
  void CheckIdentifier(std::string_view key, const std::string& name, bool allow_schema = false);
  // Merchant numbers are digits.
  void CheckMchid(std::string_view key, const std::string& value);
  void CheckBaseUrl(std::string_view key, std::string& url);

  Config& config_;
  const KeyLocations& where_;
  Diagnostics& diag_;
};

}  // namespace wxpay
