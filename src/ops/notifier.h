// Telling the service manager what the daemon is doing (sd_notify(3), SPEC §7).
//
// Notifier formats every message itself and hands the finished datagram text
// to Send(), so the real implementation (SdNotifier) and the test double
// (RecordingNotifier) produce byte-identical messages. All methods are
// thread-safe as long as Send() is.
//
// systemd 252 has no Type=notify-reload, so a reload is announced with
// Reloading() and finished with Ready() (rabbitmq-systemd-notes §D.3).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace wxpay {

class Notifier {
 public:
  virtual ~Notifier() = default;

  void Ready();                            // READY=1: consuming (again, after a reload)
  void Reloading();                        // RELOADING=1 (+MONOTONIC_USEC); Ready() ends it
  void Stopping();                         // STOPPING=1: draining, exit follows
  void Status(std::string_view line);      // STATUS=<one line>, see SanitizeStatusLine
  void ExtendTimeout(std::chrono::microseconds extra);  // EXTEND_TIMEOUT_USEC=…
  void Watchdog();                         // WATCHDOG=1: only when the loop made progress

  // How often to call Watchdog(): half of WatchdogSec= (WATCHDOG_USEC), or
  // nullopt when the watchdog is off or meant for another process.
  virtual std::optional<std::chrono::microseconds> WatchdogInterval() const = 0;

 protected:
  // One complete notification datagram, e.g. "READY=1" or "STATUS=…".
  virtual void Send(const std::string& message) = 0;
};

// STATUS= must be one line of valid UTF-8: systemd splits the datagram at
// newlines (a "\nREADY=1" inside an error text would be obeyed) and ignores a
// status that is not UTF-8 clean. Newlines and control characters become
// \n, \r, \xNN; invalid UTF-8 bytes become \xNN. Lines longer than
// kMaxStatusBytes are cut at a character boundary and end with "...".
inline constexpr size_t kMaxStatusBytes = 512;
std::string SanitizeStatusLine(std::string_view line);

}  // namespace wxpay
