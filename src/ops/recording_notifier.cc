#include "ops/recording_notifier.h"

namespace wxpay {

void RecordingNotifier::SetWatchdogInterval(std::optional<std::chrono::microseconds> interval) {
  std::lock_guard<std::mutex> lock(mu_);
  watchdog_interval_ = interval;
}

std::optional<std::chrono::microseconds> RecordingNotifier::WatchdogInterval() const {
  std::lock_guard<std::mutex> lock(mu_);
  return watchdog_interval_;
}

void RecordingNotifier::Send(const std::string& message) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    messages_.push_back(message);
  }
  changed_.notify_all();
}

std::vector<std::string> RecordingNotifier::Messages() const {
  std::lock_guard<std::mutex> lock(mu_);
  return messages_;
}

size_t RecordingNotifier::CountLocked(std::string_view prefix) const {
  size_t n = 0;
  for (const auto& m : messages_) {
    if (std::string_view(m).substr(0, prefix.size()) == prefix) ++n;
  }
  return n;
}

size_t RecordingNotifier::CountStartingWith(std::string_view prefix) const {
  std::lock_guard<std::mutex> lock(mu_);
  return CountLocked(prefix);
}

std::optional<std::string> RecordingNotifier::LastStartingWith(std::string_view prefix) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = messages_.rbegin(); it != messages_.rend(); ++it) {
    if (std::string_view(*it).substr(0, prefix.size()) == prefix) return *it;
  }
  return std::nullopt;
}

bool RecordingNotifier::WaitFor(std::string_view prefix, size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return CountLocked(prefix) >= count; });
}

}  // namespace wxpay
