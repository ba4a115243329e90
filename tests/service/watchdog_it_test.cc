// The watchdog proves something (issue 5, rabbitmq-systemd-notes §D.2):
// WATCHDOG=1 keeps coming while a dependency is down (the daemon is fine,
// it waits), and stops when the broker thread or a worker is stuck, so that
// systemd kills and restarts a hung daemon. "Stuck" is made from outside:
// the test stops one of the daemon's threads with ptrace (thread_freezer.h)
// while the others run on.
#include <signal.h>
#include <sys/syscall.h>

#include <set>

#include "service/service_fixture.h"
#include "service/thread_freezer.h"

namespace wxpay::testing {
namespace {

using namespace std::chrono_literals;

constexpr std::chrono::microseconds kWatchdog = 1s;  // pings every 500 ms
// How long a stuck worker may take to stop the pings. The daemon's bound
// must follow from the configured timeouts (here wechatpay.timeout 2s,
// database.timeout 1s: one order can legitimately take about
// 3 x 2 s + 2 x 1 s), not be a fixed number of minutes.
constexpr auto kStuckWorkerNoticed = 25s;

// Where a worker waits for WeChat Pay's answer (libcurl's poll).
const std::set<long> kPollSyscalls = {
#ifdef SYS_poll
    SYS_poll,
#endif
    SYS_ppoll};

class WatchdogIt : public ServiceIt {
 protected:
  // The time of the last WATCHDOG=1 at or after line `from`, or nullopt.
  std::optional<NotifyLog::SteadyTime> LastPing(size_t from = 0) {
    std::optional<NotifyLog::SteadyTime> last;
    const std::vector<NotifyLog::Line> lines = notify().Lines();
    for (size_t i = from; i < lines.size(); ++i) {
      if (lines[i].text == "WATCHDOG=1") last = lines[i].at;
    }
    return last;
  }

  // True once no WATCHDOG=1 has arrived for longer than WATCHDOG_USEC after
  // `since`: the moment systemd's watchdog would fire.
  bool WatchdogWouldFire(NotifyLog::SteadyTime since) {
    const NotifyLog::SteadyTime last = std::max(since, LastPing().value_or(since));
    return std::chrono::steady_clock::now() - last > kWatchdog + 200ms;
  }

  // Pings arrive again: `count` of them at or after line `from`, each within
  // WATCHDOG_USEC of the previous one.
  void ExpectSteadyPings(size_t from, int count) {
    std::optional<size_t> previous;
    for (int i = 0; i < count; ++i) {
      const std::optional<size_t> next = notify().WaitForLine("WATCHDOG=1", 5s, previous ? *previous + 1 : from);
      ASSERT_TRUE(next) << "ping " << i + 1 << " of " << count << " did not come\n" << Describe();
      if (previous) {
        const std::vector<NotifyLog::Line> lines = notify().Lines();
        EXPECT_LE(lines[*next].at - lines[*previous].at, kWatchdog) << "a ping came late\n" << Describe();
      }
      previous = next;
    }
  }
};

TEST_F(WatchdogIt, KeepsPingingWhileWeChatPayIsDown) {
  const std::string order = NewOrder("down", R"({"trade_state":"NOTPAY","amount":100})");
  sim_->AddFault(R"({"fault":"http502","count":-1,"order":")" + order + R"("})");
  ASSERT_NE(StartReady(config_, kWatchdog), nullptr);
  Publish(order);

  const std::optional<size_t> down = notify().WaitFor(
      [](const std::string& l) { return StartsWith(l, "STATUS=") && l.find("wechatpay: HTTP 502") != std::string::npos; },
      20s);
  ASSERT_TRUE(down) << "STATUS should name WeChat Pay's failure\n" << Describe();
  ExpectSteadyPings(*down, 4);
  EXPECT_EQ(db_->Status(order), kUnpaid);

  sim_->ClearFaults();
  EXPECT_TRUE(db_->WaitForStatus(order, kCancelled, 30s)) << "not reconciled once WeChat Pay answered again\n"
                                                          << Describe();
  EXPECT_EQ(StopDaemon(), 0) << Describe();
}

TEST_F(WatchdogIt, AStuckBrokerThreadStopsThePings) {
  ASSERT_NE(StartReady(config_, kWatchdog), nullptr);
  ASSERT_TRUE(notify().WaitForLine("WATCHDOG=1", 5s)) << Describe();

  {
    ThreadFreezer freezer;
    // The broker thread is the main thread, whose loop pings. (Pings from a
    // free-running timer thread would go on here and prove nothing:
    // rabbitmq-systemd-notes §D.2.)
    ASSERT_TRUE(freezer.Freeze(daemon().pid()));
    const NotifyLog::SteadyTime frozen_at = std::chrono::steady_clock::now();
    EXPECT_TRUE(Eventually([&] { return WatchdogWouldFire(frozen_at); }, 10s))
        << "pings went on while the broker thread was stopped\n" << Describe();
    freezer.Thaw();
  }
  ExpectSteadyPings(notify().size(), 2);
  EXPECT_EQ(StopDaemon(), 0) << Describe();
}

TEST_F(WatchdogIt, AStuckWorkerStopsThePings) {
  const std::string order = NewOrder("stuck", R"({"trade_state":"NOTPAY","amount":100})");
  // The worker waits for WeChat Pay's answer long enough to be caught there
  // (inside poll(2), holding none of the daemon's locks), but within
  // wechatpay.timeout: on its own it would finish normally.
  sim_->AddFault(R"({"fault":"delay","order":")" + order + R"(","endpoint":"query","delay_ms":1500})");
  ASSERT_NE(StartReady(config_, kWatchdog), nullptr);
  Publish(order);
  ASSERT_TRUE(Eventually([&] { return sim_->OrderRequests(order, "query") >= 1; }, 15s)) << Describe();

  ThreadFreezer freezer;
  std::vector<pid_t> waiting;
  ASSERT_TRUE(Eventually(
      [&] {
        waiting = WorkerThreadsInSyscall(daemon().pid(), kPollSyscalls);
        return !waiting.empty();
      },
      1s, 5ms))
      << "no worker thread of the daemon is waiting in poll(2) for WeChat Pay's answer\n" << Describe();
  for (pid_t tid : waiting) ASSERT_TRUE(freezer.Freeze(tid));
  const NotifyLog::SteadyTime frozen_at = std::chrono::steady_clock::now();

  // The broker thread still runs (it keeps sending STATUS and would keep
  // pinging), but the stuck worker must stop the pings within a bound that
  // follows from the configured timeouts.
  EXPECT_TRUE(Eventually([&] { return WatchdogWouldFire(frozen_at); }, kStuckWorkerNoticed))
      << "the watchdog kept being fed " << std::chrono::duration_cast<std::chrono::seconds>(kStuckWorkerNoticed).count()
      << " s after a worker got stuck in a call that wechatpay.timeout (2s) bounds; systemd would never restart "
         "this daemon\n"
      << Describe();
  EXPECT_NE(Output().find("<3>"), std::string::npos) << "an error line should say why the pings stopped\n"
                                                     << Describe();

  freezer.Thaw();
  const size_t after_thaw = notify().size();
  ExpectSteadyPings(after_thaw, 2);
  EXPECT_TRUE(db_->WaitForStatus(order, kCancelled, 30s)) << Describe();
  EXPECT_EQ(StopDaemon(), 0) << Describe();
}

}  // namespace
}  // namespace wxpay::testing
