#include "store/group_commit.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace wxpay {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

struct Write {
  int id = 0;
  int batch = -1;  // which batch ran it
};

// Records the batches and can hold one open until the test lets it finish.
class Recorder {
 public:
  void Run(const std::vector<Write*>& items) {
    std::unique_lock<std::mutex> lock(mu_);
    const int index = static_cast<int>(batches_.size());
    batches_.emplace_back();
    for (Write* w : items) {
      w->batch = index;
      batches_.back().push_back(w->id);
    }
    running_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !hold_; });
    running_ = false;
  }
  void Hold() {
    std::lock_guard<std::mutex> lock(mu_);
    hold_ = true;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    hold_ = false;
    cv_.notify_all();
  }
  bool AwaitRunning(milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return running_; });
  }
  std::vector<std::vector<int>> batches() {
    std::lock_guard<std::mutex> lock(mu_);
    return batches_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  bool running_ = false;
  std::vector<std::vector<int>> batches_;
};

bool AwaitQueued(GroupCommit<Write>& commits, size_t n, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (commits.Queued() < n) {
    if (Clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(GroupCommit, ALoneWriteRunsAtOnceInABatchOfItsOwn) {
  GroupCommit<Write> commits;
  Recorder recorder;
  Write w{7};
  EXPECT_TRUE(commits.Submit(w, Clock::now() + milliseconds(1), [&](auto& b) { recorder.Run(b); }));
  EXPECT_EQ(w.batch, 0);
  EXPECT_EQ(recorder.batches(), (std::vector<std::vector<int>>{{7}}));
  EXPECT_EQ(commits.Queued(), 0u);
}

TEST(GroupCommit, WritesQueuedDuringABatchAllGoIntoTheNextOne) {
  GroupCommit<Write> commits;
  Recorder recorder;
  auto run = [&](auto& b) { recorder.Run(b); };
  const auto far = Clock::now() + std::chrono::seconds(30);
  recorder.Hold();
  Write first{0};
  std::thread leader([&] { EXPECT_TRUE(commits.Submit(first, far, run)); });
  ASSERT_TRUE(recorder.AwaitRunning(milliseconds(5000)));

  constexpr int kLater = 7;
  std::vector<Write> later(kLater);
  std::vector<std::thread> threads;
  for (int i = 0; i < kLater; ++i) {
    later[i].id = i + 1;
    threads.emplace_back([&, i] { EXPECT_TRUE(commits.Submit(later[i], far, run)); });
  }
  ASSERT_TRUE(AwaitQueued(commits, kLater, milliseconds(5000)));
  recorder.Release();
  leader.join();
  for (auto& t : threads) t.join();

  const auto batches = recorder.batches();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0], std::vector<int>{0});
  EXPECT_EQ(batches[1].size(), static_cast<size_t>(kLater));
  for (const Write& w : later) EXPECT_EQ(w.batch, 1) << w.id;
  EXPECT_EQ(commits.Queued(), 0u);
}

TEST(GroupCommit, AQueuedWriteGivesUpAtItsDeadlineAndIsNeverRun) {
  GroupCommit<Write> commits;
  Recorder recorder;
  auto run = [&](auto& b) { recorder.Run(b); };
  recorder.Hold();
  Write first{0};
  std::thread leader([&] { EXPECT_TRUE(commits.Submit(first, Clock::now() + std::chrono::seconds(30), run)); });
  ASSERT_TRUE(recorder.AwaitRunning(milliseconds(5000)));

  Write late{1};
  EXPECT_FALSE(commits.Submit(late, Clock::now() + milliseconds(50), run));
  EXPECT_EQ(commits.Queued(), 0u);
  recorder.Release();
  leader.join();
  EXPECT_EQ(late.batch, -1);
  EXPECT_EQ(recorder.batches().size(), 1u);
}

TEST(GroupCommit, AWriteInARunningBatchWaitsPastItsDeadlineForTheResult) {
  GroupCommit<Write> commits;
  Recorder recorder;
  recorder.Hold();
  Write w{3};
  bool ran = false;
  std::thread leader([&] {
    // The deadline has passed before the batch even starts.
    ran = commits.Submit(w, Clock::now() - milliseconds(1), [&](auto& b) { recorder.Run(b); });
  });
  ASSERT_TRUE(recorder.AwaitRunning(milliseconds(5000)));
  recorder.Release();
  leader.join();
  EXPECT_TRUE(ran);
  EXPECT_EQ(w.batch, 0);
}

TEST(GroupCommit, ManyWritersEachRunExactlyOnce) {
  GroupCommit<Write> commits;
  std::mutex mu;
  std::vector<int> seen;
  int batches = 0;
  constexpr int kThreads = 8;
  constexpr int kEach = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        Write w{t * kEach + i};
        const bool ok = commits.Submit(w, Clock::now() + std::chrono::seconds(30), [&](auto& items) {
          std::lock_guard<std::mutex> lock(mu);
          for (Write* x : items) {
            x->batch = batches;
            seen.push_back(x->id);
          }
          ++batches;
        });
        EXPECT_TRUE(ok);
        EXPECT_GE(w.batch, 0);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::sort(seen.begin(), seen.end());
  ASSERT_EQ(seen.size(), static_cast<size_t>(kThreads * kEach));
  for (int i = 0; i < kThreads * kEach; ++i) ASSERT_EQ(seen[i], i);
  EXPECT_LE(batches, kThreads * kEach);
}

}  // namespace
}  // namespace wxpay
