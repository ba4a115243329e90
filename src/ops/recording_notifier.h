// A Notifier for tests: keeps every message it would have sent, in order, and
// lets a test await one without sleeping.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ops/notifier.h"

namespace wxpay {

class RecordingNotifier final : public Notifier {
 public:
  // The interval WatchdogInterval() reports (default: watchdog off).
  void SetWatchdogInterval(std::optional<std::chrono::microseconds> interval);
  std::optional<std::chrono::microseconds> WatchdogInterval() const override;

  std::vector<std::string> Messages() const;  // e.g. {"READY=1", "STATUS=consuming: …"}
  size_t CountStartingWith(std::string_view prefix) const;
  // The newest message starting with prefix, if any (e.g. the last "STATUS=").
  std::optional<std::string> LastStartingWith(std::string_view prefix) const;
  // Waits until at least `count` messages start with prefix; false on timeout.
  bool WaitFor(std::string_view prefix, size_t count, std::chrono::milliseconds timeout) const;

 protected:
  void Send(const std::string& message) override;

 private:
  size_t CountLocked(std::string_view prefix) const;  // REQUIRES: mu_ held

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::vector<std::string> messages_;
  std::optional<std::chrono::microseconds> watchdog_interval_;
};

}  // namespace wxpay
