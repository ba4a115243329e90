// Logging for journald (SPEC §7, issue 5): every line the daemon writes
// starts with its <N> priority prefix; under journald (JOURNAL_STREAM set)
// nothing else is prefixed, otherwise a timestamp follows the prefix. One
// line per decision, carrying the order number.
#include <signal.h>

#include <cctype>
#include <sstream>

#include "service/service_fixture.h"

namespace wxpay::testing {
namespace {

using namespace std::chrono_literals;

// (No std::regex here: GCC 12 warns inside <regex> under -O1 with sanitizers.)

// "<N>" with N a syslog priority from 0 to `max`.
bool HasPriority(std::string_view line, char max = '7') {
  return line.size() >= 3 && line[0] == '<' && line[1] >= '0' && line[1] <= max && line[2] == '>';
}

bool HasAnyPriority(std::string_view line) { return HasPriority(line); }

// "<N>YYYY-MM-DDTHH:MM:SS.mmm " then the message.
bool HasPriorityAndTimestamp(std::string_view line) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.ddd ";
  if (!HasPriority(line) || line.size() <= 3 + kShape.size()) return false;
  for (size_t i = 0; i < kShape.size(); ++i) {
    const char c = line[3 + i];
    if (kShape[i] == 'd' ? std::isdigit(static_cast<unsigned char>(c)) == 0 : c != kShape[i]) return false;
  }
  return line[3 + kShape.size()] != ' ';
}

// "<N>YYYY-MM-DDT...": a timestamp where journald wants none.
bool HasPriorityThenDate(std::string_view line) {
  return HasPriority(line) && line.size() >= 14 && std::isdigit(static_cast<unsigned char>(line[3])) != 0 &&
         line[7] == '-' && line[10] == '-' && line[13] == 'T';
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The lines of `output` that fail `ok`, for a failure message.
std::string Failing(const std::string& output, bool (*ok)(std::string_view)) {
  std::string bad;
  for (const std::string& line : SplitLines(output)) {
    if (!ok(line)) bad += "  " + line + "\n";
  }
  return bad;
}

// Whether a line of priority error or worse (<0> to <3>) contains `text`.
bool HasErrorLineWith(const std::string& output, std::string_view text) {
  for (const std::string& line : SplitLines(output)) {
    if (HasPriority(line, '3') && line.find(text) != std::string::npos) return true;
  }
  return false;
}

// The first line that contains `text`, or "".
std::string LineWith(const std::string& output, std::string_view text) {
  for (const std::string& line : SplitLines(output)) {
    if (line.find(text) != std::string::npos) return line;
  }
  return "";
}

class LoggingIt : public ServiceIt {
 protected:
  // A short life of the daemon: start, one order, a reload, SIGTERM.
  // Returns the order number.
  std::string RunOneOrder(const std::vector<std::string>& env) {
    const std::string order = NewOrder("log", R"({"trade_state":"NOTPAY","amount":100})");
    if (StartReady(config_, 0us, env) == nullptr) return order;
    Publish(order);
    EXPECT_TRUE(db_->WaitForStatus(order, kCancelled, 15s)) << Describe();
    const size_t before = notify().size();
    daemon().Signal(SIGHUP);
    EXPECT_TRUE(notify().WaitForLine("READY=1", 10s, before)) << Describe();
    EXPECT_EQ(StopDaemon(), 0) << Describe();
    return order;
  }
};

TEST_F(LoggingIt, UnderJournaldEveryLineHasItsPriorityAndNoTimestamp) {
  const std::string order = RunOneOrder({"JOURNAL_STREAM=8:123456"});
  const std::string out = Output();
  ASSERT_GE(SplitLines(out).size(), 3u) << out;
  EXPECT_EQ(Failing(out, HasAnyPriority), "") << "lines without a <N> prefix";
  for (const std::string& line : SplitLines(out)) {
    EXPECT_FALSE(HasPriorityThenDate(line)) << "a timestamp under journald: " << line;
  }
  EXPECT_TRUE(StartsWith(LineWith(out, "order=" + order + " "), "<6>order=" + order + " "))
      << "the decision line should be info and start with the order number\n" << out;
}

TEST_F(LoggingIt, OnATerminalEveryLineHasItsPriorityThenATimestamp) {
  const std::string order = RunOneOrder({});
  const std::string out = Output();
  ASSERT_GE(SplitLines(out).size(), 3u) << out;
  EXPECT_EQ(Failing(out, HasPriorityAndTimestamp), "") << "lines without <N> and a timestamp";
  const std::string decision = LineWith(out, " order=" + order + " shop=unpaid wechat=NOTPAY "
                                             "action=close+requery+cancel result=cancelled attempt=1 took=");
  EXPECT_TRUE(StartsWith(decision, "<6>")) << "no info line for the decision (SPEC §7 format)\n" << out;
}

// The lines that matter most to an operator — why the daemon gave up —
// must reach the journal with their priority too (journalctl -p err).
TEST_F(LoggingIt, AFailedStartLogsEveryLineWithItsPriority) {
  ServiceConfig down;
  down.amqp_url = "amqp://guest:guest@127.0.0.1:" + std::to_string(ClosedLoopbackPort()) + "/%2f";
  down.start_timeout = "1s";
  ASSERT_NE(StartDaemon(WriteConfig("broker-down.yaml", down), 0us, {"JOURNAL_STREAM=8:123456"}), nullptr);
  std::optional<int> code = daemon().Wait(30s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 69);
  EXPECT_EQ(Failing(Output(), HasAnyPriority), "")
      << "exit 69: lines without a <N> prefix (journald logs them as info)";
  EXPECT_TRUE(HasErrorLineWith(Output(), "RabbitMQ")) << "the reason for exit 69 should be an error line\n"
                                                      << Output();

  ServiceConfig mistake;
  mistake.extra_yaml = "shop_name: demo\n";
  ASSERT_NE(StartDaemon(WriteConfig("mistake.yaml", mistake), 0us, {"JOURNAL_STREAM=8:123456"}), nullptr);
  code = daemon().Wait(30s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 78);
  EXPECT_EQ(Failing(Output(), HasAnyPriority), "")
      << "exit 78: lines without a <N> prefix (journald logs them as info)";
  EXPECT_TRUE(HasErrorLineWith(Output(), "shop_name")) << "the configuration error should be an error line\n"
                                                       << Output();
}

}  // namespace
}  // namespace wxpay::testing
