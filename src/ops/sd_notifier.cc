#include "ops/sd_notifier.h"

#include <systemd/sd-daemon.h>

#include <cstdint>
#include <cstring>

namespace wxpay {

std::optional<std::chrono::microseconds> SdNotifier::WatchdogInterval() const {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(/*unset_environment=*/0, &usec) <= 0 || usec == 0) return std::nullopt;
  // sd_watchdog_enabled(3) recommends a keep-alive every half of the timeout.
  const uint64_t half = usec / 2 > 0 ? usec / 2 : 1;
  return std::chrono::microseconds(static_cast<std::chrono::microseconds::rep>(half));
}

void SdNotifier::Send(const std::string& message) {
  const int r = sd_notify(/*unset_environment=*/0, message.c_str());
  const int err = r < 0 ? -r : 0;
  const int previous = last_errno_.exchange(err);
  if (err == previous) return;
  // Only the first line of the message: STATUS= text is not the point here.
  const std::string what = message.substr(0, message.find('\n'));
  if (err != 0) {
    log_.Warning("systemd notification failed (" + what + "): " + std::strerror(err) +
                 "; check NOTIFY_SOCKET and that the unit has NotifyAccess=main");
  } else {
    log_.Info("systemd notifications work again (" + what + ")");
  }
}

}  // namespace wxpay
