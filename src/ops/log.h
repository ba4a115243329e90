// Logging to stderr for journald (SPEC §7): every line starts with its
// sd-daemon priority prefix (<3> error, <4> warning, <6> info, <7> debug);
// under journald (JOURNAL_STREAM set) nothing else is prefixed, otherwise a
// timestamp follows. Newlines inside a message are escaped so one event is
// one line. Callers must never pass secrets.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace wxpay {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

class Logger {
 public:
  virtual ~Logger() = default;
  virtual void Log(LogLevel level, std::string_view message) = 0;
  virtual bool Enabled(LogLevel level) const = 0;

  void Debug(std::string_view m) { Log(LogLevel::kDebug, m); }
  void Info(std::string_view m) { Log(LogLevel::kInfo, m); }
  void Warning(std::string_view m) { Log(LogLevel::kWarning, m); }
  void Error(std::string_view m) { Log(LogLevel::kError, m); }
};

class StderrLogger final : public Logger {
 public:
  // journald: true when JOURNAL_STREAM is set (no timestamp prefix).
  StderrLogger(LogLevel level, bool journald);
  static bool UnderJournald();

  void Log(LogLevel level, std::string_view message) override;
  bool Enabled(LogLevel level) const override { return level >= level_.load(); }
  void SetLevel(LogLevel level) { level_.store(level); }  // log.level is reloadable

 private:
  std::atomic<LogLevel> level_;
  const bool journald_;
  std::mutex write_mu_;  // one write(2) per line keeps lines whole
};

// For tests: keeps every line.
class CapturingLogger final : public Logger {
 public:
  void Log(LogLevel level, std::string_view message) override;
  bool Enabled(LogLevel) const override { return true; }
  std::vector<std::string> Lines() const;  // "<prefix>message"
  bool Contains(std::string_view needle) const;

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

// "<6>", "<4>", ...
std::string_view PriorityPrefix(LogLevel level);
// Escapes \n, \r and other control characters as \n, \r, \xNN.
std::string EscapeForLog(std::string_view message);

}  // namespace wxpay
