// The safety-net sweeper (SPEC §5 sweeper.*): unpaid orders older than
// order_ttl + grace that no message brought back (a shop that forgot to
// publish, a queue purged by hand) go through the same engine.
//
// A pass walks the unpaid orders oldest first with a keyset cursor kept in
// the state DB, skips parked orders, and stops after max_pass; the next pass
// continues where it stopped, and a pass that reaches the end starts the next
// one from the beginning.
//
// A pass runs only while it holds the shop's sweep lock (store/sweep_lock.h),
// so that several daemons, or a daemon and `sweep`, do not sweep one shop at
// the same time. It is checked before each order: a pass whose lock was lost
// (its database session ended) stops, since another instance may be sweeping.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/decision.h"
#include "core/engine.h"
#include "core/ports.h"
#include "ops/log.h"
#include "store/state_store.h"
#include "store/sweep_lock.h"

namespace wxpay {

struct SweepOptions {
  Millis order_ttl{0};
  Millis grace{600'000};
  Millis max_pass{60'000};
  int batch_size = 100;
  bool dry_run = false;  // decisions only: no cursor moves, nothing parked
};

struct SweepSummary {
  int examined = 0;  // orders handed to the engine
  int skipped_parked = 0;
  int skipped_busy = 0;  // being processed elsewhere in this process (a delivery)
  int by_outcome[6] = {};  // indexed by Outcome
  bool reached_end = false;
  bool stopped_by_time = false;
  bool stopped_early = false;  // SweepHooks::should_stop said so
  bool database_error = false;  // also set with lock_error and lock_lost
  std::string error;  // the database error that stopped the pass
  bool held_elsewhere = false;  // another instance holds the sweep lock: nothing was done
  bool lock_error = false;      // the sweep lock could not be asked for: nothing was done
  bool lock_lost = false;       // the sweep lock was lost during the pass: stopped there

  int count(Outcome o) const { return by_outcome[static_cast<int>(o)]; }
};

// How the daemon joins in (all optional; `sweep` uses only on_decision).
struct SweepHooks {
  std::function<void(const Decision&)> on_decision;  // every decision, for logs and metrics
  // Before an order is processed: false skips it (the consumer is working on
  // it right now). A successful claim is given back with release().
  std::function<bool(const std::string&)> try_claim;
  std::function<void(const std::string&)> release;
  // Checked before each order: true ends the pass (the cursor stays there).
  std::function<bool()> should_stop;
};

class Sweeper {
 public:
  // All references are borrowed and must outlive the sweeper. The lock is
  // taken at the start of each pass and given back at its end.
  Sweeper(ShopStore& store, SweepLock& lock, StateStore& state, Engine& engine, const Clock& clock,
          Logger& log);

  // One pass. `on_decision` sees every decision (for logs and metrics).
  // Dead-letter outcomes park the order (unless dry_run), so later passes skip
  // it until `redrive`.
  SweepSummary RunPass(const SweepOptions& options,
                       const std::function<void(const Decision&)>& on_decision);
  SweepSummary RunPass(const SweepOptions& options, const SweepHooks& hooks);

 private:
  // The pass itself, once the lock is held.
  void RunLocked(const SweepOptions& options, const SweepHooks& hooks, SweepSummary& summary);

  ShopStore& store_;    // not owned
  SweepLock& lock_;     // not owned
  StateStore& state_;   // not owned
  Engine& engine_;      // not owned
  const Clock& clock_;  // not owned
  Logger& log_;         // not owned
};

}  // namespace wxpay
