#include "ops/metrics.h"

#include <charconv>
#include <cmath>

namespace wxpay {
namespace {

constexpr std::string_view kOrders = "wxpay_reconciler_orders_total";
constexpr std::string_view kWechatRequests = "wxpay_reconciler_wechat_requests_total";
constexpr std::string_view kWechatDuration = "wxpay_reconciler_wechat_request_duration_seconds";
constexpr std::string_view kBreakerOpen = "wxpay_reconciler_breaker_open";
constexpr std::string_view kUp = "wxpay_reconciler_up";
constexpr std::string_view kLastSuccess = "wxpay_reconciler_last_success_timestamp_seconds";

void Header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += EscapeHelp(help);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

// name{k1="v1",k2="v2"} (no braces when there are no labels)
std::string SeriesName(std::string_view name, std::span<const std::string_view> keys,
                       std::span<const std::string> values) {
  std::string s(name);
  if (keys.empty()) return s;
  s += '{';
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) s += ',';
    s += keys[i];
    s += "=\"";
    s += EscapeLabelValue(values[i]);
    s += '"';
  }
  s += '}';
  return s;
}

void Sample(std::string& out, const std::string& series, std::string_view value) {
  out += series;
  out += ' ';
  out += value;
  out += '\n';
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatSampleValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return "NaN";  // cannot happen with 64 bytes
  return std::string(buf, end);
}

Histogram::Histogram(std::span<const int64_t> upper_bounds_ns)
    : bounds_(upper_bounds_ns), buckets_(upper_bounds_ns.size() + 1) {}

void Histogram::Observe(std::chrono::nanoseconds took) {
  const int64_t ns = took.count() > 0 ? took.count() : 0;
  size_t i = 0;
  while (i < bounds_.size() && ns > bounds_[i]) ++i;  // le: upper bounds are inclusive
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(ns), std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Take() const {
  Snapshot s;
  s.cumulative.reserve(buckets_.size());
  uint64_t running = 0;
  for (const auto& b : buckets_) {
    running += b.load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.count = running;
  s.sum_seconds = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  return s;
}

Metrics::Metrics() {
  for (Dependency d : kAllDependencies) Up(d).Set(0);
}

template <typename T, typename... Args>
T& Metrics::Lookup(Family<T>& family, std::vector<std::string> labels, Args&&... args) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = family.series.find(labels);
  if (it != family.series.end()) return *it->second;
  if (family.series.size() >= kMaxSeriesPerFamily) {
    for (auto& l : labels) l = std::string(kOverflowLabelValue);
    it = family.series.find(labels);
    if (it != family.series.end()) return *it->second;
  }
  auto inserted = family.series.emplace(std::move(labels), std::make_unique<T>(std::forward<Args>(args)...));
  return *inserted.first->second;
}

Counter& Metrics::Orders(std::string_view outcome) { return Lookup(orders_, {std::string(outcome)}); }

Counter& Metrics::WechatRequests(std::string_view endpoint, std::string_view result) {
  return Lookup(wechat_requests_, {std::string(endpoint), std::string(result)});
}

Histogram& Metrics::WechatRequestDuration(std::string_view endpoint) {
  return Lookup(wechat_duration_, {std::string(endpoint)}, std::span<const int64_t>(kWechatLatencyBucketsNs));
}

Gauge& Metrics::BreakerOpen(std::string_view breaker) { return Lookup(breaker_open_, {std::string(breaker)}); }

Gauge& Metrics::Up(Dependency d) { return Lookup(up_, {std::string(DependencyName(d))}); }

void Metrics::ObserveWechatRequest(std::string_view endpoint, std::string_view result,
                                   std::chrono::nanoseconds took) {
  WechatRequests(endpoint, result).Inc();
  WechatRequestDuration(endpoint).Observe(took);
}

void Metrics::SetLastSuccess(TimePoint t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  last_success_.Set(static_cast<double>(ms) / 1000.0);
}

std::string Metrics::Render() const {
  static constexpr std::string_view kOutcome[] = {"outcome"};
  static constexpr std::string_view kEndpointResult[] = {"endpoint", "result"};
  static constexpr std::string_view kEndpoint[] = {"endpoint"};
  static constexpr std::string_view kEndpointLe[] = {"endpoint", "le"};
  static constexpr std::string_view kBreaker[] = {"breaker"};
  static constexpr std::string_view kDependency[] = {"dependency"};

  std::string out;
  std::lock_guard<std::mutex> lock(mu_);

  Header(out, kOrders, "counter", "Orders that reached an outcome, by outcome.");
  for (const auto& [labels, c] : orders_.series) {
    Sample(out, SeriesName(kOrders, kOutcome, labels), std::to_string(c->Value()));
  }

  Header(out, kWechatRequests, "counter", "Requests to WeChat Pay, by endpoint and result.");
  for (const auto& [labels, c] : wechat_requests_.series) {
    Sample(out, SeriesName(kWechatRequests, kEndpointResult, labels), std::to_string(c->Value()));
  }

  Header(out, kWechatDuration, "histogram", "Time from sending a WeChat Pay request to its verified answer.");
  const std::string bucket_name = std::string(kWechatDuration) + "_bucket";
  for (const auto& [labels, h] : wechat_duration_.series) {
    const Histogram::Snapshot snap = h->Take();
    const auto bounds = h->upper_bounds_ns();
    for (size_t i = 0; i < snap.cumulative.size(); ++i) {
      const std::string le = i < bounds.size() ? FormatSampleValue(static_cast<double>(bounds[i]) / 1e9) : "+Inf";
      const std::string with_le[] = {labels[0], le};
      Sample(out, SeriesName(bucket_name, kEndpointLe, with_le), std::to_string(snap.cumulative[i]));
    }
    Sample(out, SeriesName(std::string(kWechatDuration) + "_sum", kEndpoint, labels),
           FormatSampleValue(snap.sum_seconds));
    Sample(out, SeriesName(std::string(kWechatDuration) + "_count", kEndpoint, labels),
           std::to_string(snap.count));
  }

  Header(out, kBreakerOpen, "gauge", "1 while the named circuit breaker is open, else 0.");
  for (const auto& [labels, g] : breaker_open_.series) {
    Sample(out, SeriesName(kBreakerOpen, kBreaker, labels), FormatSampleValue(g->Value()));
  }

  Header(out, kUp, "gauge", "1 while the dependency is reachable and working, else 0.");
  for (const auto& [labels, g] : up_.series) {
    Sample(out, SeriesName(kUp, kDependency, labels), FormatSampleValue(g->Value()));
  }

  Header(out, kLastSuccess, "gauge", "Unix time an order last reached an outcome; 0 = not since start.");
  Sample(out, std::string(kLastSuccess), FormatSampleValue(last_success_.Value()));
  return out;
}

}  // namespace wxpay
