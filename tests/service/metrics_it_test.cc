// The metrics textfile (SPEC §5, §7, issue 5): node-exporter's textfile
// collector format, mode 0644, replaced atomically (never a half-written
// file, no temporary files left behind), written at start, at a fixed
// interval and at shutdown, with the metric names of SPEC §7.
#include <dirent.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>

#include "service/service_fixture.h"

namespace wxpay::testing {
namespace {

using namespace std::chrono_literals;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(d);
  }
  return names;
}

// Whether a sample line "SERIES VALUE" (SERIES with its labels exactly as
// rendered) has a value that satisfies `value_ok`.
bool HasSample(const std::string& text, const std::string& series, const std::function<bool(double)>& value_ok) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.size() <= series.size() + 1 || line.compare(0, series.size() + 1, series + " ") != 0) continue;
    const std::string value = line.substr(series.size() + 1);
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (end != value.c_str() && *end == '\0' && value_ok(v)) return true;
  }
  return false;
}

bool HasSample(const std::string& text, const std::string& series, double expected) {
  return HasSample(text, series, [expected](double v) { return v == expected; });
}

class MetricsIt : public ServiceIt {};

TEST_F(MetricsIt, TextfileAtStartAndAtShutdownWithTheSpecNames) {
  const std::string dir = dir_.path() + "/textfile";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  const std::string path = dir + "/wxpay_reconciler.prom";
  ServiceConfig c;
  c.metrics_textfile = path;
  const std::string order = NewOrder("m", R"({"trade_state":"NOTPAY","amount":100})");
  ASSERT_NE(StartReady(WriteConfig("metrics.yaml", c), 1s), nullptr);

  // At start.
  ASSERT_TRUE(Eventually([&] { return ReadAll(path).find("wxpay_reconciler_up") != std::string::npos; }, 10s))
      << "no metrics textfile at " << path << "\n" << Describe();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u) << "node-exporter must be able to read it";
  std::string text = ReadAll(path);
  for (const char* family : {"wxpay_reconciler_orders_total", "wxpay_reconciler_wechat_requests_total",
                             "wxpay_reconciler_wechat_request_duration_seconds", "wxpay_reconciler_breaker_open",
                             "wxpay_reconciler_last_success_timestamp_seconds", "wxpay_reconciler_up"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + family + " "), std::string::npos) << family << "\n" << text;
  }
  EXPECT_TRUE(HasSample(text, R"(wxpay_reconciler_up{dependency="rabbitmq"})", 1)) << text;
  EXPECT_TRUE(HasSample(text, R"(wxpay_reconciler_up{dependency="database"})", 1)) << text;
  // A breaker that never opened is a 0, not a missing series: an alert on
  // "== 1" and a dashboard both need the series to exist.
  EXPECT_TRUE(HasSample(text, R"(wxpay_reconciler_breaker_open{breaker="wechat"})", 0)) << text;
  EXPECT_TRUE(HasSample(text, R"(wxpay_reconciler_breaker_open{breaker="not_found"})", 0)) << text;

  // One order, then SIGTERM straight away: the counts of that order must be
  // in the file written at shutdown, not wait for the next interval.
  Publish(order);
  ASSERT_TRUE(db_->WaitForStatus(order, kCancelled, 15s)) << Describe();
  const auto stop_requested = std::chrono::system_clock::now();
  EXPECT_EQ(StopDaemon(), 0) << Describe();
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  const auto written = std::chrono::system_clock::time_point(
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec));
  // (file times come from a coarse clock: allow it a few milliseconds)
  EXPECT_GE(written, stop_requested - 20ms) << "the textfile was not written at shutdown";
  EXPECT_EQ(st.st_mode & 07777, 0644u);

  text = ReadAll(path);
  EXPECT_TRUE(HasSample(text, R"(wxpay_reconciler_orders_total{outcome="cancelled"})", 1)) << text;
  EXPECT_TRUE(HasSample(text, R"(wxpay_reconciler_wechat_requests_total{endpoint="query",result="ok"})", 2))
      << text;
  EXPECT_TRUE(HasSample(text, R"(wxpay_reconciler_wechat_requests_total{endpoint="close",result="ok"})", 1))
      << text;
  EXPECT_TRUE(HasSample(text, R"(wxpay_reconciler_wechat_request_duration_seconds_count{endpoint="query"})", 2))
      << text;
  EXPECT_TRUE(
      HasSample(text, R"(wxpay_reconciler_wechat_request_duration_seconds_bucket{endpoint="query",le="+Inf"})", 2))
      << text;
  EXPECT_TRUE(HasSample(text, R"(wxpay_reconciler_up{dependency="wechatpay"})", 1)) << text;
  EXPECT_TRUE(HasSample(text, "wxpay_reconciler_last_success_timestamp_seconds", [](double v) { return v > 1e9; }))
      << text;
  EXPECT_EQ(Entries(dir), std::vector<std::string>{"wxpay_reconciler.prom"}) << "temporary files left behind";
}

}  // namespace
}  // namespace wxpay::testing
