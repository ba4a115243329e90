#include "daemon/daemon.h"

#include <signal.h>

#include "ops/atomic_file.h"

namespace wxpay {
namespace {

std::string Seconds(std::chrono::milliseconds d) { return std::to_string(d.count() / 1000) + " s"; }

}  // namespace

std::string RenderLoopMetrics(const DeliveryLoopStats& s) {
  std::string out;
  out += "# HELP wxpay_reconciler_outcome_events_failed_total Outcome events given up after retries "
         "(the change was committed; the shop sees it in its database).\n";
  out += "# TYPE wxpay_reconciler_outcome_events_failed_total counter\n";
  out += "wxpay_reconciler_outcome_events_failed_total " + std::to_string(s.events_failed) + "\n";
  out += "# HELP wxpay_reconciler_messages_held Deliveries received and not yet acknowledged.\n";
  out += "# TYPE wxpay_reconciler_messages_held gauge\n";
  out += "wxpay_reconciler_messages_held " + std::to_string(s.held) + "\n";
  out += "# HELP wxpay_reconciler_consuming 1 while the daemon consumes its queue, 0 while paused.\n";
  out += "# TYPE wxpay_reconciler_consuming gauge\n";
  out += std::string("wxpay_reconciler_consuming ") + (s.consuming ? "1" : "0") + "\n";
  return out;
}

Daemon::Daemon(DeliveryLoop& loop, SweepScheduler* sweeper, WorkerPool& workers, SignalSource& signals,
               Notifier& notifier, Health& health, Metrics& metrics, Logger& log, DaemonOptions options,
               std::function<void()> reload)
    : loop_(loop),
      sweeper_(sweeper),
      workers_(workers),
      signals_(signals),
      notifier_(notifier),
      health_(health),
      metrics_(metrics),
      log_(log),
      options_(std::move(options)),
      reload_(std::move(reload)) {}

DaemonExit Daemon::Run() {
  const auto start = SteadyClock::now();
  last_ping_ = start;
  next_metrics_ = start;
  while (true) {
    for (int signo = signals_.Take(); signo != 0; signo = signals_.Take()) {
      if (signo == SIGHUP) {
        OnReload();
        continue;
      }
      if (loop_.draining()) {
        log_.Warning("second stop signal: exiting now; unacknowledged messages go back to the queue");
        return DaemonExit{0, true};
      }
      OnStopSignal();
    }

    loop_.Step(options_.poll);
    if (sweeper_ != nullptr) sweeper_->Tick(loop_.ProcessingAllowed());
    const auto now = SteadyClock::now();

    if (loop_.draining()) {
      const bool sweeping = sweeper_ != nullptr && sweeper_->running();
      if (loop_.Drained() && !sweeping) {
        log_.Info("drained: every in-flight order finished; exiting");
        WriteMetrics();
        return DaemonExit{0, false};
      }
      if (now >= drain_deadline_) {
        const DeliveryLoopStats s = loop_.stats();
        log_.Warning("policy.drain_timeout (" + Seconds(options_.drain_timeout) + ") passed with " +
                     std::to_string(s.held) + " message(s) unacknowledged (" + std::to_string(s.processing) +
                     " order(s) still on workers); exiting, the broker redelivers them");
        loop_.ReleaseAll();
        WriteMetrics();
        return DaemonExit{0, s.processing > 0 || sweeping || workers_.running() > 0};
      }
    }
    RefreshStatus(now);
    if (now >= next_metrics_) {
      WriteMetrics();
      next_metrics_ = now + options_.metrics_interval;
    }
    PingWatchdog(now);
  }
}

void Daemon::OnStopSignal() {
  log_.Info("stop signal: draining (finishing in-flight orders within " + Seconds(options_.drain_timeout) + ")");
  notifier_.Stopping();
  health_.SetPhase(Phase::kDraining);
  drain_deadline_ = SteadyClock::now() + options_.drain_timeout;
  if (sweeper_ != nullptr) sweeper_->RequestStop();
  loop_.StartDrain();
  RefreshStatus(SteadyClock::now());
}

void Daemon::OnReload() {
  if (loop_.draining()) {
    log_.Info("reload requested while stopping: ignored");
    return;
  }
  notifier_.Reloading();
  health_.SetPhase(Phase::kReloading);
  if (reload_) reload_();
  health_.SetPhase(Phase::kConsuming);
  notifier_.Ready();
  last_status_.clear();  // resend STATUS after READY
  status_checked_at_ = {};
}

void Daemon::RefreshStatus(SteadyClock::time_point now) {
  // Counts change with every order: during a backlog drain they are worth one
  // message a second, not one per order; phase, errors and breakers go at once.
  constexpr std::chrono::seconds kCountsEvery{1};
  const uint64_t alerts = health_.alerts();
  if (alerts == status_alerts_ && now - status_checked_at_ < kCountsEvery) return;
  status_alerts_ = alerts;
  status_checked_at_ = now;
  std::string line = health_.StatusLine();
  if (line == last_status_ && now - last_status_at_ < options_.status_refresh) return;
  notifier_.Status(line);
  last_status_ = std::move(line);
  last_status_at_ = now;
}

void Daemon::WriteMetrics() {
  if (options_.metrics_textfile.empty()) return;
  Status s = ReplaceFileAtomically(options_.metrics_textfile, metrics_.Render() + RenderLoopMetrics(loop_.stats()));
  if (!s) {
    if (s.message() != last_metrics_error_) log_.Warning("metrics: " + s.message());
    last_metrics_error_ = s.message();
  } else {
    last_metrics_error_.clear();
  }
}

void Daemon::PingWatchdog(SteadyClock::time_point now) {
  const std::optional<std::chrono::microseconds> interval = notifier_.WatchdogInterval();
  if (!interval || now - last_ping_ < *interval) return;
  std::string stuck;
  if (auto since = workers_.OldestRunningSince(); since && now - *since > options_.stuck_worker) {
    stuck = "a worker has been busy on one task for more than " + Seconds(options_.stuck_worker);
  }
  if (sweeper_ != nullptr) {
    if (auto since = sweeper_->running_since();
        since && now - *since > sweeper_->max_pass() + options_.stuck_worker) {
      stuck = "the sweep pass has run far beyond sweeper.max_pass";
    }
  }
  if (!stuck.empty()) {
    if (!stuck_reported_) log_.Error(stuck + ": watchdog pings stopped, systemd will restart the daemon");
    stuck_reported_ = true;
    return;
  }
  if (stuck_reported_) log_.Info("workers make progress again: watchdog pings resumed");
  stuck_reported_ = false;
  notifier_.Watchdog();
  last_ping_ = now;
}

}  // namespace wxpay
