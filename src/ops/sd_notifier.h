// The real Notifier: the sd_notify(3) protocol to $NOTIFY_SOCKET.
//
// The protocol is one datagram to a Unix socket, documented as stable and
// meant to be reimplemented (upstream ships a self-contained example), so the
// daemon speaks it itself instead of linking libsystemd, which would map six
// more libraries (liblzma, libgcrypt, ...) and about 1 MB of resident memory
// for two functions. Outside systemd ($NOTIFY_SOCKET unset) every call is a
// no-op. Each call reads the environment and opens a fresh socket, as
// libsystemd does, so this is thread-safe. A failed send is logged once (then
// again only when the error changes): the daemon keeps working, but a lost
// WATCHDOG=1 will get it killed, so the operator should know.
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
