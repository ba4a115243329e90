#include "store/state_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <thread>

namespace wxpay {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::seconds;

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "wxpay-state-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    dir_ = root_ + "/state";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

  std::unique_ptr<StateStore> Open() {
    auto store = StateStore::Open(dir_, clock_);
    EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
    return store.ok() ? std::move(*store) : nullptr;
  }

  static unsigned Mode(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 0777;
  }

  std::string root_;
  std::string dir_;
  ManualClock clock_{TimePoint{seconds{1709251200}}};
};

TEST_F(StateStoreTest, CreatesPrivateFilesInStateDir) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Park("ORD000001", "refunded", "WeChat Pay says REFUND").ok());
  EXPECT_EQ(store->path(), dir_ + "/state.db");
  EXPECT_EQ(Mode(dir_), 0700u);
  EXPECT_EQ(Mode(store->path()), 0600u);
  ASSERT_TRUE(std::filesystem::exists(store->path() + "-wal"));
  EXPECT_EQ(Mode(store->path() + "-wal"), 0600u);
  EXPECT_EQ(Mode(store->path() + "-shm"), 0600u);
}

TEST_F(StateStoreTest, RestoresModeOfAnExistingFile) {
  std::filesystem::create_directories(dir_);
  { std::FILE* f = std::fopen((dir_ + "/state.db").c_str(), "w"); ASSERT_NE(f, nullptr); std::fclose(f); }
  ::chmod((dir_ + "/state.db").c_str(), 0644);
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Mode(dir_ + "/state.db"), 0600u);
}

TEST_F(StateStoreTest, ParkUnparkListClear) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Park("ORD000002", "amount_mismatch", "shop 1230 fen, WeChat Pay 1200 fen").ok());
  clock_.Advance(seconds(1));
  ASSERT_TRUE(store->Park("ORD000001", "refunded", "REFUND").ok());
  clock_.Advance(seconds(1));
  ASSERT_TRUE(store->Park("ORD000003", "refunded", "REFUND").ok());

  EXPECT_TRUE(*store->IsParked("ORD000001"));
  EXPECT_FALSE(*store->IsParked("ORD000009"));

  auto all = store->ListParked();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].order_no, "ORD000002");  // oldest first
  EXPECT_EQ((*all)[0].reason, "amount_mismatch");
  EXPECT_EQ((*all)[0].error, "shop 1230 fen, WeChat Pay 1200 fen");
  EXPECT_EQ((*all)[0].parked_at, TimePoint{seconds{1709251200}});
  EXPECT_EQ((*all)[1].order_no, "ORD000001");

  auto refunded = store->ListParked("refunded", 1);
  ASSERT_TRUE(refunded.ok());
  ASSERT_EQ(refunded->size(), 1u);
  EXPECT_EQ((*refunded)[0].order_no, "ORD000001");

  // Re-parking replaces reason, error and time.
  clock_.Advance(seconds(1));
  ASSERT_TRUE(store->Park("ORD000002", "refunded", "REFUND now").ok());
  auto replaced = store->ListParked("refunded");
  ASSERT_TRUE(replaced.ok());
  ASSERT_EQ(replaced->size(), 3u);
  EXPECT_EQ(replaced->back().order_no, "ORD000002");
  EXPECT_EQ(replaced->back().error, "REFUND now");

  ASSERT_TRUE(store->Unpark("ORD000001").ok());
  EXPECT_FALSE(*store->IsParked("ORD000001"));
  ASSERT_TRUE(store->Unpark("ORD000001").ok());  // idempotent

  ASSERT_TRUE(store->Park("ORD000004", "not_found", "404").ok());
  auto cleared = store->ClearParked("refunded");
  ASSERT_TRUE(cleared.ok());
  EXPECT_EQ(*cleared, 2);
  auto rest = store->ListParked();
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].order_no, "ORD000004");
  EXPECT_EQ(*store->ClearParked(), 1);
  EXPECT_TRUE(store->ListParked()->empty());
}

TEST_F(StateStoreTest, SweepCursorSurvivesReopen) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    auto none = store->GetSweepCursor();
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
    ASSERT_TRUE(store->SetSweepCursor({TimePoint{seconds{1}}, "ORD000001"}).ok());
    const TimePoint precise = TimePoint{seconds{1709251200}} + microseconds(123456);
    ASSERT_TRUE(store->SetSweepCursor({precise, "ORD000002"}).ok());
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto cursor = store->GetSweepCursor();
  ASSERT_TRUE(cursor.ok());
  ASSERT_TRUE(cursor->has_value());
  EXPECT_EQ((*cursor)->created_at, TimePoint{seconds{1709251200}} + microseconds(123456));
  EXPECT_EQ((*cursor)->order_no, "ORD000002");
  ASSERT_TRUE(store->ResetSweepCursor().ok());
  EXPECT_FALSE(store->GetSweepCursor()->has_value());
}

TEST_F(StateStoreTest, CrashesAreCountedAcrossRestarts) {
  for (int crash = 0; crash < 3; ++crash) {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    auto earlier = store->BeginOrder("ORD000001");
    ASSERT_TRUE(earlier.ok());
    EXPECT_EQ(*earlier, crash);
    EXPECT_EQ(*store->CrashCount("ORD000001"), crash + 1);
    // The daemon "dies" here: no EndOrder.
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->CrashCount("ORD000001"), 3);
  EXPECT_EQ(*store->BeginOrder("ORD000001"), 3);  // -> poison
  ASSERT_TRUE(store->EndOrder("ORD000001").ok());
  EXPECT_EQ(*store->CrashCount("ORD000001"), 0);

  // A normal order leaves nothing behind.
  EXPECT_EQ(*store->BeginOrder("ORD000002"), 0);
  ASSERT_TRUE(store->EndOrder("ORD000002").ok());
  EXPECT_EQ(*store->BeginOrder("ORD000002"), 0);
}

TEST_F(StateStoreTest, RefusesANewerSchema) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/state.db").c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "PRAGMA user_version = 7", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  auto store = StateStore::Open(dir_, clock_);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("schema version 7"), std::string::npos) << store.error().message;
}

TEST_F(StateStoreTest, UnusableStateDirSaysWhatToDo) {
  const std::string file = root_ + "/not-a-dir";
  { std::FILE* f = std::fopen(file.c_str(), "w"); ASSERT_NE(f, nullptr); std::fclose(f); }
  auto store = StateStore::Open(file + "/state", clock_);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("state_dir"), std::string::npos) << store.error().message;
  EXPECT_FALSE(StateStore::Open("", clock_).ok());
}

TEST_F(StateStoreTest, ThreadSafe) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string no = "T" + std::to_string(t) + "ORDER" + std::to_string(i);
        if (!store->BeginOrder(no).ok()) ++failures;
        if (!store->Park(no, "refunded", "x").ok()) ++failures;
        if (!store->EndOrder(no).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store->ListParked()->size(), static_cast<size_t>(kThreads * kPerThread));
}

// `redrive` runs as a second process while the daemon holds the file open.
TEST_F(StateStoreTest, TwoHandlesShareTheFile) {
  auto daemon = Open();
  auto command = Open();
  ASSERT_NE(daemon, nullptr);
  ASSERT_NE(command, nullptr);
  ASSERT_TRUE(daemon->Park("ORD000001", "not_found", "404").ok());
  EXPECT_TRUE(*command->IsParked("ORD000001"));
  EXPECT_EQ(*command->ClearParked(), 1);
  EXPECT_FALSE(*daemon->IsParked("ORD000001"));
}

}  // namespace
}  // namespace wxpay
