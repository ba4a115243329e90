// Prometheus metrics (SPEC §7), rendered in the text exposition format 0.0.4
// for node-exporter's textfile collector (see ops/metrics_textfile.h) or any
// other place the daemon may serve them from later.
//
// Thread safety: every method may be called from any thread. Looking a series
// up takes the registry mutex briefly; the returned Counter/Gauge/Histogram
// reference stays valid for the registry's lifetime and is updated with
// relaxed atomics only, so a worker can keep it and update it lock-free.
//
// Label values come from the daemon's code (outcomes, endpoints, result
// kinds, breaker names), never raw from the network. As a guard against an
// unbounded set anyway, a family holds at most kMaxSeriesPerFamily label
// combinations; further ones are all counted under the value "_other".
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "ops/dependency.h"

namespace wxpay {

inline constexpr size_t kMaxSeriesPerFamily = 200;
inline constexpr std::string_view kOverflowLabelValue = "_other";

class Counter {
 public:
  void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// A latency histogram with fixed upper bounds (in nanoseconds, ascending; an
// implicit +Inf bucket follows). A render may see an observation in the
// buckets but not yet in the sum: the two are separate atomics.
// REQUIRES: upper_bounds_ns outlives the histogram (use a static array).
class Histogram {
 public:
  explicit Histogram(std::span<const int64_t> upper_bounds_ns);
  void Observe(std::chrono::nanoseconds took);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
    uint64_t count = 0;
    double sum_seconds = 0;
  };
  Snapshot Take() const;
  std::span<const int64_t> upper_bounds_ns() const { return bounds_; }

 private:
  std::span<const int64_t> bounds_;
  std::vector<std::atomic<uint64_t>> buckets_;  // non-cumulative, size bounds+1
  std::atomic<uint64_t> sum_ns_{0};
};

// WeChat Pay request latency buckets: Prometheus' defaults (5 ms … 10 s),
// which bracket wechatpay.timeout (default 5 s).
inline constexpr int64_t kWechatLatencyBucketsNs[] = {
    5'000'000,   10'000'000,  25'000'000,    50'000'000,    100'000'000,    250'000'000,
    500'000'000, 1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};

class Metrics {
 public:
  Metrics();  // up{rabbitmq,database,wechatpay} start at 0, last success at 0 (never)

  // wxpay_reconciler_orders_total{outcome}
  Counter& Orders(std::string_view outcome);
  // wxpay_reconciler_wechat_requests_total{endpoint,result}
  Counter& WechatRequests(std::string_view endpoint, std::string_view result);
  // wxpay_reconciler_wechat_request_duration_seconds{endpoint}
  Histogram& WechatRequestDuration(std::string_view endpoint);
  // wxpay_reconciler_breaker_open{breaker}: 1 open, 0 closed
  Gauge& BreakerOpen(std::string_view breaker);
  // wxpay_reconciler_up{dependency}: 1 reachable and working, 0 not
  Gauge& Up(Dependency d);
  // wxpay_reconciler_last_success_timestamp_seconds (Unix time, 0 = never)
  Gauge& LastSuccessTimestamp() { return last_success_; }

  // Shorthands for the common updates.
  void CountOrder(std::string_view outcome) { Orders(outcome).Inc(); }
  void ObserveWechatRequest(std::string_view endpoint, std::string_view result, std::chrono::nanoseconds took);
  void SetBreakerOpen(std::string_view breaker, bool open) { BreakerOpen(breaker).Set(open ? 1 : 0); }
  void SetUp(Dependency d, bool up) { Up(d).Set(up ? 1 : 0); }
  void SetLastSuccess(TimePoint t);

  // The whole registry in the text format 0.0.4, families in a fixed order,
  // series sorted by label values, ending with a newline.
  std::string Render() const;

 private:
  template <typename T>
  struct Family {
    std::map<std::vector<std::string>, std::unique_ptr<T>> series;  // label values -> series
  };
  template <typename T, typename... Args>
  T& Lookup(Family<T>& family, std::vector<std::string> labels, Args&&... args);

  mutable std::mutex mu_;  // guards the maps, not the values
  Family<Counter> orders_;
  Family<Counter> wechat_requests_;
  Family<Histogram> wechat_duration_;
  Family<Gauge> breaker_open_;
  Family<Gauge> up_;
  Gauge last_success_;
};

// Text-format helpers, exposed for tests and other exporters.
// Label value: backslash, double quote and newline escaped.
std::string EscapeLabelValue(std::string_view value);
// HELP text: backslash and newline escaped.
std::string EscapeHelp(std::string_view help);
// Shortest text that reads back as the same double; +Inf, -Inf, NaN.
std::string FormatSampleValue(double v);

}  // namespace wxpay
