#include "ops/health.h"

#include <gtest/gtest.h>
#include <time.h>

#include <thread>
#include <vector>

#include "ops/scoped_env.h"

namespace wxpay {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;

// Times in the status line are local: pin the zone so the text is exact.
class HealthTest : public ::testing::Test {
 protected:
  HealthTest() : tz_(std::in_place, "TZ", "UTC") { tzset(); }
  ~HealthTest() override {
    tz_.reset();
    tzset();
  }

  std::optional<testing::ScopedEnv> tz_;
  ManualClock clock_{sys_days{std::chrono::year{2026} / 5 / 12} + 10h};
  Health health_{clock_};
};

TEST_F(HealthTest, FreshDaemonIsStartingWithNothingDone) {
  EXPECT_EQ(health_.StatusLine(), "starting: 0 done, 0 in flight, 0 retrying");
}

TEST_F(HealthTest, TheBriefsExampleLine) {
  health_.SetPhase(Phase::kConsuming);
  for (int i = 0; i < 1234 + 3; ++i) health_.OrderStarted();
  for (int i = 0; i < 1000; ++i) health_.OrderFinished("paid");
  for (int i = 0; i < 200; ++i) health_.OrderFinished("cancelled");
  for (int i = 0; i < 30; ++i) health_.OrderFinished("parked");
  for (int i = 0; i < 4; ++i) health_.OrderFinished("dead_lettered");
  health_.RecordSuccess();
  health_.SetRetrying(5);
  health_.DependencyUp(Dependency::kRabbitmq);
  health_.DependencyUp(Dependency::kDatabase);
  clock_.Advance(2min + 30s);
  health_.DependencyDown(Dependency::kWechatpay, "SIGN_ERROR", "check clock/keys");
  health_.SetBreakerOpen("wechat", true);
  health_.SetBreakerOpen("not_found", false);
  clock_.Advance(10min);

  EXPECT_EQ(health_.StatusLine(),
            "consuming: 1234 done (1000 paid 200 cancelled 34 other), 3 in flight, 5 retrying; "
            "wechatpay: SIGN_ERROR since 10:02 (check clock/keys); breakers: wechat open; last success 10:00");
}

TEST_F(HealthTest, DownSinceIsKeptWhileTheErrorChangesAndClearedWhenUp) {
  health_.SetPhase(Phase::kConsuming);
  health_.DependencyDown(Dependency::kDatabase, "connection refused");
  clock_.Advance(7min);
  health_.DependencyDown(Dependency::kDatabase, "Lost connection to server during query", "is MariaDB running?");
  EXPECT_EQ(health_.StatusLine(),
            "consuming: 0 done, 0 in flight, 0 retrying; "
            "database: Lost connection to server during query since 10:00 (is MariaDB running?)");
  const HealthSnapshot s = health_.Snapshot();
  EXPECT_EQ(s.dependency(Dependency::kDatabase).state, DependencyHealth::State::kDown);
  EXPECT_EQ(s.dependency(Dependency::kDatabase).since, clock_.Now() - 7min);
  EXPECT_EQ(s.dependency(Dependency::kRabbitmq).state, DependencyHealth::State::kUnknown);

  health_.DependencyUp(Dependency::kDatabase);
  EXPECT_EQ(health_.StatusLine(), "consuming: 0 done, 0 in flight, 0 retrying");
  clock_.Advance(1min);
  health_.DependencyDown(Dependency::kDatabase, "connection refused");
  EXPECT_EQ(health_.StatusLine(), "consuming: 0 done, 0 in flight, 0 retrying; database: connection refused since 10:08");
}

TEST_F(HealthTest, DependenciesAppearInAFixedOrder) {
  health_.DependencyDown(Dependency::kWechatpay, "HTTP 502");
  health_.DependencyDown(Dependency::kRabbitmq, "connection refused", "is RabbitMQ running?");
  EXPECT_EQ(health_.StatusLine(),
            "starting: 0 done, 0 in flight, 0 retrying; rabbitmq: connection refused since 10:00 "
            "(is RabbitMQ running?); wechatpay: HTTP 502 since 10:00");
}

TEST_F(HealthTest, AnEventOnAnEarlierDayShowsItsDate) {
  health_.DependencyDown(Dependency::kRabbitmq, "ACCESS_REFUSED", "check rabbitmq.password_file");
  clock_.Advance(24h);
  health_.SetPhase(Phase::kDraining);
  EXPECT_EQ(health_.StatusLine(),
            "draining: 0 done, 0 in flight, 0 retrying; rabbitmq: ACCESS_REFUSED since 05-12 10:00 "
            "(check rabbitmq.password_file)");
}

TEST_F(HealthTest, LongErrorsAreShortenedWithoutSplittingCharacters) {
  std::string error = "HTTP 500 SYSTEM_ERROR ";
  while (error.size() < 200) error += "系统异常";
  health_.DependencyDown(Dependency::kWechatpay, error);
  const std::string line = health_.StatusLine();
  const std::string head = "starting: 0 done, 0 in flight, 0 retrying; wechatpay: ";
  const std::string tail = "... since 10:00";
  ASSERT_EQ(line.substr(0, head.size()), head);
  ASSERT_EQ(line.substr(line.size() - tail.size()), tail);
  const std::string shown = line.substr(head.size(), line.size() - head.size() - tail.size());
  EXPECT_LE(shown.size(), 77u);
  EXPECT_EQ(error.substr(0, shown.size()), shown);
  EXPECT_EQ((shown.size() - 22) % 3, 0u) << "cut inside a 3-byte character";
}

TEST_F(HealthTest, OpenBreakersAreListedByNameAndClosedOnesHidden) {
  health_.SetBreakerOpen("wechat", true);
  health_.SetBreakerOpen("not_found", true);
  health_.SetBreakerOpen("database", false);
  EXPECT_EQ(health_.StatusLine(), "starting: 0 done, 0 in flight, 0 retrying; breakers: not_found open, wechat open");
  health_.SetBreakerOpen("wechat", false);
  health_.SetBreakerOpen("not_found", false);
  EXPECT_EQ(health_.StatusLine(), "starting: 0 done, 0 in flight, 0 retrying");
}

TEST_F(HealthTest, DeferredOrdersLeaveFlightWithoutCountingAsDone) {
  health_.SetPhase(Phase::kReloading);
  health_.OrderStarted();
  health_.OrderStarted();
  health_.OrderDeferred();
  EXPECT_EQ(health_.StatusLine(), "reloading: 0 done, 1 in flight, 0 retrying");
  health_.OrderFinished("cancelled");
  health_.OrderFinished("paid");  // more finishes than starts: never below zero
  health_.SetRetrying(-3);
  EXPECT_EQ(health_.StatusLine(), "reloading: 2 done (1 paid 1 cancelled 0 other), 0 in flight, 0 retrying");
}

TEST_F(HealthTest, ConcurrentUpdatesAreAllCounted) {
  constexpr int kThreads = 4;
  constexpr int kEach = 2000;
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([this, t] {
      for (int i = 0; i < kEach; ++i) {
        health_.OrderStarted();
        health_.OrderFinished(t % 2 == 0 ? "paid" : "cancelled");
        if (i % 100 == 0) (void)health_.StatusLine();
      }
    });
  }
  for (auto& w : workers) w.join();
  const HealthSnapshot s = health_.Snapshot();
  EXPECT_EQ(s.done_total, uint64_t{kThreads * kEach});
  EXPECT_EQ(s.done.at("paid"), uint64_t{kThreads / 2 * kEach});
  EXPECT_EQ(s.in_flight, 0);
}

}  // namespace
}  // namespace wxpay
