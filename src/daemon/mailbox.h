// Results handed from worker threads back to the broker thread, which alone
// may ack and publish (librabbitmq is not thread-safe). The broker thread
// drains the mailbox between short polls of the connection.
#pragma once

#include <mutex>
#include <utility>
#include <vector>

namespace wxpay {

template <typename T>
class Mailbox {
 public:
  void Post(T item) {
    std::lock_guard<std::mutex> lock(mu_);
    items_.push_back(std::move(item));
  }
  std::vector<T> TakeAll() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<T> out;
    out.swap(items_);
    return out;
  }
  bool empty() const {
    std::lock_guard<std::mutex> lock(mu_);
    return items_.empty();
  }

 private:
  mutable std::mutex mu_;
  std::vector<T> items_;  // guarded by mu_
};

}  // namespace wxpay
