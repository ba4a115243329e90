#include "core/wechat_breaker.h"

#include <algorithm>
#include <cmath>

#include "core/decision.h"

namespace wxpay {

WechatBreaker::WechatBreaker(WechatBreakerOptions options) : options_(options) {}

bool WechatBreaker::RecordCall(bool system_wide_failure, std::string_view reason, TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_.open) return false;
  window_.push_back(system_wide_failure);
  if (system_wide_failure) {
    ++failures_in_window_;
    last_failure_ = std::string(reason);
  }
  while (static_cast<int>(window_.size()) > std::max(options_.window, 1)) {
    if (window_.front()) --failures_in_window_;
    window_.pop_front();
  }
  const int samples = static_cast<int>(window_.size());
  if (samples >= options_.min_samples && failures_in_window_ >= std::max(options_.failures_to_open, 1)) {
    OpenLocked(now);
    return true;
  }
  return false;
}

void WechatBreaker::OpenLocked(TimePoint now) {
  state_.open = true;
  state_.reason = std::to_string(failures_in_window_) + " of the last " +
                  std::to_string(window_.size()) +
                  " WeChat Pay calls failed for reasons not tied to one order; last: " + last_failure_;
  state_.opened_at = now;
  state_.failed_probes = 0;
  state_.probe_delay = options_.probe_initial;
  state_.next_probe = now + state_.probe_delay;
}

bool WechatBreaker::open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_.open;
}

bool WechatBreaker::ProbeDue(TimePoint now) const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_.open && now >= state_.next_probe;
}

void WechatBreaker::RecordProbe(bool success, std::string_view reason, TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!state_.open) return;
  if (success) {
    state_ = WechatBreakerStatus{};
    window_.clear();
    failures_in_window_ = 0;
    last_failure_.clear();
    return;
  }
  ++state_.failed_probes;
  const double next_ms = static_cast<double>(state_.probe_delay.count()) *
                         std::max(options_.probe_multiplier, 1.0);
  const double cap_ms = static_cast<double>(options_.probe_max.count());
  state_.probe_delay = Millis(static_cast<Millis::rep>(std::llround(std::min(next_ms, cap_ms))));
  state_.next_probe = now + state_.probe_delay;
  if (!reason.empty()) {
    state_.reason = "probe " + std::to_string(state_.failed_probes) + " failed: " + std::string(reason);
  }
}

WechatBreakerStatus WechatBreaker::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  WechatBreakerStatus s = state_;
  if (!s.open) {
    s.recent_calls = static_cast<int>(window_.size());
    s.recent_failures = failures_in_window_;
  }
  return s;
}

bool FeedWechatBreaker(WechatBreaker& breaker, const Decision& decision, TimePoint now) {
  bool opened = false;
  for (const WechatCall& call : decision.calls) {
    const bool failure = !call.ok && call.system_wide;
    opened = breaker.RecordCall(failure, failure ? call.description : std::string_view(), now) || opened;
  }
  return opened;
}

}  // namespace wxpay
