#include "ops/sd_notifier.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "ops/unique_fd.h"

namespace wxpay {
namespace {

// A number from the environment, or nullopt when unset or not a plain decimal.
std::optional<uint64_t> EnvNumber(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  const std::string_view s(text);
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// The sd_notify(3) wire protocol: one datagram to the AF_UNIX socket named by
// $NOTIFY_SOCKET, a path or "@" for the abstract namespace. Returns 0 when
// sent or when there is nowhere to send, else an errno value.
int SendDatagram(const std::string& message) {
  const char* target = std::getenv("NOTIFY_SOCKET");
  if (target == nullptr || *target == '\0') return 0;
  const std::string_view path(target);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if ((path[0] != '/' && path[0] != '@') || path.size() >= sizeof(address.sun_path)) return EINVAL;
  std::memcpy(address.sun_path, path.data(), path.size());
  // An abstract name starts with a NUL and its length counts no terminator.
  socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  if (path[0] == '@') {
    address.sun_path[0] = '\0';
  } else {
    ++length;
  }
  const UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return errno;
  const ssize_t sent = ::sendto(fd.get(), message.data(), message.size(), MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&address), length);
  if (sent < 0) return errno;
  return static_cast<size_t>(sent) == message.size() ? 0 : EMSGSIZE;
}

}  // namespace

std::optional<std::chrono::microseconds> SdNotifier::WatchdogInterval() const {
  const std::optional<uint64_t> usec = EnvNumber("WATCHDOG_USEC");
  if (!usec || *usec == 0) return std::nullopt;
  if (std::getenv("WATCHDOG_PID") != nullptr) {
    const std::optional<uint64_t> pid = EnvNumber("WATCHDOG_PID");
    if (!pid || *pid != static_cast<uint64_t>(::getpid())) return std::nullopt;
  }
  // sd_watchdog_enabled(3) recommends a keep-alive every half of the timeout.
  const uint64_t half = *usec / 2 > 0 ? *usec / 2 : 1;
  return std::chrono::microseconds(static_cast<std::chrono::microseconds::rep>(half));
}

void SdNotifier::Send(const std::string& message) {
  const int err = SendDatagram(message);
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
