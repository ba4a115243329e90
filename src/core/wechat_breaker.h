// The WeChat breaker policy (SPEC §3 "Breakers"): when most recent WeChat Pay
// calls fail for reasons not tied to one order (auth errors, SIGN_ERROR from
// clock skew, timestamp-window failures, connection errors, 5xx/429 storms),
// the daemon stops consuming, probes with backoff and resumes when a probe
// succeeds. This class is only the policy; the daemon owns the consuming,
// the probing call, STATUS and metrics.
//
// Opening: at least `failures_to_open` system-wide failures among the last
// `window` calls, once at least `min_samples` calls were seen. Any call that
// got an answer tied to the order (a trade, 404, ORDER_PAID, ...) is a success.
// While open, regular call results (stragglers in flight) are ignored: only a
// probe closes the breaker. Probes are due at opened_at + probe_initial, then
// each failed probe multiplies the delay (capped at probe_max).
//
// Thread-safe: one instance is shared by all workers.
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace wxpay {

struct Decision;

struct WechatBreakerOptions {
  int window = 20;
  int min_samples = 10;
  int failures_to_open = 10;
  Millis probe_initial{5'000};
  Millis probe_max{300'000};
  double probe_multiplier = 2.0;
};

struct WechatBreakerStatus {
  bool open = false;
  std::string reason;      // why it opened (the last failure, described); empty when closed
  TimePoint opened_at{};
  TimePoint next_probe{};  // when open
  Millis probe_delay{0};   // the delay that led to next_probe
  int failed_probes = 0;
  int recent_calls = 0;    // samples in the window (closed state)
  int recent_failures = 0; // system-wide failures in the window (closed state)
};

class WechatBreaker {
 public:
  explicit WechatBreaker(WechatBreakerOptions options = {});

  // One regular call's result. `reason` describes a failure (no secrets).
  // Returns true when this call opened the breaker (log the warning once).
  bool RecordCall(bool system_wide_failure, std::string_view reason, TimePoint now);

  bool open() const;
  // Open and the next probe's time has come.
  bool ProbeDue(TimePoint now) const;
  // The result of a probe made while open: success closes the breaker and
  // clears the window; failure schedules the next probe with a longer delay.
  void RecordProbe(bool success, std::string_view reason, TimePoint now);

  WechatBreakerStatus status() const;

 private:
  void OpenLocked(TimePoint now);  // REQUIRES: mu_ held

  const WechatBreakerOptions options_;
  mutable std::mutex mu_;
  std::deque<bool> window_;  // true = system-wide failure; guarded by mu_
  int failures_in_window_ = 0;
  std::string last_failure_;
  WechatBreakerStatus state_;  // guarded by mu_
};

// Feeds every WeChat Pay call a decision made into the breaker. Returns true
// when one of them opened it.
bool FeedWechatBreaker(WechatBreaker& breaker, const Decision& decision, TimePoint now);

}  // namespace wxpay
