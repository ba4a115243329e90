// The sweep lock (store/sweep_lock.h) against a real server: two stores of
// one shop exclude each other, other shops do not; the lock lives on a
// session of its own, only while it is held, and the server frees it when
// that session ends. Instantiated with the server checks by
// tests/store/mysql_conformance_it.cc and tests/store/pg_conformance_it.cc.
#include <chrono>
#include <functional>
#include <thread>

#include "store/server_fixture.h"

namespace wxpay {
namespace {

using std::chrono::seconds;

::testing::AssertionResult Answers(const StoreResult<bool>& answer, bool expected) {
  if (!answer.ok()) return ::testing::AssertionFailure() << "error: " << answer.error().message;
  if (*answer != expected) return ::testing::AssertionFailure() << "answered " << *answer;
  return ::testing::AssertionSuccess();
}

// Polls `done` until it holds; false after 10 s.
bool Eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// Two stores, as two daemons would open them, each with its sweep lock.
struct TwoHolders {
  std::unique_ptr<SqlShopStore> first, second;
  std::unique_ptr<SweepLock> a, b;  // of first, of second
};
using StoreOpener = std::function<Result<std::unique_ptr<SqlShopStore>>(const DatabaseConfig&)>;

// Fails the test when a store does not open.
void OpenTwoHolders(const StoreOpener& open, const DatabaseConfig& first, const DatabaseConfig& second,
                    TwoHolders& holders) {
  auto one = open(first);
  ASSERT_TRUE(one.ok()) << one.error().message;
  auto two = open(second);
  ASSERT_TRUE(two.ok()) << two.error().message;
  holders.first = std::move(one).value();
  holders.second = std::move(two).value();
  holders.a = holders.first->NewSweepLock();
  holders.b = holders.second->NewSweepLock();
}

}  // namespace

TEST_P(ServerStoreChecks, SweepLockLetsOneStoreOfAShopSweepAtATime) {
  CreateTables(TestSchema{});
  const DatabaseConfig db = MappedConfig(fixture_->BaseConfig(), schema_);
  TwoHolders h;
  ASSERT_NO_FATAL_FAILURE(OpenTwoHolders([&](const DatabaseConfig& c) { return Open(c); }, db, db, h));
  EXPECT_EQ(h.a->subject(), fixture_->database() + "/wx_orders");

  EXPECT_TRUE(Answers(h.a->TryAcquire(), true));
  EXPECT_TRUE(Answers(h.b->TryAcquire(), false)) << "two holders of one shop's sweep lock";
  EXPECT_TRUE(Answers(h.a->TryAcquire(), true)) << "taking it again while holding it";
  EXPECT_TRUE(Answers(h.a->StillHeld(), true));
  EXPECT_TRUE(Answers(h.b->StillHeld(), false));

  h.a->Release();
  EXPECT_TRUE(Answers(h.a->StillHeld(), false));
  EXPECT_TRUE(Answers(h.b->TryAcquire(), true)) << "not free at once after Release";
  EXPECT_TRUE(Answers(h.a->TryAcquire(), false));
  h.b->Release();
}

TEST_P(ServerStoreChecks, SweepLockHoldsASessionOfItsOwnOnlyWhileTaken) {
  CreateTables(TestSchema{});
  auto store = Open(MappedConfig(fixture_->BaseConfig(), schema_), 1);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto admin = fixture_->Connect();
  ASSERT_TRUE(admin.ok()) << admin.error().message;
  auto sessions = [&]() -> size_t {
    auto rows = (*admin)->Query(fixture_->StoreSessionsSql());
    EXPECT_TRUE(rows.ok()) << rows.error().message;
    return rows.ok() ? rows->size() : 0;
  };
  // Sessions of stores of earlier tests may take a moment to go.
  ASSERT_TRUE(Eventually([&] { return sessions() == 1u; })) << "not just the pool's one session";

  const std::unique_ptr<SweepLock> lock = (*store)->NewSweepLock();
  ASSERT_EQ(sessions(), 1u) << "a lock not yet taken holds no session";
  ASSERT_TRUE(Answers(lock->TryAcquire(), true));
  EXPECT_EQ(sessions(), 2u) << "the lock is not held on the pool's session";
  // The pool's only session is free for orders while the lock is held.
  auto loaded = (*store)->LoadOrder("ORD000001");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_TRUE(loaded->has_value());
  auto cancelled = (*store)->MarkCancelled(UnpaidOrder("ORD000001", 1230));
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  EXPECT_TRUE(cancelled->applied);
  EXPECT_TRUE(Answers(lock->StillHeld(), true)) << "an order's transaction ended the lock";

  lock->Release();
  EXPECT_TRUE(Eventually([&] { return sessions() == 1u; })) << "the lock's session stayed open after Release";
}

TEST_P(ServerStoreChecks, SweepLockIsFreedWhenItsSessionEnds) {
  CreateTables(TestSchema{});
  const DatabaseConfig db = MappedConfig(fixture_->BaseConfig(), schema_);
  TwoHolders h;
  ASSERT_NO_FATAL_FAILURE(OpenTwoHolders([&](const DatabaseConfig& c) { return Open(c); }, db, db, h));
  ASSERT_TRUE(Answers(h.a->TryAcquire(), true));

  EndStoreSessions();  // the lock's session among them
  EXPECT_TRUE(Eventually([&] {
    auto taken = h.b->TryAcquire();
    return taken.ok() && *taken;
  })) << "the server kept the lock of an ended session";
  auto held = h.a->StillHeld();
  EXPECT_FALSE(held.ok() && *held) << "the holder still believes it holds the lock after losing its session";
  EXPECT_TRUE(Answers(h.a->TryAcquire(), false)) << "after a lost session, a new one must ask again";
  h.b->Release();
  EXPECT_TRUE(Answers(h.a->TryAcquire(), true));
}

TEST_P(ServerStoreChecks, SweepLockIsFreedWhenItsHolderIsDestroyed) {
  CreateTables(TestSchema{});
  const DatabaseConfig db = MappedConfig(fixture_->BaseConfig(), schema_);
  TwoHolders h;
  ASSERT_NO_FATAL_FAILURE(OpenTwoHolders([&](const DatabaseConfig& c) { return Open(c); }, db, db, h));
  ASSERT_TRUE(Answers(h.a->TryAcquire(), true));
  ASSERT_TRUE(Answers(h.b->TryAcquire(), false));

  h.first.reset();  // the lock may outlive its store
  EXPECT_TRUE(Answers(h.b->TryAcquire(), false)) << "destroying the store freed the lock its holder holds";
  EXPECT_TRUE(Answers(h.a->StillHeld(), true));
  h.a.reset();
  EXPECT_TRUE(Answers(h.b->TryAcquire(), true)) << "a destroyed holder kept the lock";
  h.b->Release();
}

TEST_P(ServerStoreChecks, SweepLocksOfOtherOrdersTablesDoNotConflict) {
  CreateTables(TestSchema{});
  Exec({"DROP TABLE IF EXISTS wx_orders_b", "CREATE TABLE wx_orders_b AS SELECT * FROM wx_orders"});
  const DatabaseConfig db = MappedConfig(fixture_->BaseConfig(), schema_);
  DatabaseConfig other_db = db;
  other_db.orders.table = "wx_orders_b";
  TwoHolders h;
  ASSERT_NO_FATAL_FAILURE(OpenTwoHolders([&](const DatabaseConfig& c) { return Open(c); }, db, other_db, h));

  EXPECT_TRUE(Answers(h.a->TryAcquire(), true));
  EXPECT_TRUE(Answers(h.b->TryAcquire(), true)) << "another shop's sweeper was kept waiting";
  h.a->Release();
  h.b->Release();
  Exec({"DROP TABLE wx_orders_b"});
}

}  // namespace wxpay
