#include "ops/notify_receiver.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "ops/notify_datagram.h"

namespace wxpay::testing {

NotifyReceiver::NotifyReceiver() : socket_path_(dir_.File("notify")) {
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket(AF_UNIX): ") + std::strerror(errno));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof addr.sun_path) {
    ::close(fd_);
    throw std::runtime_error("notify socket path too long: " + socket_path_);
  }
  std::memcpy(addr.sun_path, socket_path_.c_str(), socket_path_.size() + 1);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    ::close(fd_);
    throw std::runtime_error("bind " + socket_path_ + ": " + std::strerror(err));
  }
  env_.emplace("NOTIFY_SOCKET", socket_path_);
}

NotifyReceiver::~NotifyReceiver() {
  env_.reset();
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::string> NotifyReceiver::Receive(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  int r;
  do {
    r = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (r < 0 && errno == EINTR);
  if (r <= 0) return std::nullopt;

  return ReceiveNotifyDatagram(fd_);
}

}  // namespace wxpay::testing
