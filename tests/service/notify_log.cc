#include "service/notify_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "ops/notify_datagram.h"

namespace wxpay::testing {

NotifyLog::NotifyLog(std::string path) : path_(std::move(path)) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof addr.sun_path) {
    ADD_FAILURE() << "notify socket path too long: " << path_;
    return;
  }
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0 || ::pipe2(stop_pipe_, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "cannot create the notify socket: " << std::strerror(errno);
    return;
  }
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ADD_FAILURE() << "bind " << path_ << ": " << std::strerror(errno);
    return;
  }
  reader_ = std::thread([this] { Read(); });
}

NotifyLog::~NotifyLog() {
  if (reader_.joinable()) {
    const char stop = 's';
    (void)!::write(stop_pipe_[1], &stop, 1);
    reader_.join();
  }
  for (int fd : {fd_, stop_pipe_[0], stop_pipe_[1]}) {
    if (fd >= 0) ::close(fd);
  }
  ::unlink(path_.c_str());
}

void NotifyLog::Read() {
  while (true) {
    pollfd p[2] = {{fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents != 0) return;
    if ((p[0].revents & POLLIN) == 0) continue;

    const std::optional<std::string> datagram_text = ReceiveNotifyDatagram(fd_);
    const SteadyTime at = std::chrono::steady_clock::now();
    if (!datagram_text) continue;
    const std::string_view text(*datagram_text);
    const size_t datagram = datagrams_++;
    std::lock_guard<std::mutex> lock(mu_);
    size_t start = 0;
    while (start < text.size()) {
      const size_t end = std::min(text.find('\n', start), text.size());
      if (end > start) lines_.push_back(Line{at, datagram, std::string(text.substr(start, end - start))});
      start = end + 1;
    }
  }
}

std::vector<NotifyLog::Line> NotifyLog::Lines() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lines_;
}

size_t NotifyLog::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lines_.size();
}

std::optional<size_t> NotifyLog::WaitFor(const std::function<bool(const std::string&)>& match,
                                         std::chrono::milliseconds timeout, size_t from) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (size_t i = from; i < lines_.size(); ++i) {
        if (match(lines_[i].text)) return i;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::optional<size_t> NotifyLog::WaitForLine(std::string_view line, std::chrono::milliseconds timeout,
                                             size_t from) const {
  const std::string wanted(line);
  return WaitFor([&](const std::string& l) { return l == wanted; }, timeout, from);
}

std::optional<size_t> NotifyLog::WaitForPrefix(std::string_view prefix, std::chrono::milliseconds timeout,
                                               size_t from) const {
  const std::string wanted(prefix);
  return WaitFor([&](const std::string& l) { return StartsWith(l, wanted); }, timeout, from);
}

std::string NotifyLog::Dump() const {
  std::vector<Line> lines = Lines();
  std::ostringstream out;
  out << "notifications (" << lines.size() << " lines):\n";
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(lines[i].at - lines.front().at).count();
    out << "  [" << i << "] +" << ms << "ms " << lines[i].text << "\n";
  }
  return out.str();
}

}  // namespace wxpay::testing
