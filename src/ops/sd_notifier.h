// The real Notifier: libsystemd's sd_notify(3) to $NOTIFY_SOCKET.
//
// Outside systemd ($NOTIFY_SOCKET unset) every call is a no-op. libsystemd
// reads the environment on each call and opens a fresh socket, so this is
// thread-safe. A failed send is logged once (then again only when the error
// changes): the daemon keeps working, but a lost WATCHDOG=1 will get it killed,
// so the operator should know.
#pragma once

#include <atomic>

#include "ops/log.h"
#include "ops/notifier.h"

namespace wxpay {

class SdNotifier final : public Notifier {
 public:
  explicit SdNotifier(Logger& log) : log_(log) {}

  // sd_watchdog_enabled(3): WATCHDOG_USEC set and WATCHDOG_PID unset or ours.
  std::optional<std::chrono::microseconds> WatchdogInterval() const override;

 protected:
  void Send(const std::string& message) override;

 private:
  Logger& log_;                      // not owned
  std::atomic<int> last_errno_{0};  // 0 = the last send worked (or nothing to send to)
};

}  // namespace wxpay
