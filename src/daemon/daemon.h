// The daemon's main loop (SPEC §7), on the thread that owns the broker:
//   signals   SIGTERM/SIGINT: STOPPING=1, stop consuming, finish in-flight
//             orders within drain_timeout, exit 0; a second one exits at once.
//             SIGHUP: RELOADING=1, the reload callback, READY=1.
//   the delivery loop's Step (broker events, results, timers),
//   the sweeper's Tick,
//   STATUS= whenever the health line changes (and every 30 s),
//   the metrics textfile every 10 s,
//   WATCHDOG=1 at the interval systemd asks for, but only while the loop turns
//             and no worker (or sweep pass) has been stuck past a generous
//             bound: a hung worker must get the daemon restarted.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "daemon/delivery_loop.h"
#include "daemon/signals.h"
#include "daemon/sweep_scheduler.h"
#include "daemon/worker_pool.h"
#include "ops/health.h"
#include "ops/log.h"
#include "ops/metrics.h"
#include "ops/notifier.h"

namespace wxpay {

struct DaemonOptions {
  std::chrono::milliseconds poll{50};  // the broker poll; bounds result and signal latency
  std::chrono::milliseconds status_refresh{30'000};
  std::chrono::milliseconds metrics_interval{10'000};
  // A task running longer than this stops the watchdog pings. One order takes
  // at most three WeChat Pay calls and two statements, each bounded by its
  // timeout, plus the rate limiter's wait: minutes would already be absurd.
  std::chrono::milliseconds stuck_worker{300'000};
  std::chrono::milliseconds drain_timeout{10'000};
  std::string metrics_textfile;  // empty: none
};

struct DaemonExit {
  int code = 0;
  // Workers may still be busy (drain timeout, second signal): the caller
  // should end the process without waiting for them (std::_Exit). The broker
  // redelivers whatever was not acknowledged.
  bool abandon = false;
};

class Daemon {
 public:
  using SteadyClock = std::chrono::steady_clock;

  // All borrowed. `sweeper` may be null. `reload` runs on SIGHUP between
  // RELOADING=1 and READY=1.
  Daemon(DeliveryLoop& loop, SweepScheduler* sweeper, WorkerPool& workers, SignalSource& signals, Notifier& notifier,
         Health& health, Metrics& metrics, Logger& log, DaemonOptions options, std::function<void()> reload);

  DaemonExit Run();

  // SIGHUP: metrics.textfile is reloadable.
  void SetMetricsTextfile(std::string path) { options_.metrics_textfile = std::move(path); }
  // Writes the metrics textfile now (when configured).
  void WriteMetrics();

 private:
  void OnStopSignal();
  void OnReload();
  void RefreshStatus(SteadyClock::time_point now);
  void PingWatchdog(SteadyClock::time_point now);

  DeliveryLoop& loop_;
  SweepScheduler* sweeper_;
  WorkerPool& workers_;
  SignalSource& signals_;
  Notifier& notifier_;
  Health& health_;
  Metrics& metrics_;
  Logger& log_;
  DaemonOptions options_;
  std::function<void()> reload_;

  SteadyClock::time_point drain_deadline_{};
  SteadyClock::time_point next_metrics_{};
  SteadyClock::time_point last_status_at_{};
  std::string last_status_;
  uint64_t status_alerts_ = 0;  // Health::alerts() when the status was last rendered
  SteadyClock::time_point status_checked_at_{};
  SteadyClock::time_point last_ping_{};
  bool stuck_reported_ = false;
  std::string last_metrics_error_;
};

// The daemon's own series that the shared registry does not hold, in the
// text format, appended to Metrics::Render().
std::string RenderLoopMetrics(const DeliveryLoopStats& stats);

}  // namespace wxpay
