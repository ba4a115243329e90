// The decision engine: SPEC §3's table, row by row, for one order number.
// Pure: it sees the shop only through ShopStore, WeChat Pay only through
// PaymentGateway, time only through Clock, and returns a Decision value; the
// caller acks, publishes, logs and counts.
//
// What the engine guarantees (SPEC §2):
//  1. It never cancels an order WeChat Pay reports paid: a cancel happens only
//     on CLOSED/REVOKED, PAYERROR after a close, or a 404 on the first query
//     (never after a close answered ORDER_PAID/USER_PAYING/FREQUENCY_LIMITED).
//  2. It marks paid only a verified trade that passes CheckTradeMatchesOrder.
//  3. Every write is the store's conditional update; a lost race is reported,
//     never retried.
//  5. Nothing is closed or cancelled before created_at + order_ttl.
//  6. The order number is validated again before it reaches the store.
//
// Attempts: every reschedule counts except a window wait. A counted reschedule
// on the last allowed attempt becomes dead-letter `retries_exhausted`, except
// when the failure is system-wide (auth, clock skew, connection, 5xx, 429):
// whole-system failures must not burn orders, so those keep rescheduling at
// the capped delay while the WeChat breaker deals with the outage.
//
// Thread-safe: Process may run on many workers at once (the ports are
// thread-safe; options are swapped under a mutex and read as a snapshot).
#pragma once

#include <memory>
#include <mutex>
#include <string_view>

#include "core/clock.h"
#include "core/decision.h"
#include "core/engine_options.h"
#include "core/not_found_breaker.h"
#include "core/ports.h"

namespace wxpay {

class Engine {
 public:
  // store, gateway and clock are not owned and must outlive the engine.
  Engine(ShopStore& store, PaymentGateway& gateway, const Clock& clock, EngineOptions options);
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // SIGHUP: decisions started afterwards use the new options. Does not reset
  // the not-found breaker (the daemon does that explicitly on reload).
  void SetOptions(EngineOptions options);
  EngineOptions options() const;

  // Runs the decision table once for `order_no` on delivery attempt `attempt`
  // (1-based; values below 1 are treated as 1). At most three WeChat Pay calls
  // (query, close, query) and at most one database write.
  Decision Process(std::string_view order_no, int attempt);

  NotFoundBreaker& not_found_breaker() { return not_found_breaker_; }
  const NotFoundBreaker& not_found_breaker() const { return not_found_breaker_; }

 private:
  std::shared_ptr<const EngineOptions> Snapshot() const;

  ShopStore& store_;          // not owned
  PaymentGateway& gateway_;   // not owned
  const Clock& clock_;        // not owned
  mutable std::mutex options_mu_;
  std::shared_ptr<const EngineOptions> options_;  // guarded by options_mu_
  NotFoundBreaker not_found_breaker_;
};

}  // namespace wxpay
