#include "daemon/startup.h"

#include <signal.h>

#include <algorithm>
#include <thread>

namespace wxpay {
namespace {

// Room for one more attempt (connect and RPC timeouts) after the wait.
constexpr std::chrono::milliseconds kAttemptAllowance{30'000};
constexpr std::chrono::milliseconds kSignalCheck{100};

std::string Seconds(std::chrono::milliseconds d) { return std::to_string((d.count() + 999) / 1000) + " s"; }

}  // namespace

StartupWaiter::StartupWaiter(Notifier& notifier, Health& health, Logger& log, SignalSource& signals,
                             std::chrono::milliseconds start_timeout, ReconnectPolicy backoff)
    : notifier_(notifier),
      health_(health),
      log_(log),
      signals_(signals),
      start_timeout_(start_timeout),
      deadline_(SteadyClock::now() + start_timeout),
      backoff_(backoff) {}

StartReport StartupWaiter::WaitFor(Dependency dependency, std::string_view what,
                                   const std::function<StartAttempt()>& attempt) {
  Backoff backoff(backoff_);
  std::string last_error;
  while (true) {
    StartAttempt a = attempt();
    if (a.kind == StartAttempt::Kind::kOk) {
      health_.DependencyUp(dependency);
      if (!last_error.empty()) log_.Info(std::string(what) + ": available");
      return {};
    }
    health_.DependencyDown(dependency, a.error, "waiting at start");
    if (a.kind == StartAttempt::Kind::kFatal) return {StartOutcome::kFatal, a.error};

    const auto now = SteadyClock::now();
    if (now >= deadline_) {
      return {StartOutcome::kTimedOut, a.error};
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - now);
    const std::chrono::milliseconds wait = std::min(backoff.Next(), left);
    if (a.error != last_error) {
      log_.Warning("starting: waiting for " + std::string(what) + ": " + a.error + "; retrying for up to " +
                   Seconds(left) + " more (policy.start_timeout " + Seconds(start_timeout_) + ")");
      last_error = a.error;
    }
    notifier_.Status("starting: waiting for " + std::string(what) + ": " + a.error);
    notifier_.ExtendTimeout(std::chrono::duration_cast<std::chrono::microseconds>(wait + kAttemptAllowance));

    const auto until = SteadyClock::now() + wait;
    while (SteadyClock::now() < until) {
      const int signo = signals_.Take();
      if (signo == SIGTERM || signo == SIGINT) return {StartOutcome::kStopped, a.error};
      if (signo == SIGHUP) log_.Info("reload requested while starting: ignored (the file is read at start)");
      const auto rest = std::chrono::duration_cast<std::chrono::milliseconds>(until - SteadyClock::now());
      std::this_thread::sleep_for(std::clamp(rest, std::chrono::milliseconds(0), kSignalCheck));
    }
  }
}

}  // namespace wxpay
