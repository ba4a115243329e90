// The not-found breaker (SPEC §3 "Breakers"): 404s on the first query are
// normal (the buyer left before paying), but an unbroken run of them means a
// mapping or merchant error (wrong out_trade_no column, sub-merchant, proxy)
// that must not cancel a shop's backlog. After `threshold` consecutive first
// queries answered 404 with none finding an order, the breaker opens and every
// further 404 is parked until an operator reloads (Reset()).
//
// Thread-safe: one instance is shared by all workers.
#pragma once

#include <mutex>

namespace wxpay {

struct NotFoundBreakerStatus {
  bool open = false;
  int consecutive_not_found = 0;  // the current run of first-query 404s
  int threshold = 0;              // the threshold in force when the breaker opened
};

class NotFoundBreaker {
 public:
  // A first query answered 404. Returns true when this 404 must be parked
  // because the breaker was already open. The 404 that completes a run of
  // `threshold` opens the breaker but is itself handled normally ("park 404s
  // after this many"). threshold <= 0 disables the breaker.
  bool RecordNotFound(int threshold);

  // A first query found the order (any verified trade): the run is broken.
  // Once open, the breaker stays open until Reset().
  void RecordFound();

  // Operator reload: close the breaker and start counting afresh.
  void Reset();

  bool open() const;
  NotFoundBreakerStatus status() const;

 private:
  mutable std::mutex mu_;
  bool open_ = false;        // guarded by mu_
  int consecutive_ = 0;      // guarded by mu_
  int opened_threshold_ = 0; // guarded by mu_
};

}  // namespace wxpay
