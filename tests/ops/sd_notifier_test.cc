#include "ops/sd_notifier.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include <string>
#include <thread>
#include <vector>

#include "ops/notify_receiver.h"
#include "ops/scoped_env.h"
#include "ops/temp_dir.h"

namespace wxpay {
namespace {

using std::chrono::milliseconds;
using testing::NotifyReceiver;
using testing::ScopedEnv;

constexpr milliseconds kWait{5000};

TEST(SdNotifier, SendsEachMessageAsOneDatagramToNotifySocket) {
  NotifyReceiver receiver;
  CapturingLogger log;
  SdNotifier n(log);

  n.Ready();
  EXPECT_EQ(receiver.Receive(kWait), "READY=1");
  n.Status("consuming: 2 done (1 paid 1 cancelled 0 other)\nREADY=1");
  EXPECT_EQ(receiver.Receive(kWait), "STATUS=consuming: 2 done (1 paid 1 cancelled 0 other)\\nREADY=1");
  n.Reloading();
  const std::optional<std::string> reloading = receiver.Receive(kWait);
  ASSERT_TRUE(reloading.has_value());
  EXPECT_EQ(reloading->rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u) << *reloading;
  n.Ready();
  EXPECT_EQ(receiver.Receive(kWait), "READY=1");
  n.ExtendTimeout(std::chrono::minutes(2));
  EXPECT_EQ(receiver.Receive(kWait), "EXTEND_TIMEOUT_USEC=120000000");
  n.Watchdog();
  EXPECT_EQ(receiver.Receive(kWait), "WATCHDOG=1");
  n.Stopping();
  EXPECT_EQ(receiver.Receive(kWait), "STOPPING=1");

  EXPECT_EQ(receiver.Receive(milliseconds(0)), std::nullopt);  // nothing else was sent
  EXPECT_TRUE(log.Lines().empty());
}

TEST(SdNotifier, OutsideSystemdNothingIsSentAndNothingLogged) {
  ScopedEnv no_socket("NOTIFY_SOCKET", std::nullopt);
  CapturingLogger log;
  SdNotifier n(log);
  n.Ready();
  n.Watchdog();
  EXPECT_TRUE(log.Lines().empty());
}

TEST(SdNotifier, AFailingSocketIsLoggedOnceAndItsRecoveryToo) {
  testing::TempDir dir;
  ScopedEnv bad("NOTIFY_SOCKET", dir.File("missing-socket"));
  CapturingLogger log;
  SdNotifier n(log);
  n.Watchdog();
  n.Watchdog();
  n.Status("x");
  ASSERT_EQ(log.Lines().size(), 1u);
  EXPECT_EQ(log.Lines()[0],
            "<4>systemd notification failed (WATCHDOG=1): No such file or directory; check NOTIFY_SOCKET and "
            "that the unit has NotifyAccess=main");

  NotifyReceiver receiver;  // now NOTIFY_SOCKET points at a live socket
  n.Watchdog();
  EXPECT_EQ(receiver.Receive(kWait), "WATCHDOG=1");
  ASSERT_EQ(log.Lines().size(), 2u);
  EXPECT_EQ(log.Lines()[1], "<6>systemd notifications work again (WATCHDOG=1)");
}

TEST(SdNotifier, ReachesAnAbstractSocket) {
  // "@name" is the abstract namespace: sun_path starts with a NUL and the
  // address length counts no terminator, so the name must match exactly.
  const std::string name = "wxpay-sd-notifier-test-" + std::to_string(::getpid());
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path + 1, name.data(), name.size());
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&address), length), 0) << std::strerror(errno);
  ScopedEnv env("NOTIFY_SOCKET", "@" + name);
  CapturingLogger log;
  SdNotifier n(log);
  n.Ready();
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, static_cast<int>(kWait.count())), 1);
  char buffer[64] = {};
  const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
  ::close(fd);
  EXPECT_EQ(std::string(buffer, got > 0 ? static_cast<size_t>(got) : 0), "READY=1");
  EXPECT_TRUE(log.Lines().empty());
}

TEST(SdNotifier, ARelativeSocketPathIsRefusedAndLogged) {
  ScopedEnv bad("NOTIFY_SOCKET", "relative/notify");
  CapturingLogger log;
  SdNotifier n(log);
  n.Ready();
  ASSERT_EQ(log.Lines().size(), 1u);
  EXPECT_EQ(log.Lines()[0],
            "<4>systemd notification failed (READY=1): Invalid argument; check NOTIFY_SOCKET and that the unit "
            "has NotifyAccess=main");
}

TEST(SdNotifier, WatchdogIntervalIsHalfOfWatchdogUsec) {
  CapturingLogger log;
  SdNotifier n(log);
  ScopedEnv usec("WATCHDOG_USEC", "30000000");
  ScopedEnv pid("WATCHDOG_PID", std::nullopt);
  EXPECT_EQ(n.WatchdogInterval(), std::chrono::microseconds(15000000));

  pid.Set(std::to_string(::getpid()));
  EXPECT_EQ(n.WatchdogInterval(), std::chrono::microseconds(15000000));
  // The environment stays for the next call (unset_environment=0).
  EXPECT_EQ(n.WatchdogInterval(), std::chrono::microseconds(15000000));
}

TEST(SdNotifier, NoWatchdogWhenItIsOffOrForAnotherProcess) {
  CapturingLogger log;
  SdNotifier n(log);
  ScopedEnv usec("WATCHDOG_USEC", std::nullopt);
  ScopedEnv pid("WATCHDOG_PID", std::nullopt);
  EXPECT_EQ(n.WatchdogInterval(), std::nullopt);

  usec.Set("30000000");
  pid.Set(std::to_string(::getpid() + 1));  // the watchdog belongs to another process
  EXPECT_EQ(n.WatchdogInterval(), std::nullopt);

  pid.Set(std::nullopt);
  usec.Set("not-a-number");
  EXPECT_EQ(n.WatchdogInterval(), std::nullopt);
}

TEST(SdNotifier, ConcurrentSendersAllArrive) {
  std::optional<NotifyReceiver> receiver(std::in_place);
  CapturingLogger log;
  SdNotifier n(log);
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&n] {
      for (int i = 0; i < kEach; ++i) n.Watchdog();
    });
  }
  // Read while they send: the socket queue may be short (net.unix.max_dgram_qlen).
  int received = 0;
  int wrong = 0;
  while (received < kThreads * kEach) {
    const std::optional<std::string> m = receiver->Receive(kWait);
    if (!m) break;
    if (*m != "WATCHDOG=1") ++wrong;
    ++received;
  }
  const bool all_arrived = received == kThreads * kEach;
  if (!all_arrived) receiver.reset();  // unblocks senders stuck on a full queue
  for (auto& s : senders) s.join();
  EXPECT_TRUE(all_arrived) << "only " << received << " datagrams arrived";
  EXPECT_EQ(wrong, 0);
  if (receiver) {
    EXPECT_EQ(receiver->Receive(milliseconds(0)), std::nullopt);
  }
  EXPECT_TRUE(log.Lines().empty());
}

}  // namespace
}  // namespace wxpay
