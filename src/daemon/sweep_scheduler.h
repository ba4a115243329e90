// The sweeper inside the daemon: one pass (daemon/sweeper.h) every
// sweeper.interval, on its own thread (never the broker thread, which must
// keep polling; and not a pool worker, so a long pass does not take a slot
// from the queue). The first pass comes after a random part of the interval,
// so that several daemons started together do not sweep together.
//
// The pass skips orders a delivery is working on (OrderClaims), stops early
// while processing is paused (database outage, WeChat breaker, drain), and
// feeds every decision to the WeChat breaker, the log and the metrics.
//
// Several daemons sharing one shop database take turns: a pass runs only
// while it holds the shop's sweep lock (store/sweep_lock.h: MySQL GET_LOCK,
// PostgreSQL pg_try_advisory_lock, on a database session of its own). When
// another instance holds it, this pass is skipped with an info line; when the
// database cannot be asked, with a warning; either way the next interval
// tries again. A pass that loses the lock stops. On SQLite the lock is always
// taken; the conditional updates keep concurrent passes safe anyway (SPEC §2
// invariant 3).
//
// Tick(), SetSchedule() and the destructor run on the broker thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <random>
#include <thread>

#include "config/config.h"
#include "core/clock.h"
#include "core/engine.h"
#include "core/ports.h"
#include "core/wechat_breaker.h"
#include "daemon/order_claims.h"
#include "daemon/sweeper.h"
#include "ops/log.h"
#include "ops/metrics.h"
#include "store/state_store.h"
#include "store/sweep_lock.h"

namespace wxpay {

struct SweepSchedule {
  bool enabled = true;
  std::chrono::milliseconds interval{600'000};
  SweepOptions pass;
};

class SweepScheduler {
 public:
  using SteadyClock = std::chrono::steady_clock;

  // Everything borrowed must outlive the scheduler. `paused` is read from the
  // sweep thread between orders (true: stop the pass early).
  // `lock` is used by the sweep thread only.
  SweepScheduler(ShopStore& store, SweepLock& lock, StateStore& state, Engine& engine, OrderClaims& claims,
                 WechatBreaker& breaker, Metrics& metrics, Logger& log, const Clock& clock, SweepSchedule schedule);
  // Asks a running pass to stop and waits for it.
  ~SweepScheduler();
  SweepScheduler(const SweepScheduler&) = delete;
  SweepScheduler& operator=(const SweepScheduler&) = delete;

  // SIGHUP: takes effect for the next pass; a new interval reschedules it.
  void SetSchedule(SweepSchedule schedule);

  // Collects a finished pass and starts the next one when it is due and
  // `allowed` (processing not paused, not draining).
  void Tick(bool allowed);
  // Tells a running pass to stop after its current order.
  void RequestStop() { stop_.store(true); }

  bool running() const { return thread_.joinable(); }
  // When the running pass started; nullopt when none runs (for the watchdog).
  std::optional<SteadyClock::time_point> running_since() const;
  // The pass's bound (max_pass) plus one order's worst case is expected; the
  // watchdog allows more.
  std::chrono::milliseconds max_pass() const { return schedule_.pass.max_pass; }

 private:
  void RunPass(SweepOptions options);
  void Join();

  ShopStore& store_;
  SweepLock& lock_;
  StateStore& state_;
  Engine& engine_;
  OrderClaims& claims_;
  WechatBreaker& breaker_;
  Metrics& metrics_;
  Logger& log_;
  const Clock& clock_;
  SweepSchedule schedule_;
  std::mt19937_64 random_;
  SteadyClock::time_point next_pass_;
  SteadyClock::time_point started_{};
  std::thread thread_;
  std::atomic<bool> done_{false};
  std::atomic<bool> stop_{false};
};

// Options for one pass from the configuration's sweeper.* and policy.order_ttl.
SweepSchedule SweepScheduleFromConfig(const Config& config);

}  // namespace wxpay
