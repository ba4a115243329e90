// Group commit for a database with one writer (SQLite).
//
// Each commit costs an fsync (milliseconds on real disks), and SQLite lets
// one transaction write at a time, so workers that each commit their own
// order queue behind one another's fsyncs. Here a worker that wants to write
// while another worker's batch is running waits in a queue; the next worker
// to run takes everything queued into one batch, so N orders cost one fsync.
// Nobody waits for a batch to fill: a batch is whatever queued up while the
// previous one ran, and a lone writer runs at once.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <vector>

namespace wxpay {

template <typename Item>
class GroupCommit {
 public:
  // Runs `item` as part of a batch: either this caller leads a batch (calls
  // run_batch with every item queued so far, its own included) or another
  // caller's batch takes it. run_batch must not throw and must leave a result
  // in each item. Returns false, with the item not run, if no batch took it
  // before `deadline`; once a batch has taken it, waits for that batch.
  template <typename RunBatch>
  bool Submit(Item& item, std::chrono::steady_clock::time_point deadline, RunBatch&& run_batch) {
    Ticket ticket{&item};
    std::unique_lock<std::mutex> lock(mu_);
    queued_.push_back(&ticket);
    for (;;) {
      if (ticket.done) return true;
      if (!ticket.taken && !leading_) {
        Lead(lock, run_batch);
        continue;
      }
      if (ticket.taken) {
        cv_.wait(lock);  // the running batch will finish it
        continue;
      }
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && !ticket.taken && !ticket.done) {
        queued_.erase(std::find(queued_.begin(), queued_.end(), &ticket));
        return false;
      }
    }
  }

  // How many items wait for the next batch (for tests and diagnostics).
  size_t Queued() {
    std::lock_guard<std::mutex> lock(mu_);
    return queued_.size();
  }

 private:
  struct Ticket {
    Item* item;
    bool taken = false;  // in a batch that is running
    bool done = false;   // its batch has finished
  };

  template <typename RunBatch>
  void Lead(std::unique_lock<std::mutex>& lock, RunBatch& run_batch) {
    leading_ = true;
    std::vector<Ticket*> batch;
    batch.swap(queued_);
    std::vector<Item*> items;
    items.reserve(batch.size());
    for (Ticket* t : batch) {
      t->taken = true;
      items.push_back(t->item);
    }
    lock.unlock();
    run_batch(items);
    lock.lock();
    for (Ticket* t : batch) t->done = true;
    leading_ = false;
    cv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Ticket*> queued_;  // waiting for the next batch; guarded by mu_
  bool leading_ = false;         // a batch is running; guarded by mu_
};

}  // namespace wxpay
