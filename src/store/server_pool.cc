#include "store/server_pool.h"

#include <utility>

namespace wxpay {

ConnectionPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), connection_(std::move(other.connection_)) {}

ConnectionPool::Lease::~Lease() {
  if (connection_) pool_->Return(std::move(connection_));
}

ConnectionPool::ConnectionPool(int size, Duration wait, Connector connect)
    : size_(size < 1 ? 1 : size), wait_(wait), connect_(std::move(connect)) {}

ConnectionPool::~ConnectionPool() = default;

StoreResult<ConnectionPool::Lease> ConnectionPool::Acquire() { return AcquireImpl(false); }

StoreResult<ConnectionPool::Lease> ConnectionPool::AcquireFresh() { return AcquireImpl(true); }

StoreResult<ConnectionPool::Lease> ConnectionPool::AcquireImpl(bool fresh) {
  std::vector<std::unique_ptr<ServerConnection>> to_close;  // closed outside the lock
  {
    std::unique_lock<std::mutex> lock(mu_);
    const auto deadline = std::chrono::steady_clock::now() + wait_;
    for (;;) {
      if (!fresh && !idle_.empty()) {
        auto connection = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(connection));
      }
      if (open_ < size_) break;
      if (fresh && !idle_.empty()) {  // make room for the new session
        to_close.push_back(std::move(idle_.back()));
        idle_.pop_back();
        --open_;
        break;
      }
      if (freed_.wait_until(lock, deadline) == std::cv_status::timeout &&
          idle_.empty() && open_ >= size_) {
        return StoreError{StoreError::Kind::kUnavailable,
                          "database: all " + std::to_string(size_) +
                              " connections stayed busy for " + std::to_string(wait_.count()) +
                              " ms (database.timeout); slow statements or too many callers for "
                              "policy.concurrency"};
      }
    }
    ++open_;  // reserve the slot while connecting without the lock
  }
  to_close.clear();
  auto opened = connect_();
  if (!opened.ok()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      --open_;
    }
    freed_.notify_one();
    return std::move(opened).error();
  }
  return Lease(this, std::move(opened).value());
}

void ConnectionPool::Return(std::unique_ptr<ServerConnection> connection) {
  if (!connection->usable()) {
    connection.reset();  // closes the session; outside the lock
    std::lock_guard<std::mutex> lock(mu_);
    --open_;
  } else {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(connection));
  }
  freed_.notify_one();
}

void ConnectionPool::DropIdle() {
  std::vector<std::unique_ptr<ServerConnection>> to_close;
  {
    std::lock_guard<std::mutex> lock(mu_);
    to_close.swap(idle_);
    open_ -= static_cast<int>(to_close.size());
  }
  to_close.clear();
  freed_.notify_all();
}

int ConnectionPool::open_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

}  // namespace wxpay
