// Results handed from worker threads back to the broker thread, which alone
// may ack and publish (librabbitmq is not thread-safe). Post() also makes
// wake_fd() readable, so that the broker thread, waiting in poll() on the
// AMQP socket and this descriptor, acks a finished order at once instead of
// spinning on short timeouts.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace wxpay {

template <typename T>
class Mailbox {
 public:
  // Start-up only: without an eventfd the daemon cannot run.
  Mailbox() : wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (wake_fd_ < 0) {
      throw std::runtime_error(std::string("cannot create an eventfd for the worker mailbox: ") +
                               std::strerror(errno) + " (raise the open-file limit)");
    }
  }
  ~Mailbox() { ::close(wake_fd_); }
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  void Post(T item) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      items_.push_back(std::move(item));
    }
    const uint64_t one = 1;
    // Cannot fail short of a counter overflow (2^64 - 1 posts unread), and a
    // readable descriptor is all that matters.
    (void)!::write(wake_fd_, &one, sizeof one);
  }

  // Clears wake_fd() before taking, under the lock: an item posted after
  // this call makes the descriptor readable again, so no wake-up is lost.
  std::vector<T> TakeAll() {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t count;
    (void)!::read(wake_fd_, &count, sizeof count);
    std::vector<T> out;
    out.swap(items_);
    return out;
  }

  bool empty() const {
    std::lock_guard<std::mutex> lock(mu_);
    return items_.empty();
  }

  // Readable while an item may be waiting; poll() it, never read it.
  int wake_fd() const { return wake_fd_; }

 private:
  const int wake_fd_;
  mutable std::mutex mu_;
  std::vector<T> items_;  // guarded by mu_
};

}  // namespace wxpay
