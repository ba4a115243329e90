#include "daemon/sweep_scheduler.h"

#include <algorithm>

#include "daemon/delivery_loop.h"

namespace wxpay {
namespace {

std::chrono::milliseconds RandomPart(std::mt19937_64& random, std::chrono::milliseconds interval) {
  if (interval.count() <= 0) return std::chrono::milliseconds(0);
  std::uniform_int_distribution<long long> pick(0, interval.count() - 1);
  return std::chrono::milliseconds(pick(random));
}

// One line for a pass that ran: info when it examined orders, a warning when
// it was cut short by the database or the loss of the lock.
void LogPass(Logger& log, const SweepSummary& s) {
  std::string line = "sweeper: pass examined " + std::to_string(s.examined) + " orders (" +
                     std::to_string(s.count(Outcome::kPaid)) + " paid, " +
                     std::to_string(s.count(Outcome::kCancelled)) + " cancelled, " +
                     std::to_string(s.count(Outcome::kReschedule)) + " to retry, " +
                     std::to_string(s.count(Outcome::kDeadLetter)) + " parked), skipped " +
                     std::to_string(s.skipped_parked) + " parked and " + std::to_string(s.skipped_busy) + " in flight";
  if (s.stopped_by_time) line += "; stopped after sweeper.max_pass, the next pass continues";
  if (s.stopped_early) line += "; stopped early (processing paused)";
  if (s.lock_lost) {
    log.Warning(line + "; stopped because it lost the sweep lock (another instance may sweep now): " + s.error);
  } else if (s.database_error) {
    log.Warning(line + "; stopped by a database error: " + s.error);
  } else if (s.examined > 0) {
    log.Info(line);
  } else {
    log.Debug(line);
  }
}

}  // namespace

SweepSchedule SweepScheduleFromConfig(const Config& config) {
  SweepSchedule s;
  s.enabled = config.sweeper.enabled;
  s.interval = config.sweeper.interval;
  s.pass.order_ttl = config.policy.order_ttl;
  s.pass.grace = config.sweeper.grace;
  s.pass.max_pass = config.sweeper.max_pass;
  s.pass.dry_run = false;
  return s;
}

SweepScheduler::SweepScheduler(ShopStore& store, SweepLock& lock, StateStore& state, Engine& engine,
                               OrderClaims& claims, WechatBreaker& breaker, Metrics& metrics, Logger& log,
                               const Clock& clock, SweepSchedule schedule)
    : store_(store),
      lock_(lock),
      state_(state),
      engine_(engine),
      claims_(claims),
      breaker_(breaker),
      metrics_(metrics),
      log_(log),
      clock_(clock),
      schedule_(schedule),
      random_(std::random_device{}()) {
  next_pass_ = SteadyClock::now() + RandomPart(random_, schedule_.interval);
}

SweepScheduler::~SweepScheduler() {
  RequestStop();
  Join();
}

void SweepScheduler::SetSchedule(SweepSchedule schedule) {
  if (schedule.interval != schedule_.interval) {
    next_pass_ = SteadyClock::now() + RandomPart(random_, schedule.interval);
  }
  schedule_ = schedule;
}

std::optional<SweepScheduler::SteadyClock::time_point> SweepScheduler::running_since() const {
  if (!thread_.joinable()) return std::nullopt;
  return started_;
}

void SweepScheduler::Join() {
  if (thread_.joinable()) thread_.join();
}

void SweepScheduler::Tick(bool allowed) {
  if (thread_.joinable()) {
    if (!allowed) RequestStop();
    if (!done_.load()) return;
    Join();
  }
  if (!schedule_.enabled || !allowed) return;
  const auto now = SteadyClock::now();
  if (now < next_pass_) return;
  next_pass_ = now + schedule_.interval;
  done_.store(false);
  stop_.store(false);
  started_ = now;
  thread_ = std::thread([this, options = schedule_.pass] { RunPass(options); });
}

void SweepScheduler::RunPass(SweepOptions options) {
  Sweeper sweeper(store_, lock_, state_, engine_, clock_, log_);
  SweepHooks hooks;
  hooks.on_decision = [this](const Decision& d) {
    LogDecision(log_, d);
    metrics_.CountOrder(OutcomeName(d.outcome));
    FeedWechatBreaker(breaker_, d, clock_.Now());
  };
  hooks.try_claim = [this](const std::string& order_no) { return claims_.TryClaim(order_no); };
  hooks.release = [this](const std::string& order_no) { claims_.Release(order_no); };
  hooks.should_stop = [this] { return stop_.load() || breaker_.open(); };
  const SweepSummary s = sweeper.RunPass(options, hooks);
  if (s.held_elsewhere) {
    log_.Info("sweeper: another instance is sweeping " + lock_.subject() + "; skipping this pass");
  } else if (s.lock_error) {
    log_.Warning("sweeper: could not take the sweep lock on " + lock_.subject() + "; skipping this pass: " + s.error);
  } else {
    LogPass(log_, s);
  }
  done_.store(true);
}

}  // namespace wxpay
