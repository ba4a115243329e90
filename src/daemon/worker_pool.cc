#include "daemon/worker_pool.h"

#include <algorithm>

namespace wxpay {

WorkerPool::WorkerPool(int threads) {
  const size_t n = static_cast<size_t>(std::max(threads, 1));
  started_.resize(n);
  threads_.reserve(n);
  for (size_t i = 0; i < n; ++i) threads_.emplace_back([this, i] { Work(i); });
}

WorkerPool::~WorkerPool() { Shutdown(); }

void WorkerPool::Submit(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    queue_.push_back(std::move(task));
  }
  wake_.notify_one();
}

void WorkerPool::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  wake_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

int WorkerPool::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(std::count_if(started_.begin(), started_.end(), [](const auto& s) { return s.has_value(); }));
}

size_t WorkerPool::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

std::optional<WorkerPool::SteadyTime> WorkerPool::OldestRunningSince() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<SteadyTime> oldest;
  for (const auto& s : started_) {
    if (s && (!oldest || *s < *oldest)) oldest = s;
  }
  return oldest;
}

void WorkerPool::Work(size_t index) {
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      task = std::move(queue_.front());
      queue_.pop_front();
      started_[index] = std::chrono::steady_clock::now();
    }
    task();
    std::lock_guard<std::mutex> lock(mu_);
    started_[index].reset();
  }
}

}  // namespace wxpay
