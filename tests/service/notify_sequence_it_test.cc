// sd_notify as systemd sees it (SPEC §7, issue 5): READY=1 once consuming,
// WATCHDOG=1 at half of WATCHDOG_USEC, RELOADING=1 ... READY=1 around
// SIGHUP, STOPPING=1 on SIGTERM, then the in-flight order is finished,
// acknowledged, and the daemon exits 0. STATUS= says what is going on.
#include <signal.h>

#include <algorithm>

#include "service/service_fixture.h"

namespace wxpay::testing {
namespace {

using namespace std::chrono_literals;

constexpr std::chrono::microseconds kWatchdog = 1s;  // pings expected every 500 ms

std::vector<NotifyLog::Line> Matching(const std::vector<NotifyLog::Line>& lines, std::string_view text, size_t from,
                                      size_t to) {
  std::vector<NotifyLog::Line> out;
  for (size_t i = from; i < std::min(to, lines.size()); ++i) {
    if (lines[i].text == text) out.push_back(lines[i]);
  }
  return out;
}

class NotifySequenceIt : public ServiceIt {};

TEST_F(NotifySequenceIt, ReadyWatchdogReloadStopInOrderAndInFlightOrderAcked) {
  const std::string first = NewOrder("a", R"({"trade_state":"NOTPAY","amount":100})");
  const std::string second = NewOrder("b", R"({"trade_state":"NOTPAY","amount":100})");
  // The second order is still being worked on when SIGTERM comes.
  sim_->AddFault(R"({"fault":"delay","order":")" + second + R"(","endpoint":"query","delay_ms":1500})");

  ASSERT_NE(StartDaemon(config_, kWatchdog), nullptr);
  const std::optional<size_t> ready = notify().WaitForLine("READY=1", 30s);
  ASSERT_TRUE(ready) << Describe();
  {
    const std::vector<NotifyLog::Line> lines = notify().Lines();
    EXPECT_TRUE(std::any_of(lines.begin(), lines.begin() + static_cast<long>(*ready),
                            [](const NotifyLog::Line& l) { return StartsWith(l.text, "STATUS=starting"); }))
        << "a STATUS= saying the daemon is starting should come before READY=1\n" << Describe();
    EXPECT_TRUE(Matching(lines, "WATCHDOG=1", 0, *ready).empty())
        << "WATCHDOG=1 before READY=1: the watchdog only counts once start-up is complete\n" << Describe();
  }
  EXPECT_TRUE(notify().WaitForPrefix("STATUS=consuming: 0 done", 10s, *ready)) << Describe();

  // Pings: at least three, each within WATCHDOG_USEC of the one before (and
  // of READY=1): systemd would fire otherwise.
  std::optional<size_t> third_ping;
  {
    size_t from = *ready;
    for (int i = 0; i < 3; ++i) {
      third_ping = notify().WaitForLine("WATCHDOG=1", 5s, from);
      ASSERT_TRUE(third_ping) << "ping " << i + 1 << " did not come\n" << Describe();
      from = *third_ping + 1;
    }
    const std::vector<NotifyLog::Line> lines = notify().Lines();
    NotifyLog::SteadyTime previous = lines[*ready].at;
    for (const NotifyLog::Line& ping : Matching(lines, "WATCHDOG=1", *ready, *third_ping + 1)) {
      EXPECT_LE(ping.at - previous, kWatchdog) << "a watchdog ping came late\n" << Describe();
      previous = ping.at;
    }
  }

  // One order while consuming: STATUS counts it.
  Publish(first);
  EXPECT_TRUE(db_->WaitForStatus(first, kCancelled, 15s)) << Describe();
  EXPECT_TRUE(notify().WaitForPrefix("STATUS=consuming: 1 done (0 paid 1 cancelled 0 other), 0 in flight", 10s))
      << Describe();

  // SIGHUP: RELOADING=1, then READY=1 again, and the daemon keeps pinging.
  const size_t before_reload = notify().size();
  daemon().Signal(SIGHUP);
  const std::optional<size_t> reloading = notify().WaitForLine("RELOADING=1", 10s, before_reload);
  ASSERT_TRUE(reloading) << Describe();
  const std::optional<size_t> ready_again = notify().WaitForLine("READY=1", 10s, *reloading + 1);
  ASSERT_TRUE(ready_again) << "no READY=1 after RELOADING=1\n" << Describe();
  EXPECT_TRUE(notify().WaitForLine("WATCHDOG=1", 5s, *ready_again + 1)) << Describe();

  // SIGTERM with an order in flight: STOPPING=1, the order is finished and
  // acknowledged, exit 0.
  Publish(second);
  ASSERT_TRUE(Eventually([&] { return sim_->OrderRequests(second, "query") >= 1; }, 15s)) << Describe();
  EXPECT_TRUE(notify().WaitFor([](const std::string& l) {
    return StartsWith(l, "STATUS=consuming:") && l.find(", 1 in flight") != std::string::npos;
  }, 5s)) << Describe();
  const size_t before_stop = notify().size();
  EXPECT_EQ(StopDaemon(), 0) << Describe();
  const std::optional<size_t> stopping = notify().WaitForLine("STOPPING=1", 1s, before_stop);
  ASSERT_TRUE(stopping) << Describe();
  EXPECT_TRUE(notify().WaitForPrefix("STATUS=draining:", 1s, *stopping)) << Describe();
  EXPECT_FALSE(notify().WaitForLine("READY=1", 0ms, *stopping)) << "READY=1 after STOPPING=1\n" << Describe();

  EXPECT_EQ(db_->Status(second), kCancelled) << "the in-flight order was not finished\n" << Describe();
  EXPECT_EQ(Depth(queue_), 0u) << "a message was not acknowledged (it went back to the queue)";
  EXPECT_EQ(Depth(dlq_), 0u);
}

}  // namespace
}  // namespace wxpay::testing
