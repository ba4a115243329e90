// The sweep lock as the sweeper and its schedule use it, with a fake lock: a
// pass runs only while it holds the lock, gives it back at its end, stops when
// it loses it; the scheduler skips a pass, with one log line, when another
// instance holds the lock or the database cannot be asked.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "daemon/loop_fixture.h"
#include "daemon/sweep_scheduler.h"
#include "daemon/sweeper.h"
#include "store/sweep_lock.h"

namespace wxpay::testing {
namespace {

constexpr char kSubject[] = "shop/orders";

// A sweep lock whose answers the test sets, counting what it was asked.
// TryAcquire/StillHeld/Release run on the sweep thread, the counters are
// read by the test thread.
class FakeSweepLock final : public SweepLock {
 public:
  enum class Answer { kTaken, kHeldElsewhere, kDatabaseDown };

  std::atomic<Answer> answer{Answer::kTaken};
  // StillHeld says yes this many times, then reports the lock's session lost
  // (again at every later pass); negative: never.
  std::atomic<int> checks_until_lost{-1};

  std::atomic<int> attempts{0};
  std::atomic<int> taken{0};
  std::atomic<int> checks{0};
  std::atomic<int> released{0};
  std::atomic<bool> held{false};

  StoreResult<bool> TryAcquire() override {
    ++attempts;
    switch (answer.load()) {
      case Answer::kDatabaseDown:
        return StoreError{StoreError::Kind::kUnavailable, "fake: connecting to the database refused"};
      case Answer::kHeldElsewhere:
        return false;
      case Answer::kTaken:
        break;
    }
    held = true;
    ++taken;
    return true;
  }

  StoreResult<bool> StillHeld() override {
    ++checks;
    if (!held) return false;
    if (checks_until_lost == 0) {
      held = false;  // the server freed it with the session
      return StoreError{StoreError::Kind::kUnavailable, "fake: checking the sweep lock: connection lost"};
    }
    if (checks_until_lost > 0) --checks_until_lost;
    return true;
  }

  void Release() override {
    if (held.exchange(false)) ++released;
  }

  const std::string& subject() const override { return subject_; }

 private:
  const std::string subject_ = kSubject;
};

class SweepLockTest : public LoopTest {
 protected:
  void SetUp() override {
    LoopTest::SetUp();
    sweep_engine_ = std::make_unique<Engine>(store_, wechat_, clock_, engine_options_);
    pass_options_.order_ttl = 15min;
    pass_options_.grace = 0ms;
  }

  // Two unpaid orders past their window, ORDER000061 the older.
  void AddTwoOrders() {
    ShopOrder older = AddUnpaid("ORDER000061", "NOTPAY");
    older.created_at = clock_.Now() - 2h;
    store_.Put(older);
    AddUnpaid("ORDER000062", "NOTPAY");
  }

  SweepSummary Pass(SweepHooks hooks = {}) {
    Sweeper sweeper(store_, lock_, *state_, *sweep_engine_, clock_, log_);
    return sweeper.RunPass(pass_options_, hooks);
  }

  std::unique_ptr<SweepScheduler> Scheduler() {
    SweepSchedule schedule;
    schedule.interval = 20ms;  // the first pass within 20 ms
    schedule.pass = pass_options_;
    return std::make_unique<SweepScheduler>(store_, lock_, *state_, *sweep_engine_, claims_, sweep_breaker_,
                                            metrics_, log_, clock_, schedule);
  }

  // Ticks like the broker thread until `done` holds; false after 5 s.
  static bool TickUntil(SweepScheduler& scheduler, const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      scheduler.Tick(true);
      std::this_thread::sleep_for(1ms);
    }
    return true;
  }

  int LinesWith(const std::string& text) const {
    int n = 0;
    for (const std::string& line : log_.Lines()) n += line.find(text) != std::string::npos;
    return n;
  }

  FakeSweepLock lock_;
  SweepOptions pass_options_;
  WechatBreaker sweep_breaker_;
  std::unique_ptr<Engine> sweep_engine_;
};

// ------------------------------------------------------------ one pass

TEST_F(SweepLockTest, PassHoldsTheLockWhileItWorksAndGivesItBackAtTheEnd) {
  AddTwoOrders();
  SweepHooks hooks;
  int decided_while_held = 0;
  hooks.on_decision = [&](const Decision&) { decided_while_held += lock_.held.load(); };
  const SweepSummary s = Pass(hooks);
  EXPECT_EQ(s.examined, 2);
  EXPECT_EQ(decided_while_held, 2);
  EXPECT_EQ(lock_.taken, 1);
  EXPECT_EQ(lock_.checks, 2) << "the lock is checked before each order";
  EXPECT_EQ(lock_.released, 1);
  EXPECT_FALSE(lock_.held);
}

TEST_F(SweepLockTest, PassDoesNothingWhileAnotherInstanceHoldsTheLock) {
  AddTwoOrders();
  lock_.answer = FakeSweepLock::Answer::kHeldElsewhere;
  const SweepSummary s = Pass();
  EXPECT_TRUE(s.held_elsewhere);
  EXPECT_FALSE(s.database_error);
  EXPECT_EQ(s.examined, 0);
  EXPECT_EQ(wechat_.CallCount(), 0);
  EXPECT_EQ(StateOf("ORDER000061"), ShopState::kUnpaid);
  EXPECT_EQ(lock_.released, 0) << "nothing to give back";
}

TEST_F(SweepLockTest, PassThatCannotAskForTheLockIsADatabaseError) {
  AddTwoOrders();
  lock_.answer = FakeSweepLock::Answer::kDatabaseDown;
  const SweepSummary s = Pass();
  EXPECT_TRUE(s.lock_error);
  EXPECT_TRUE(s.database_error);
  EXPECT_NE(s.error.find("connecting to the database refused"), std::string::npos) << s.error;
  EXPECT_EQ(wechat_.CallCount(), 0);
}

TEST_F(SweepLockTest, PassThatLosesTheLockStopsBeforeTheNextOrder) {
  AddTwoOrders();
  lock_.checks_until_lost = 1;
  const SweepSummary s = Pass();
  EXPECT_TRUE(s.lock_lost);
  EXPECT_TRUE(s.database_error);
  EXPECT_NE(s.error.find("connection lost"), std::string::npos) << s.error;
  EXPECT_EQ(s.examined, 1);
  EXPECT_EQ(StateOf("ORDER000061"), ShopState::kCancelled);
  EXPECT_EQ(StateOf("ORDER000062"), ShopState::kUnpaid) << "swept without the lock";
  auto cursor = state_->GetSweepCursor();
  ASSERT_TRUE(cursor.ok()) << cursor.error().message;
  ASSERT_TRUE(cursor->has_value());
  EXPECT_EQ((*cursor)->order_no, "ORDER000061") << "the next pass continues after the last order done";
}

// ------------------------------------------------------------ the schedule

TEST_F(SweepLockTest, ScheduleSkipsWithOneInfoLineWhileAnotherInstanceSweepsThenSweeps) {
  AddTwoOrders();
  lock_.answer = FakeSweepLock::Answer::kHeldElsewhere;
  const std::string skipped = "<6>sweeper: another instance is sweeping shop/orders; skipping this pass";
  {
    auto scheduler = Scheduler();
    ASSERT_TRUE(TickUntil(*scheduler, [&] { return lock_.attempts >= 2 && !scheduler->running(); }))
        << "no second attempt at the next interval";
    EXPECT_EQ(LinesWith(skipped), lock_.attempts.load()) << "one line per skipped pass";
    EXPECT_EQ(wechat_.CallCount(), 0);
    EXPECT_EQ(lock_.taken, 0);

    lock_.answer = FakeSweepLock::Answer::kTaken;
    ASSERT_TRUE(TickUntil(*scheduler, [&] {
      return StateOf("ORDER000061") == ShopState::kCancelled && StateOf("ORDER000062") == ShopState::kCancelled;
    })) << "the pass after the other instance's did not sweep";
  }
  EXPECT_EQ(lock_.released, lock_.taken) << "a pass gave its lock back";
  EXPECT_FALSE(lock_.held);
}

TEST_F(SweepLockTest, ScheduleWarnsAndSkipsWhenTheDatabaseCannotBeAsked) {
  AddTwoOrders();
  lock_.answer = FakeSweepLock::Answer::kDatabaseDown;
  auto scheduler = Scheduler();
  ASSERT_TRUE(TickUntil(*scheduler, [&] { return lock_.attempts >= 1 && !scheduler->running(); }));
  EXPECT_EQ(LinesWith("<4>sweeper: could not take the sweep lock on shop/orders; skipping this pass: "
                      "fake: connecting to the database refused"),
            lock_.attempts.load());
  EXPECT_EQ(wechat_.CallCount(), 0);
}

TEST_F(SweepLockTest, ScheduleWarnsWhenAPassLosesTheLock) {
  AddTwoOrders();
  lock_.checks_until_lost = 1;
  auto scheduler = Scheduler();
  ASSERT_TRUE(TickUntil(*scheduler, [&] { return lock_.taken >= 2 && !scheduler->running(); }));
  EXPECT_EQ(LinesWith("<4>sweeper: pass examined"), lock_.taken.load());
  EXPECT_EQ(LinesWith("stopped because it lost the sweep lock (another instance may sweep now): "
                      "fake: checking the sweep lock: connection lost"),
            lock_.taken.load());
  EXPECT_EQ(StateOf("ORDER000061"), ShopState::kCancelled);
  EXPECT_EQ(StateOf("ORDER000062"), ShopState::kUnpaid);
}

}  // namespace
}  // namespace wxpay::testing
