// A fixed set of worker threads for the slow work (SQL, HTTPS): the broker
// thread must stay free to poll the connection (heartbeats are serviced only
// inside librabbitmq's calls), so every order, probe and sweep runs here.
//
// The pool also reports how long its oldest running task has been running,
// so the watchdog can stop pinging when a worker is stuck.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace wxpay {

class WorkerPool {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;

  // REQUIRES: threads >= 1.
  explicit WorkerPool(int threads);
  // Drops queued tasks and waits for the running ones.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs `task` on a worker (FIFO). Ignored after Shutdown().
  void Submit(std::function<void()> task);

  // Stops accepting, drops queued tasks, joins the threads. Idempotent.
  void Shutdown();

  int size() const { return static_cast<int>(threads_.size()); }
  int running() const;
  size_t queued() const;
  // When the longest-running task started; nullopt when every worker idles.
  std::optional<SteadyTime> OldestRunningSince() const;

 private:
  void Work(size_t index);

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;       // guarded by mu_
  std::vector<std::optional<SteadyTime>> started_;  // per worker; guarded by mu_
  bool stopping_ = false;                          // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace wxpay
