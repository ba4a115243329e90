#include "ops/notifier.h"

#include <gtest/gtest.h>
#include <time.h>

#include <string>
#include <thread>

#include "ops/recording_notifier.h"

namespace wxpay {
namespace {

using std::chrono::milliseconds;

TEST(SanitizeStatusLine, PlainLineIsUnchanged) {
  EXPECT_EQ(SanitizeStatusLine("consuming: 3 done, 0 in flight"), "consuming: 3 done, 0 in flight");
}

TEST(SanitizeStatusLine, NewlineCannotInjectAnotherAssignment) {
  EXPECT_EQ(SanitizeStatusLine("HTTP 500\nREADY=1\r\n"), "HTTP 500\\nREADY=1\\r\\n");
}

TEST(SanitizeStatusLine, ControlCharactersAreEscaped) {
  EXPECT_EQ(SanitizeStatusLine(std::string("a\tb\x01" "c\x7f", 6)), "a\\x09b\\x01c\\x7f");
  EXPECT_EQ(SanitizeStatusLine(std::string("nul\0x", 5)), "nul\\x00x");
}

TEST(SanitizeStatusLine, ValidUtf8IsKept) {
  EXPECT_EQ(SanitizeStatusLine("wechatpay: 签名错误 🙁"), "wechatpay: 签名错误 🙁");
}

TEST(SanitizeStatusLine, InvalidUtf8BytesAreEscaped) {
  EXPECT_EQ(SanitizeStatusLine("a\xff" "b"), "a\\xffb");
  EXPECT_EQ(SanitizeStatusLine("\xc0\x80"), "\\xc0\\x80");              // overlong NUL
  EXPECT_EQ(SanitizeStatusLine("\xed\xa0\x80"), "\\xed\\xa0\\x80");     // surrogate half
  EXPECT_EQ(SanitizeStatusLine("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
  EXPECT_EQ(SanitizeStatusLine("\xe7\xad"), "\\xe7\\xad");              // truncated sequence
}

TEST(SanitizeStatusLine, LongLineIsCutWithEllipsis) {
  const std::string exact(kMaxStatusBytes, 'a');
  EXPECT_EQ(SanitizeStatusLine(exact), exact);
  const std::string longer(kMaxStatusBytes + 1, 'a');
  EXPECT_EQ(SanitizeStatusLine(longer), std::string(kMaxStatusBytes - 3, 'a') + "...");
}

TEST(SanitizeStatusLine, CutNeverSplitsACharacterOrAnEscape) {
  std::string chinese;
  for (int i = 0; i < 300; ++i) chinese += "订";  // 3 bytes each
  const std::string out = SanitizeStatusLine(chinese);
  ASSERT_LE(out.size(), kMaxStatusBytes);
  EXPECT_EQ(out.substr(out.size() - 3), "...");
  EXPECT_EQ((out.size() - 3) % 3, 0u);
  EXPECT_EQ(SanitizeStatusLine(out.substr(0, out.size() - 3)), out.substr(0, out.size() - 3));  // valid UTF-8

  const std::string newlines(kMaxStatusBytes, '\n');  // each becomes two bytes
  const std::string cut = SanitizeStatusLine(newlines);
  EXPECT_EQ(cut.size(), 254u * 2 + 3);  // 254 whole "\n" escapes fit before the "..."
  EXPECT_EQ(cut.substr(cut.size() - 5), "\\n...");
}

unsigned long long MonotonicUsec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<unsigned long long>(ts.tv_sec) * 1000000ULL + static_cast<unsigned long long>(ts.tv_nsec) / 1000;
}

TEST(RecordingNotifier, RecordsTheExactMessages) {
  RecordingNotifier n;
  n.Ready();
  n.Status("consuming: 1 done\nsecond line");
  n.ExtendTimeout(std::chrono::seconds(90));
  n.ExtendTimeout(std::chrono::microseconds(-5));
  n.Watchdog();
  n.Stopping();
  EXPECT_EQ(n.Messages(), (std::vector<std::string>{"READY=1", "STATUS=consuming: 1 done\\nsecond line",
                                                    "EXTEND_TIMEOUT_USEC=90000000", "EXTEND_TIMEOUT_USEC=0",
                                                    "WATCHDOG=1", "STOPPING=1"}));
  EXPECT_EQ(n.CountStartingWith("EXTEND_TIMEOUT_USEC="), 2u);
  EXPECT_EQ(n.LastStartingWith("STATUS="), "STATUS=consuming: 1 done\\nsecond line");
  EXPECT_EQ(n.LastStartingWith("RELOADING="), std::nullopt);
}

TEST(RecordingNotifier, ReloadingCarriesTheMonotonicClock) {
  RecordingNotifier n;
  const unsigned long long before = MonotonicUsec();
  n.Reloading();
  const unsigned long long after = MonotonicUsec();
  const std::string prefix = "RELOADING=1\nMONOTONIC_USEC=";
  const std::string m = n.Messages().at(0);
  ASSERT_EQ(m.substr(0, prefix.size()), prefix);
  const unsigned long long usec = std::stoull(m.substr(prefix.size()));
  EXPECT_GE(usec, before);
  EXPECT_LE(usec, after);
}

TEST(RecordingNotifier, WatchdogIntervalIsWhatTheTestSets) {
  RecordingNotifier n;
  EXPECT_EQ(n.WatchdogInterval(), std::nullopt);
  n.SetWatchdogInterval(std::chrono::seconds(15));
  EXPECT_EQ(n.WatchdogInterval(), std::chrono::microseconds(15000000));
}

TEST(RecordingNotifier, WaitForReturnsOnceTheMessageArrives) {
  RecordingNotifier n;
  EXPECT_FALSE(n.WaitFor("READY=1", 1, milliseconds(1)));
  std::thread sender([&] {
    n.Watchdog();
    n.Ready();
  });
  EXPECT_TRUE(n.WaitFor("READY=1", 1, milliseconds(5000)));
  sender.join();
  EXPECT_FALSE(n.WaitFor("READY=1", 2, milliseconds(1)));
}

}  // namespace
}  // namespace wxpay
