#include "ops/log.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace wxpay {

std::string_view PriorityPrefix(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "<7>";
    case LogLevel::kInfo: return "<6>";
    case LogLevel::kWarning: return "<4>";
    case LogLevel::kError: return "<3>";
  }
  return "<6>";
}

std::string EscapeForLog(std::string_view message) {
  std::string out;
  out.reserve(message.size());
  for (unsigned char c : message) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

StderrLogger::StderrLogger(LogLevel level, bool journald) : level_(level), journald_(journald) {}

bool StderrLogger::UnderJournald() {
  const char* s = std::getenv("JOURNAL_STREAM");
  return s != nullptr && *s != '\0';
}

void StderrLogger::Log(LogLevel level, std::string_view message) {
  if (!Enabled(level)) return;
  std::string line(PriorityPrefix(level));
  if (!journald_) {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    tm local{};
    localtime_r(&ts.tv_sec, &local);
    char buf[48];
    size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &local);
    std::snprintf(buf + n, sizeof buf - n, ".%03ld ", ts.tv_nsec / 1000000);
    line += buf;
  }
  line += EscapeForLog(message);
  line += '\n';
  std::lock_guard<std::mutex> lock(write_mu_);
  size_t off = 0;
  while (off < line.size()) {
    ssize_t w = ::write(STDERR_FILENO, line.data() + off, line.size() - off);
    if (w <= 0) break;  // nowhere left to report a failed log write
    off += static_cast<size_t>(w);
  }
}

void CapturingLogger::Log(LogLevel level, std::string_view message) {
  std::lock_guard<std::mutex> lock(mu_);
  lines_.push_back(std::string(PriorityPrefix(level)) + EscapeForLog(message));
}

std::vector<std::string> CapturingLogger::Lines() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lines_;
}

bool CapturingLogger::Contains(std::string_view needle) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& l : lines_) {
    if (l.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace wxpay
