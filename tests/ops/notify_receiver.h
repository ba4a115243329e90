// A fake service manager for sd_notify tests: an AF_UNIX datagram socket bound
// in a temporary directory, exported as $NOTIFY_SOCKET while the object lives
// (the previous value is restored afterwards). File descriptors passed along
// a message (BARRIER=1 sends one) are closed at once, as systemd does, so a
// barrier waiting on them completes.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "ops/scoped_env.h"
#include "ops/temp_dir.h"

namespace wxpay::testing {

class NotifyReceiver {
 public:
  NotifyReceiver();  // throws std::runtime_error if the socket cannot be set up
  NotifyReceiver(const NotifyReceiver&) = delete;
  NotifyReceiver& operator=(const NotifyReceiver&) = delete;
  ~NotifyReceiver();

  const std::string& socket_path() const { return socket_path_; }
  // The next datagram's text, or nullopt if none arrives within timeout.
  std::optional<std::string> Receive(std::chrono::milliseconds timeout);

 private:
  TempDir dir_;
  std::string socket_path_;
  int fd_ = -1;
  std::optional<ScopedEnv> env_;
};

}  // namespace wxpay::testing
