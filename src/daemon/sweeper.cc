#include "daemon/sweeper.h"

namespace wxpay {

Sweeper::Sweeper(ShopStore& store, SweepLock& lock, StateStore& state, Engine& engine,
                 const Clock& clock, Logger& log)
    : store_(store), lock_(lock), state_(state), engine_(engine), clock_(clock), log_(log) {}

SweepSummary Sweeper::RunPass(const SweepOptions& options,
                              const std::function<void(const Decision&)>& on_decision) {
  SweepHooks hooks;
  hooks.on_decision = on_decision;
  return RunPass(options, hooks);
}

SweepSummary Sweeper::RunPass(const SweepOptions& options, const SweepHooks& hooks) {
  SweepSummary summary;
  StoreResult<bool> taken = lock_.TryAcquire();
  if (!taken.ok()) {
    summary.lock_error = summary.database_error = true;
    summary.error = taken.error().message;
    return summary;
  }
  if (!*taken) {
    summary.held_elsewhere = true;
    return summary;
  }
  RunLocked(options, hooks, summary);
  lock_.Release();
  return summary;
}

void Sweeper::RunLocked(const SweepOptions& options, const SweepHooks& hooks, SweepSummary& summary) {
  const TimePoint started = clock_.Now();
  const TimePoint deadline = started + options.max_pass;
  const TimePoint cutoff = started - options.order_ttl - options.grace;

  SweepCursor cursor;
  if (auto saved = state_.GetSweepCursor(); !saved.ok()) {
    summary.database_error = true;
    summary.error = "state DB: " + saved.error().message;
    return;
  } else if (saved->has_value()) {
    cursor = **saved;
  }

  while (true) {
    if (clock_.Now() >= deadline) {
      summary.stopped_by_time = true;
      break;
    }
    auto batch = store_.ListUnpaid(cutoff, cursor, options.batch_size);
    if (!batch.ok()) {
      summary.database_error = true;
      summary.error = batch.error().message;
      return;
    }
    if (batch->empty()) {
      summary.reached_end = true;
      break;
    }
    for (const SweepItem& item : *batch) {
      if (clock_.Now() >= deadline) {
        summary.stopped_by_time = true;
        break;
      }
      if (StoreResult<bool> held = lock_.StillHeld(); !held.ok() || !*held) {
        summary.lock_lost = summary.database_error = true;
        summary.error = held.ok() ? "the sweep lock on " + lock_.subject() + " is no longer held by this pass"
                                  : held.error().message;
        break;
      }
      if (hooks.should_stop && hooks.should_stop()) {
        summary.stopped_early = true;
        break;
      }
      cursor = SweepCursor{item.created_at, item.order_no};
      auto parked = state_.IsParked(item.order_no);
      if (!parked.ok()) {
        summary.database_error = true;
        summary.error = "state DB: " + parked.error().message;
        return;
      }
      if (*parked) {
        ++summary.skipped_parked;
        continue;
      }
      if (hooks.try_claim && !hooks.try_claim(item.order_no)) {
        ++summary.skipped_busy;  // a delivery of this order is in flight: it decides
        continue;
      }
      Decision d = engine_.Process(item.order_no, 1);
      ++summary.examined;
      ++summary.by_outcome[static_cast<int>(d.outcome)];
      if (hooks.on_decision) hooks.on_decision(d);
      if (d.outcome == Outcome::kDatabaseError) {
        if (hooks.try_claim && hooks.release) hooks.release(item.order_no);
        summary.database_error = true;
        summary.error = d.error;
        return;  // the cursor stays before this order: it is retried next pass
      }
      if (!options.dry_run) {
        if (d.outcome == Outcome::kDeadLetter) {
          if (Status s = state_.Park(d.order_no, DeadLetterReasonName(d.reason), d.error); !s) {
            log_.Warning("order=" + d.order_no + " could not be parked; the next pass will see it again: " +
                         s.message());
          }
        }
        if (Status s = state_.SetSweepCursor(cursor); !s) {
          log_.Warning("sweeper: could not save its cursor; the next pass starts over: " + s.message());
        }
      }
      if (hooks.try_claim && hooks.release) hooks.release(item.order_no);
    }
    if (summary.stopped_by_time || summary.stopped_early || summary.lock_lost) break;
    if (static_cast<int>(batch->size()) < options.batch_size) {
      summary.reached_end = true;
      break;
    }
  }
  if (summary.reached_end && !options.dry_run) {
    if (Status s = state_.ResetSweepCursor(); !s) {
      log_.Warning("sweeper: could not reset its cursor: " + s.message());
    }
  }
}

}  // namespace wxpay
