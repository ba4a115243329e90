// A fake service manager for the service tests: an AF_UNIX datagram socket
// for $NOTIFY_SOCKET, read by a background thread that records every line
// of every notification with the time it arrived, so tests can check the
// order of READY=1, RELOADING=1, STOPPING=1 and the spacing of WATCHDOG=1.
// File descriptors passed along a message (BARRIER=1) are closed at once,
// as systemd does.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace wxpay::testing {

class NotifyLog {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;
  struct Line {
    SteadyTime at;     // when the datagram arrived
    size_t datagram;   // lines of one datagram share this number
    std::string text;  // e.g. "READY=1", "STATUS=consuming: ..."
  };

  // Binds `path` (which must not exist) and starts reading. Failures are
  // test failures.
  explicit NotifyLog(std::string path);
  ~NotifyLog();
  NotifyLog(const NotifyLog&) = delete;
  NotifyLog& operator=(const NotifyLog&) = delete;

  const std::string& path() const { return path_; }
  std::vector<Line> Lines() const;
  size_t size() const;

  // The index of the first line at or after `from` that satisfies `match`,
  // waiting up to `timeout` for it to arrive.
  std::optional<size_t> WaitFor(const std::function<bool(const std::string&)>& match,
                                std::chrono::milliseconds timeout, size_t from = 0) const;
  std::optional<size_t> WaitForLine(std::string_view line, std::chrono::milliseconds timeout, size_t from = 0) const;
  std::optional<size_t> WaitForPrefix(std::string_view prefix, std::chrono::milliseconds timeout,
                                      size_t from = 0) const;

  // Every line, one per row with its time relative to the first, for
  // assertion messages.
  std::string Dump() const;

 private:
  void Read();

  std::string path_;
  int fd_ = -1;
  mutable std::mutex mu_;
  std::vector<Line> lines_;  // guarded by mu_
  size_t datagrams_ = 0;     // reader thread only
  std::thread reader_;
  int stop_pipe_[2] = {-1, -1};
};

inline bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

}  // namespace wxpay::testing
