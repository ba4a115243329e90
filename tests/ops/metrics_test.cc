#include "ops/metrics.h"

#include <gtest/gtest.h>

#include <limits>
#include <thread>
#include <vector>

namespace wxpay {
namespace {

using namespace std::chrono_literals;

const char kEmptyRegistry[] =
    "# HELP wxpay_reconciler_orders_total Orders that reached an outcome, by outcome.\n"
    "# TYPE wxpay_reconciler_orders_total counter\n"
    "# HELP wxpay_reconciler_wechat_requests_total Requests to WeChat Pay, by endpoint and result.\n"
    "# TYPE wxpay_reconciler_wechat_requests_total counter\n"
    "# HELP wxpay_reconciler_wechat_request_duration_seconds Time from sending a WeChat Pay request to its "
    "verified answer.\n"
    "# TYPE wxpay_reconciler_wechat_request_duration_seconds histogram\n"
    "# HELP wxpay_reconciler_breaker_open 1 while the named circuit breaker is open, else 0.\n"
    "# TYPE wxpay_reconciler_breaker_open gauge\n"
    "# HELP wxpay_reconciler_up 1 while the dependency is reachable and working, else 0.\n"
    "# TYPE wxpay_reconciler_up gauge\n"
    "wxpay_reconciler_up{dependency=\"database\"} 0\n"
    "wxpay_reconciler_up{dependency=\"rabbitmq\"} 0\n"
    "wxpay_reconciler_up{dependency=\"wechatpay\"} 0\n"
    "# HELP wxpay_reconciler_last_success_timestamp_seconds Unix time an order last reached an outcome; 0 = not "
    "since start.\n"
    "# TYPE wxpay_reconciler_last_success_timestamp_seconds gauge\n"
    "wxpay_reconciler_last_success_timestamp_seconds 0\n";

TEST(Metrics, FreshRegistryRendersEveryFamilyAndTheDependencies) {
  Metrics m;
  EXPECT_EQ(m.Render(), kEmptyRegistry);
}

TEST(Metrics, RendersExactTextFormat) {
  Metrics m;
  m.CountOrder("paid");
  m.CountOrder("cancelled");
  m.CountOrder("paid");
  m.Orders("dead_lettered");  // declared, still 0
  m.ObserveWechatRequest("query", "ok", 3ms);
  m.ObserveWechatRequest("query", "ok", 5ms);  // on the bound: le is inclusive
  m.ObserveWechatRequest("query", "http_5xx", 1200ms);
  m.ObserveWechatRequest("close", "ok", 12s);  // beyond every bound
  m.SetBreakerOpen("wechat", true);
  m.SetBreakerOpen("not_found", false);
  m.SetUp(Dependency::kRabbitmq, true);
  m.SetUp(Dependency::kDatabase, true);
  m.SetLastSuccess(TimePoint(std::chrono::milliseconds(1778580000123)));

  const std::string expected =
      "# HELP wxpay_reconciler_orders_total Orders that reached an outcome, by outcome.\n"
      "# TYPE wxpay_reconciler_orders_total counter\n"
      "wxpay_reconciler_orders_total{outcome=\"cancelled\"} 1\n"
      "wxpay_reconciler_orders_total{outcome=\"dead_lettered\"} 0\n"
      "wxpay_reconciler_orders_total{outcome=\"paid\"} 2\n"
      "# HELP wxpay_reconciler_wechat_requests_total Requests to WeChat Pay, by endpoint and result.\n"
      "# TYPE wxpay_reconciler_wechat_requests_total counter\n"
      "wxpay_reconciler_wechat_requests_total{endpoint=\"close\",result=\"ok\"} 1\n"
      "wxpay_reconciler_wechat_requests_total{endpoint=\"query\",result=\"http_5xx\"} 1\n"
      "wxpay_reconciler_wechat_requests_total{endpoint=\"query\",result=\"ok\"} 2\n"
      "# HELP wxpay_reconciler_wechat_request_duration_seconds Time from sending a WeChat Pay request to its "
      "verified answer.\n"
      "# TYPE wxpay_reconciler_wechat_request_duration_seconds histogram\n"
      "wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint=\"close\",le=\"0.005\"} 0\n"
      "wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint=\"close\",le=\"0.01\"} 0\n"
      "wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint=\"close\",le=\"0.025\"} 0\n"
      "wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint=\"close\",le=\"0.05\"} 0\n"
      "wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint=\"close\",le=\"0.1\"} 0\n"
      "wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint=\"close\",le=\"0.25\"} 0\n"
      "wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint=\"close\",le=\"0.5\"} 0\n"
      "wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint=\"close\",le=\"1\"} 0\n"
      "wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint=\"close\",le=\"2.5\"} 0\n"
      "wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint=\"close\",le=\"5\"} 0\n"
      "wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint=\"close\",le=\"10\"} 0\n"
      "wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint=\"close\",le=\"+Inf\"} 1\n"
      "wxpay_reconciler_wechat_request_duration_seconds_sum{endpoint=\"close\"} 12\n"
      "wxpay_reconciler_wechat_request_duration_seconds_count{endpoint=\"close\"} 1\n"
      "wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint=\"query\",le=\"0.005\"} 2\n"
      "wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint=\"query\",le=\"0.01\"} 2\n"
      "wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint=\"query\",le=\"0.025\"} 2\n"
      "wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint=\"query\",le=\"0.05\"} 2\n"
      "wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint=\"query\",le=\"0.1\"} 2\n"
      "wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint=\"query\",le=\"0.25\"} 2\n"
      "wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint=\"query\",le=\"0.5\"} 2\n"
      "wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint=\"query\",le=\"1\"} 2\n"
      "wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint=\"query\",le=\"2.5\"} 3\n"
      "wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint=\"query\",le=\"5\"} 3\n"
      "wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint=\"query\",le=\"10\"} 3\n"
      "wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint=\"query\",le=\"+Inf\"} 3\n"
      "wxpay_reconciler_wechat_request_duration_seconds_sum{endpoint=\"query\"} 1.208\n"
      "wxpay_reconciler_wechat_request_duration_seconds_count{endpoint=\"query\"} 3\n"
      "# HELP wxpay_reconciler_breaker_open 1 while the named circuit breaker is open, else 0.\n"
      "# TYPE wxpay_reconciler_breaker_open gauge\n"
      "wxpay_reconciler_breaker_open{breaker=\"not_found\"} 0\n"
      "wxpay_reconciler_breaker_open{breaker=\"wechat\"} 1\n"
      "# HELP wxpay_reconciler_up 1 while the dependency is reachable and working, else 0.\n"
      "# TYPE wxpay_reconciler_up gauge\n"
      "wxpay_reconciler_up{dependency=\"database\"} 1\n"
      "wxpay_reconciler_up{dependency=\"rabbitmq\"} 1\n"
      "wxpay_reconciler_up{dependency=\"wechatpay\"} 0\n"
      "# HELP wxpay_reconciler_last_success_timestamp_seconds Unix time an order last reached an outcome; 0 = "
      "not since start.\n"
      "# TYPE wxpay_reconciler_last_success_timestamp_seconds gauge\n"
      "wxpay_reconciler_last_success_timestamp_seconds 1778580000.123\n";
  EXPECT_EQ(m.Render(), expected);
}

TEST(Metrics, LabelValuesAreEscaped) {
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(EscapeLabelValue("签名"), "签名");
  Metrics m;
  m.CountOrder("odd\"name\\\n");
  EXPECT_NE(m.Render().find("wxpay_reconciler_orders_total{outcome=\"odd\\\"name\\\\\\n\"} 1\n"), std::string::npos)
      << m.Render();
}

TEST(Metrics, HelpTextIsEscaped) { EXPECT_EQ(EscapeHelp("a\\b\nc\"d"), "a\\\\b\\nc\"d"); }

TEST(Metrics, SampleValuesUseTheShortestExactText) {
  EXPECT_EQ(FormatSampleValue(0), "0");
  EXPECT_EQ(FormatSampleValue(1), "1");
  EXPECT_EQ(FormatSampleValue(0.1), "0.1");
  EXPECT_EQ(FormatSampleValue(-2.5), "-2.5");
  EXPECT_EQ(FormatSampleValue(1778580000.5), "1778580000.5");
  EXPECT_EQ(FormatSampleValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatSampleValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatSampleValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(Metrics, HistogramBoundsAreInclusiveAndNegativeDurationsCountAsZero) {
  static constexpr int64_t kBounds[] = {1000, 2000};
  Histogram h(kBounds);
  h.Observe(std::chrono::nanoseconds(1000));
  h.Observe(std::chrono::nanoseconds(1001));
  h.Observe(std::chrono::nanoseconds(-5));
  h.Observe(std::chrono::nanoseconds(5000));
  const Histogram::Snapshot s = h.Take();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{2, 3, 4}));
  EXPECT_EQ(s.count, 4u);
  EXPECT_DOUBLE_EQ(s.sum_seconds, 7001e-9);
}

TEST(Metrics, UnboundedLabelValuesFoldIntoOther) {
  Metrics m;
  for (size_t i = 0; i < kMaxSeriesPerFamily + 5; ++i) m.CountOrder("outcome_" + std::to_string(i));
  m.CountOrder("outcome_0");  // an existing series still counts as itself
  const std::string text = m.Render();
  EXPECT_NE(text.find("wxpay_reconciler_orders_total{outcome=\"outcome_0\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("wxpay_reconciler_orders_total{outcome=\"_other\"} 5\n"), std::string::npos);
  EXPECT_EQ(text.find("outcome_" + std::to_string(kMaxSeriesPerFamily) + "\""), std::string::npos);
  size_t series = 0;
  for (size_t pos = 0; (pos = text.find("wxpay_reconciler_orders_total{", pos)) != std::string::npos; ++pos) ++series;
  EXPECT_EQ(series, kMaxSeriesPerFamily + 1);
}

TEST(Metrics, HandlesStayValidAndConcurrentUpdatesAreExact) {
  Metrics m;
  Counter& paid = m.Orders("paid");
  Histogram& query = m.WechatRequestDuration("query");
  constexpr int kThreads = 4;
  constexpr int kEach = 5000;
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        paid.Inc();
        query.Observe(1ms);
        m.ObserveWechatRequest("close", "ok", 2ms);
        m.CountOrder("w" + std::to_string(t));  // new series while others update
        if (i % 500 == 0) (void)m.Render();
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(&paid, &m.Orders("paid"));
  EXPECT_EQ(paid.Value(), uint64_t{kThreads * kEach});
  EXPECT_EQ(query.Take().count, uint64_t{kThreads * kEach});
  EXPECT_EQ(m.WechatRequests("close", "ok").Value(), uint64_t{kThreads * kEach});
  EXPECT_EQ(m.WechatRequestDuration("close").Take().cumulative.front(), uint64_t{kThreads * kEach});
  EXPECT_DOUBLE_EQ(query.Take().sum_seconds, kThreads * kEach * 0.001);
}

}  // namespace
}  // namespace wxpay
