#include "config/checks.h"

#include "config/duration.h"
#include "config/files.h"
#include "config/keys.h"

namespace wxpay {
namespace {

bool IsIdentStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }

bool IsPlainIdentifier(std::string_view name) {
  if (name.empty() || name.size() > 64 || !IsIdentStart(name.front())) return false;
  for (char c : name) {
    if (!IsIdentChar(c)) return false;
  }
  return true;
}

}  // namespace

bool ConfigChecker::UsableAll(std::initializer_list<std::string_view> keys) const {
  for (std::string_view key : keys) {
    if (!Usable(key)) return false;
  }
  return true;
}

void ConfigChecker::Error(std::string_view key, std::string text) {
  diag_.Error(where_.LineOf(key), std::string(key), std::move(text));
}

void ConfigChecker::ErrorAt(int line, std::string_view key, std::string text) {
  diag_.Error(line != 0 ? line : where_.LineOf(key), std::string(key), std::move(text));
}

void ConfigChecker::Warning(std::string_view key, std::string text) {
  diag_.Warning(where_.LineOf(key), std::string(key), std::move(text));
}

bool ConfigChecker::CheckAbsolute(std::string_view key, const std::string& path, int line) {
  if (!path.empty() && path.front() == '/') return true;
  ErrorAt(line, key, "\"" + path + "\" is not an absolute path; write the full path (the daemon runs in /)");
  return false;
}

void ConfigChecker::CheckFile(std::string_view key, const std::string& path, bool secret, int line) {
  if (!CheckAbsolute(key, path, line)) return;
  if (Status readable = CheckReadableFile(path); !readable) {
    ErrorAt(line, key, readable.message());
    return;
  }
  if (!secret) return;
  if (std::optional<std::string> mode = ReadableByOthers(path)) {
    Warning(key, path + " is readable by group or others (mode " + *mode +
                     "); make it private: chmod 600 " + path);
  }
}

void ConfigChecker::ReadPassword(std::string_view key, const std::string& path, std::string& out) {
  if (!CheckAbsolute(key, path)) return;
  Result<std::string> content = ReadSecretFile(path);
  if (!content) {
    Error(key, content.error().message);
    return;
  }
  out = std::move(content).value();
  if (std::optional<std::string> mode = ReadableByOthers(path)) {
    Warning(key, path + " is readable by group or others (mode " + *mode +
                     "); make it private: chmod 600 " + path);
  }
}

void ConfigChecker::CheckAmqpName(std::string_view key, const std::string& name) {
  if (name.empty()) {
    Error(key, "must not be empty");
    return;
  }
  if (name.size() > 255) {
    Error(key, "is longer than 255 bytes, the AMQP limit");
    return;
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      Error(key, "contains a control character");
      return;
    }
  }
  if (name.rfind("amq.", 0) == 0) {
    Error(key, "\"" + name + "\": names starting with amq. are reserved by RabbitMQ; choose another name");
  }
}

void ConfigChecker::CheckIdentifier(std::string_view key, const std::string& name, bool allow_schema) {
  if (name.empty()) {
    Error(key, "must not be empty");
    return;
  }
  bool ok = IsPlainIdentifier(name);
  if (!ok && allow_schema) {
    const std::size_t dot = name.find('.');
    ok = dot != std::string::npos && IsPlainIdentifier(std::string_view(name).substr(0, dot)) &&
         IsPlainIdentifier(std::string_view(name).substr(dot + 1));
  }
  if (ok) return;
  std::string text = "\"" + name + "\" is not a plain SQL identifier (letters, digits and _, not starting with a digit, at most 64";
  text += allow_schema ? "; schema.table is allowed)" : ")";
  Error(key, std::move(text));
}

void ConfigChecker::CheckMchid(std::string_view key, const std::string& value) {
  const bool digits = !value.empty() && value.size() <= 32 &&
                      value.find_first_not_of("0123456789") == std::string::npos;
  if (!digits) Error(key, "\"" + value + "\" is not a merchant number (digits only, e.g. 1900000001)");
}

void ConfigChecker::CheckPolicy() {
  const RetryPolicy& retry = config_.policy.retry;
  if (UsableAll({"policy.retry.initial", "policy.retry.max"}) && retry.initial > retry.max) {
    Error("policy.retry.initial",
          FormatDuration(retry.initial) + " is longer than policy.retry.max (" + FormatDuration(retry.max) +
              "); make initial the shorter one");
  }
  if (Usable("policy.retry.multiplier") && retry.multiplier < 1.0) {
    const KeyDecl* decl = FindKey("policy.retry.multiplier");
    Error("policy.retry.multiplier",
          "must be at least 1 (1 retries at a fixed interval), got " + FormatKeyValue(*decl, retry.multiplier));
  }
  if (Usable("policy.retry.multiplier") && retry.multiplier > 100.0) {
    const KeyDecl* decl = FindKey("policy.retry.multiplier");
    Error("policy.retry.multiplier", "must be at most 100, got " + FormatKeyValue(*decl, retry.multiplier));
  }
  if (UsableAll({"rabbitmq.prefetch", "policy.concurrency"}) &&
      config_.rabbitmq.prefetch < config_.policy.concurrency) {
    Warning("rabbitmq.prefetch", std::to_string(config_.rabbitmq.prefetch) + " is less than policy.concurrency (" +
                                     std::to_string(config_.policy.concurrency) +
                                     "), so some workers will idle; set prefetch to at least " +
                                     std::to_string(config_.policy.concurrency));
  }
}

void ConfigChecker::CheckPaths() {
  if (Usable("state_dir")) CheckAbsolute("state_dir", config_.state_dir);
  if (Usable("metrics.textfile") && !config_.metrics.textfile.empty()) {
    CheckAbsolute("metrics.textfile", config_.metrics.textfile);
  }
}

}  // namespace wxpay
