#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "core/decision.h"
#include "core/not_found_breaker.h"
#include "core/wechat_breaker.h"

namespace wxpay {
namespace {

using namespace std::chrono_literals;

const TimePoint kT0 = TimePoint(std::chrono::seconds(1714536000));

// ---- WeChat breaker

WechatBreakerOptions SmallOptions() {
  WechatBreakerOptions o;
  o.window = 10;
  o.min_samples = 5;
  o.failures_to_open = 5;
  o.probe_initial = 1s;
  o.probe_max = 8s;
  o.probe_multiplier = 2.0;
  return o;
}

TEST(WechatBreaker, StaysClosedBelowTheMinimumSample) {
  WechatBreaker b(SmallOptions());
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(b.RecordCall(true, "HTTP 401 SIGN_ERROR", kT0));
  EXPECT_FALSE(b.open());
  EXPECT_EQ(b.status().recent_failures, 4);
}

TEST(WechatBreaker, OpensWhenEnoughOfTheRecentCallsFailSystemWide) {
  WechatBreaker b(SmallOptions());
  for (int i = 0; i < 5; ++i) b.RecordCall(false, "", kT0);
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(b.RecordCall(true, "connect: timeout", kT0));
  EXPECT_TRUE(b.RecordCall(true, "HTTP 401 SIGN_ERROR", kT0 + 1s));
  EXPECT_TRUE(b.open());
  const auto s = b.status();
  EXPECT_NE(s.reason.find("5 of the last 10"), std::string::npos) << s.reason;
  EXPECT_NE(s.reason.find("SIGN_ERROR"), std::string::npos) << s.reason;
  EXPECT_EQ(s.opened_at, kT0 + 1s);
  EXPECT_EQ(s.next_probe, kT0 + 2s);
}

TEST(WechatBreaker, OldFailuresSlideOutOfTheWindow) {
  WechatBreaker b(SmallOptions());
  for (int i = 0; i < 4; ++i) b.RecordCall(true, "x", kT0);
  for (int i = 0; i < 10; ++i) b.RecordCall(false, "", kT0);
  EXPECT_EQ(b.status().recent_failures, 0);
  for (int i = 0; i < 4; ++i) b.RecordCall(true, "x", kT0);
  EXPECT_FALSE(b.open());
}

TEST(WechatBreaker, SuccessesInterleavedKeepItClosed) {
  WechatBreaker b(SmallOptions());
  for (int i = 0; i < 100; ++i) b.RecordCall(i % 3 == 0, "x", kT0);
  EXPECT_FALSE(b.open());
}

TEST(WechatBreaker, ProbesBackOffAndASuccessfulProbeCloses) {
  WechatBreaker b(SmallOptions());
  for (int i = 0; i < 5; ++i) b.RecordCall(true, "HTTP 503", kT0);
  ASSERT_TRUE(b.open());
  EXPECT_FALSE(b.ProbeDue(kT0 + 999ms));
  EXPECT_TRUE(b.ProbeDue(kT0 + 1s));

  // Regular results while open change nothing.
  EXPECT_FALSE(b.RecordCall(false, "", kT0 + 1s));
  EXPECT_TRUE(b.open());

  TimePoint now = kT0 + 1s;
  const Millis expected[] = {2s, 4s, 8s, 8s};
  for (Millis delay : expected) {
    b.RecordProbe(false, "HTTP 503", now);
    EXPECT_EQ(b.status().probe_delay, delay);
    EXPECT_FALSE(b.ProbeDue(now + delay - 1ms));
    now += delay;
    EXPECT_TRUE(b.ProbeDue(now));
  }
  EXPECT_EQ(b.status().failed_probes, 4);
  EXPECT_NE(b.status().reason.find("probe 4 failed"), std::string::npos);

  b.RecordProbe(true, "", now);
  EXPECT_FALSE(b.open());
  EXPECT_TRUE(b.status().reason.empty());
  EXPECT_EQ(b.status().recent_calls, 0);
  EXPECT_FALSE(b.ProbeDue(now + 1h));
}

TEST(WechatBreaker, ReopensAfterClosingIfFailuresReturn) {
  WechatBreaker b(SmallOptions());
  for (int i = 0; i < 5; ++i) b.RecordCall(true, "x", kT0);
  b.RecordProbe(true, "", kT0 + 1s);
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(b.RecordCall(true, "y", kT0 + 2s));
  EXPECT_TRUE(b.RecordCall(true, "y", kT0 + 2s));
  EXPECT_EQ(b.status().probe_delay, 1s);  // the schedule starts over
}

TEST(WechatBreaker, FedFromADecisionsCalls) {
  WechatBreaker b(SmallOptions());
  Decision d;
  WechatCall failed;
  failed.ok = false;
  failed.system_wide = true;
  failed.description = "HTTP 500 SYSTEM_ERROR";
  WechatCall not_found;
  not_found.ok = false;
  not_found.error_kind = PayErrorKind::kNotFound;
  not_found.system_wide = false;
  d.calls = {failed, failed, not_found, failed, failed};
  EXPECT_FALSE(FeedWechatBreaker(b, d, kT0));
  EXPECT_EQ(b.status().recent_calls, 5);
  EXPECT_EQ(b.status().recent_failures, 4);
  d.calls = {failed};
  EXPECT_TRUE(FeedWechatBreaker(b, d, kT0));
  EXPECT_NE(b.status().reason.find("SYSTEM_ERROR"), std::string::npos);
}

// ---- not-found breaker

TEST(NotFoundBreaker, OpensAtTheThresholdAndParksFurther404s) {
  NotFoundBreaker b;
  EXPECT_FALSE(b.RecordNotFound(3));
  EXPECT_FALSE(b.RecordNotFound(3));
  EXPECT_FALSE(b.RecordNotFound(3));  // completes the run: handled normally, opens
  EXPECT_TRUE(b.open());
  EXPECT_TRUE(b.RecordNotFound(3));
  EXPECT_EQ(b.status().consecutive_not_found, 4);
  EXPECT_EQ(b.status().threshold, 3);
  b.RecordFound();
  EXPECT_TRUE(b.open());
  b.Reset();
  EXPECT_FALSE(b.open());
  EXPECT_EQ(b.status().consecutive_not_found, 0);
}

TEST(NotFoundBreaker, IsThreadSafe) {
  NotFoundBreaker b;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) (void)b.RecordNotFound(1'000'000);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(b.status().consecutive_not_found, 4000);
  EXPECT_FALSE(b.open());
}

}  // namespace
}  // namespace wxpay
