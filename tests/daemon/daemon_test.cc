// The main loop (signals, drain, reload, notifications, watchdog) and the
// sweeper's hooks, with the fakes.
#include "daemon/daemon.h"
#include "daemon/follow_ups.h"
#include "daemon/startup.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <deque>
#include <fstream>
#include <future>
#include <iterator>
#include <mutex>
#include <thread>

#include "daemon/loop_fixture.h"
#include "daemon/sweeper.h"
#include "ops/recording_notifier.h"

namespace wxpay::testing {
namespace {

class FakeSignals final : public SignalSource {
 public:
  void Raise(int signo) {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.push_back(signo);
  }
  int Take() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.empty()) return 0;
    const int signo = pending_.front();
    pending_.pop_front();
    return signo;
  }

 private:
  std::mutex mu_;
  std::deque<int> pending_;
};

class DaemonTest : public LoopTest {
 protected:
  // A failed assertion must not leave the daemon's thread running.
  void TearDown() override {
    signals_.Raise(SIGTERM);
    signals_.Raise(SIGTERM);
    if (running_.valid()) running_.wait();
    LoopTest::TearDown();
  }

  std::shared_future<DaemonExit> Start(DaemonOptions options = {}) {
    options.poll = 5ms;
    loop();  // built on this thread before the daemon's thread uses it
    daemon_ = std::make_unique<Daemon>(loop(), nullptr, *workers_, signals_, notifier_, health_, metrics_, log_,
                                       options, [this] { ++reloads_; });
    running_ = std::async(std::launch::async, [this] { return daemon_->Run(); }).share();
    return running_;
  }

  std::shared_future<DaemonExit> running_;

  FakeSignals signals_;
  RecordingNotifier notifier_;
  std::atomic<int> reloads_{0};
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(DaemonTest, SigtermDrainsInFlightOrdersThenExitsZero) {
  AddUnpaid("ORDER000041", "NOTPAY");
  gateway_.Close("ORDER000041");
  std::shared_future<DaemonExit> run = Start();
  broker_.Deliver("ORDER000041");
  ASSERT_TRUE(gateway_.WaitEntered("ORDER000041", 1, 5s));

  signals_.Raise(SIGTERM);
  ASSERT_TRUE(notifier_.WaitFor("STOPPING=1", 1, 5s));
  EXPECT_EQ(run.wait_for(50ms), std::future_status::timeout) << "exited before its in-flight order finished";
  gateway_.Open("ORDER000041");
  ASSERT_EQ(run.wait_for(5s), std::future_status::ready);
  const DaemonExit exit = run.get();
  EXPECT_EQ(exit.code, 0);
  EXPECT_FALSE(exit.abandon);
  EXPECT_EQ(broker_.acks().size(), 1u);
  EXPECT_EQ(StateOf("ORDER000041"), ShopState::kCancelled);
  EXPECT_FALSE(broker_.consuming());
}

TEST_F(DaemonTest, SecondSigtermExitsAtOnce) {
  AddUnpaid("ORDER000042", "NOTPAY");
  gateway_.Close("ORDER000042");
  std::shared_future<DaemonExit> run = Start();
  broker_.Deliver("ORDER000042");
  ASSERT_TRUE(gateway_.WaitEntered("ORDER000042", 1, 5s));
  signals_.Raise(SIGTERM);
  ASSERT_TRUE(notifier_.WaitFor("STOPPING=1", 1, 5s));
  signals_.Raise(SIGINT);
  ASSERT_EQ(run.wait_for(5s), std::future_status::ready);
  const DaemonExit exit = run.get();
  EXPECT_EQ(exit.code, 0);
  EXPECT_TRUE(exit.abandon);
  EXPECT_TRUE(broker_.acks().empty());
  gateway_.Open("ORDER000042");  // let the worker finish before teardown
}

TEST_F(DaemonTest, DrainTimeoutExitsWithWorkersStillBusy) {
  DaemonOptions options;
  options.drain_timeout = 100ms;
  AddUnpaid("ORDER000043", "NOTPAY");
  gateway_.Close("ORDER000043");
  std::shared_future<DaemonExit> run = Start(options);
  broker_.Deliver("ORDER000043");
  ASSERT_TRUE(gateway_.WaitEntered("ORDER000043", 1, 5s));
  signals_.Raise(SIGTERM);
  ASSERT_EQ(run.wait_for(5s), std::future_status::ready);
  const DaemonExit exit = run.get();
  EXPECT_EQ(exit.code, 0);
  EXPECT_TRUE(exit.abandon);
  EXPECT_TRUE(log_.Contains("policy.drain_timeout"));
  gateway_.Open("ORDER000043");
}

TEST_F(DaemonTest, SighupReloadsBetweenReloadingAndReady) {
  std::shared_future<DaemonExit> run = Start();
  signals_.Raise(SIGHUP);
  ASSERT_TRUE(notifier_.WaitFor("READY=1", 1, 5s));
  EXPECT_EQ(reloads_.load(), 1);
  const auto messages = notifier_.Messages();
  size_t reloading = messages.size(), ready = messages.size();
  for (size_t i = 0; i < messages.size(); ++i) {
    if (messages[i].rfind("RELOADING=1", 0) == 0 && reloading == messages.size()) reloading = i;
    if (messages[i] == "READY=1") ready = i;
  }
  EXPECT_LT(reloading, ready);
  signals_.Raise(SIGTERM);
  ASSERT_EQ(run.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(run.get().code, 0);
}

TEST_F(DaemonTest, StatusLineIsSentAndWatchdogPingedWhileHealthy) {
  notifier_.SetWatchdogInterval(std::chrono::microseconds(20'000));
  std::shared_future<DaemonExit> run = Start();
  ASSERT_TRUE(notifier_.WaitFor("WATCHDOG=1", 3, 5s));
  ASSERT_TRUE(notifier_.WaitFor("STATUS=starting: 0 done", 1, 5s));
  signals_.Raise(SIGTERM);
  ASSERT_EQ(run.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(run.get().code, 0);
}

TEST_F(DaemonTest, StuckWorkerStopsTheWatchdog) {
  notifier_.SetWatchdogInterval(std::chrono::microseconds(10'000));
  DaemonOptions options;
  options.stuck_worker = 50ms;
  AddUnpaid("ORDER000044", "NOTPAY");
  gateway_.Close("ORDER000044");
  std::shared_future<DaemonExit> run = Start(options);
  broker_.Deliver("ORDER000044");
  ASSERT_TRUE(gateway_.WaitEntered("ORDER000044", 1, 5s));
  // Wait for the loop to notice the stuck worker (a deadline, not a sleep).
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!log_.Contains("watchdog pings stopped") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_TRUE(log_.Contains("watchdog pings stopped"));
  const size_t pings = notifier_.CountStartingWith("WATCHDOG=1");
  // Another 10 watchdog intervals without a ping.
  EXPECT_FALSE(notifier_.WaitFor("WATCHDOG=1", pings + 1, 100ms));
  gateway_.Open("ORDER000044");
  ASSERT_TRUE(notifier_.WaitFor("WATCHDOG=1", pings + 1, 5s)) << "pings resume once the worker is free";
  signals_.Raise(SIGTERM);
  ASSERT_EQ(run.wait_for(5s), std::future_status::ready);
}

TEST_F(DaemonTest, MetricsTextfileIsWritten) {
  DaemonOptions options;
  options.metrics_textfile = dir_.File("wxpay.prom");
  AddUnpaid("ORDER000045", "SUCCESS");
  std::shared_future<DaemonExit> run = Start(options);
  broker_.Deliver("ORDER000045");
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (broker_.acks().empty() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  signals_.Raise(SIGTERM);
  ASSERT_EQ(run.wait_for(5s), std::future_status::ready);
  std::ifstream in(options.metrics_textfile);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("wxpay_reconciler_orders_total{outcome=\"paid\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("wxpay_reconciler_outcome_events_failed_total 0"), std::string::npos);
  EXPECT_NE(text.find("wxpay_reconciler_consuming 0"), std::string::npos) << "written after the drain";
}

// ------------------------------------------------------------------ start-up

class StartupTest : public ::testing::Test {
 protected:
  SystemClock clock_;
  Health health_{clock_};
  CapturingLogger log_;
  FakeSignals signals_;
  RecordingNotifier notifier_;
  ReconnectPolicy fast_{1ms, 5ms, 2.0};
};

TEST_F(StartupTest, RetriesUntilTheDependencyAnswersAndExtendsTheStartTimeout) {
  StartupWaiter waiter(notifier_, health_, log_, signals_, 5s, fast_);
  int attempts = 0;
  const StartReport r = waiter.WaitFor(Dependency::kDatabase, "the database", [&] {
    return ++attempts < 3 ? StartAttempt::Retry("connection refused") : StartAttempt::Ok();
  });
  EXPECT_EQ(r.outcome, StartOutcome::kReady);
  EXPECT_EQ(attempts, 3);
  EXPECT_EQ(notifier_.CountStartingWith("EXTEND_TIMEOUT_USEC="), 2u);
  EXPECT_EQ(notifier_.LastStartingWith("STATUS="),
            std::optional<std::string>("STATUS=starting: waiting for the database: connection refused"));
  EXPECT_EQ(health_.Snapshot().dependency(Dependency::kDatabase).state, DependencyHealth::State::kUp);
}

TEST_F(StartupTest, GivesUpAtTheStartTimeout) {
  StartupWaiter waiter(notifier_, health_, log_, signals_, 30ms, fast_);
  const StartReport r =
      waiter.WaitFor(Dependency::kRabbitmq, "RabbitMQ", [] { return StartAttempt::Retry("connection refused"); });
  EXPECT_EQ(r.outcome, StartOutcome::kTimedOut);
  EXPECT_EQ(r.error, "connection refused");
}

TEST_F(StartupTest, StopsOnSigtermAndFailsAtOnceOnAFatalError) {
  StartupWaiter waiter(notifier_, health_, log_, signals_, 10s, ReconnectPolicy{50ms, 50ms, 1.0});
  signals_.Raise(SIGTERM);
  EXPECT_EQ(waiter.WaitFor(Dependency::kRabbitmq, "RabbitMQ", [] { return StartAttempt::Retry("down"); }).outcome,
            StartOutcome::kStopped);
  int attempts = 0;
  const StartReport fatal = waiter.WaitFor(Dependency::kDatabase, "the database", [&] {
    ++attempts;
    return StartAttempt::Fatal("database.orders.status: no such column");
  });
  EXPECT_EQ(fatal.outcome, StartOutcome::kFatal);
  EXPECT_EQ(attempts, 1);
}

TEST(FollowUps, FirstSeenIsRfc3339Utc) {
  EXPECT_EQ(FormatRfc3339Utc(TimePoint(std::chrono::seconds(1714536306))), "2024-05-01T04:05:06Z");
}

// ------------------------------------------------------------------ sweeper

TEST_F(LoopTest, SweeperSkipsOrdersClaimedByADelivery) {
  Engine engine(store_, wechat_, clock_, engine_options_);
  ShopOrder a = AddUnpaid("ORDER000051", "NOTPAY");
  ShopOrder b = AddUnpaid("ORDER000052", "NOTPAY");
  a.created_at = b.created_at = clock_.Now() - 2h;
  store_.Put(a);
  store_.Put(b);
  ASSERT_TRUE(claims_.TryClaim("ORDER000051"));

  NoSweepLock lock("shop/orders");
  Sweeper sweeper(store_, lock, *state_, engine, clock_, log_);
  SweepHooks hooks;
  hooks.try_claim = [&](const std::string& no) { return claims_.TryClaim(no); };
  hooks.release = [&](const std::string& no) { claims_.Release(no); };
  SweepOptions options;
  options.order_ttl = 15min;
  const SweepSummary s = sweeper.RunPass(options, hooks);
  EXPECT_EQ(s.skipped_busy, 1);
  EXPECT_EQ(s.examined, 1);
  EXPECT_EQ(StateOf("ORDER000051"), ShopState::kUnpaid);
  EXPECT_EQ(StateOf("ORDER000052"), ShopState::kCancelled);
  EXPECT_TRUE(claims_.IsClaimed("ORDER000051"));
  EXPECT_FALSE(claims_.IsClaimed("ORDER000052")) << "the sweeper gives its claims back";
}

TEST_F(LoopTest, SweeperStopsWhenTold) {
  Engine engine(store_, wechat_, clock_, engine_options_);
  AddUnpaid("ORDER000053", "NOTPAY");
  NoSweepLock lock("shop/orders");
  Sweeper sweeper(store_, lock, *state_, engine, clock_, log_);
  SweepHooks hooks;
  hooks.should_stop = [] { return true; };
  SweepOptions options;
  options.order_ttl = 15min;
  options.grace = 0ms;
  const SweepSummary s = sweeper.RunPass(options, hooks);
  EXPECT_TRUE(s.stopped_early);
  EXPECT_EQ(s.examined, 0);
  EXPECT_EQ(wechat_.CallCount(), 0);
}

}  // namespace
}  // namespace wxpay::testing
