// Waiting for dependencies at start (SPEC §4, §7): a database or broker that
// is down when the daemon starts is retried in-process with backoff, with
// STATUS saying what is awaited and EXTEND_TIMEOUT_USEC keeping systemd's
// start timeout ahead of us, for at most policy.start_timeout. Restarting
// the unit instead would soon hit systemd's start rate limit.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "broker/backoff.h"
#include "daemon/signals.h"
#include "ops/dependency.h"
#include "ops/health.h"
#include "ops/log.h"
#include "ops/notifier.h"

namespace wxpay {

// One try at bringing a dependency up.
struct StartAttempt {
  enum class Kind { kOk, kRetry, kFatal };
  Kind kind = Kind::kOk;
  std::string error;  // kRetry, kFatal: what failed (no secrets)

  static StartAttempt Ok() { return {}; }
  static StartAttempt Retry(std::string error) { return {Kind::kRetry, std::move(error)}; }
  // A mistake no retry can fix (e.g. a wrong column mapping).
  static StartAttempt Fatal(std::string error) { return {Kind::kFatal, std::move(error)}; }
};

enum class StartOutcome { kReady, kTimedOut, kStopped, kFatal };

struct StartReport {
  StartOutcome outcome = StartOutcome::kReady;
  std::string error;  // the last error for kTimedOut and kFatal
};

class StartupWaiter {
 public:
  using SteadyClock = std::chrono::steady_clock;

  // All borrowed. The deadline is now + start_timeout, shared by every WaitFor.
  StartupWaiter(Notifier& notifier, Health& health, Logger& log, SignalSource& signals,
                std::chrono::milliseconds start_timeout,
                ReconnectPolicy backoff = {std::chrono::milliseconds(1000), std::chrono::milliseconds(15'000), 2.0});

  // Calls `attempt` until it succeeds, fails fatally, the deadline passes or
  // SIGTERM/SIGINT arrives (SIGHUP is ignored while starting).
  StartReport WaitFor(Dependency dependency, std::string_view what, const std::function<StartAttempt()>& attempt);

 private:
  Notifier& notifier_;
  Health& health_;
  Logger& log_;
  SignalSource& signals_;
  const std::chrono::milliseconds start_timeout_;
  const SteadyClock::time_point deadline_;
  const ReconnectPolicy backoff_;
};

}  // namespace wxpay
