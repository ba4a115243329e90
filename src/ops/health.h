// What the daemon is doing right now, for `systemctl status` (STATUS=, SPEC §7).
//
// Workers, the consumer and the sweeper report into one Health object; the
// daemon loop renders StatusLine() and sends it with Notifier::Status(). Every
// method is thread-safe (one mutex, held only to copy a few fields).
//
// Example line:
//   consuming: 1234 done (1000 paid 200 cancelled 34 other), 3 in flight,
//   5 retrying; wechatpay: SIGN_ERROR since 10:02 (check clock/keys);
//   breakers: wechat open; last success 10:01
// (one line; wrapped here). Times are the machine's local time, as in the
// journal; an event on an earlier day also shows its date ("05-12 10:02").
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "ops/dependency.h"

namespace wxpay {

enum class Phase { kStarting, kConsuming, kReloading, kDraining };
std::string_view PhaseName(Phase phase);

struct DependencyHealth {
  enum class State { kUnknown, kUp, kDown };
  State state = State::kUnknown;
  std::string error;  // kDown: what fails now, e.g. "SIGN_ERROR"
  std::string hint;   // kDown: what to do, e.g. "check clock/keys"; may be empty
  TimePoint since{};  // kDown: when it went down (kept while it stays down)
};

struct HealthSnapshot {
  Phase phase = Phase::kStarting;
  std::map<std::string, uint64_t, std::less<>> done;  // outcome -> orders
  uint64_t done_total = 0;
  int64_t in_flight = 0;
  int64_t retrying = 0;
  std::array<DependencyHealth, kAllDependencies.size()> dependencies;  // indexed by Dependency
  std::map<std::string, bool, std::less<>> breakers;  // name -> open
  std::optional<TimePoint> last_success;

  const DependencyHealth& dependency(Dependency d) const { return dependencies[static_cast<size_t>(d)]; }
};

class Health {
 public:
  explicit Health(const Clock& clock) : clock_(clock) {}

  void SetPhase(Phase phase);

  // An order taken from the queue or the sweeper; it is in flight until
  // OrderFinished (a final outcome: "paid", "cancelled", "parked", ...) or
  // OrderDeferred (rescheduled or requeued: it will come back).
  void OrderStarted();
  void OrderFinished(std::string_view outcome);
  void OrderDeferred();
  // Orders waiting in retry tiers, as the daemon best knows it.
  void SetRetrying(int64_t orders);

  void DependencyUp(Dependency d);
  // error: short, no secrets ("SIGN_ERROR", "connection refused");
  // hint: what the operator should check, or empty.
  void DependencyDown(Dependency d, std::string_view error, std::string_view hint = {});

  void SetBreakerOpen(std::string_view breaker, bool open);
  // The last time something worked end to end (an order reached an outcome).
  void RecordSuccess();

  HealthSnapshot Snapshot() const;
  std::string StatusLine() const;
  // Counts changes of phase, dependency state or error, and breakers — not
  // order counts — so that a reader can report those at once and counts at a
  // slower pace.
  uint64_t alerts() const { return alerts_.load(std::memory_order_relaxed); }

 private:
  void Alert() { alerts_.fetch_add(1, std::memory_order_relaxed); }

  const Clock& clock_;  // not owned
  mutable std::mutex mu_;
  HealthSnapshot s_;  // guarded by mu_
  std::atomic<uint64_t> alerts_{0};
};

// The rendering behind Health::StatusLine(), for a given snapshot and "now"
// (which decides whether times need a date).
std::string RenderStatusLine(const HealthSnapshot& s, TimePoint now);

}  // namespace wxpay
