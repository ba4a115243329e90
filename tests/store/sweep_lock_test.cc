// The sweep lock's name and key, and the server lock's handling of its own
// session over a scripted fake connection (the real servers are in
// tests/store/server_sweep_lock_checks.cc).
#include "store/sweep_lock.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/server_sweep_lock.h"

namespace wxpay {
namespace {

DatabaseConfig Shop(std::string name, std::string table) {
  DatabaseConfig db;
  db.name = std::move(name);
  db.orders.table = std::move(table);
  return db;
}

TEST(SweepLockName, NamesTheDatabaseAndTheOrdersTable) {
  EXPECT_EQ(SweepLockName(Shop("shop", "orders")), "wxpay-reconciler:sweep:shop/orders");
  EXPECT_EQ(SweepLockSubject(Shop("shop", "orders")), "shop/orders");
  EXPECT_NE(SweepLockName(Shop("shop", "orders")), SweepLockName(Shop("shop2", "orders")));
  EXPECT_NE(SweepLockName(Shop("shop", "orders")), SweepLockName(Shop("shop", "orders2")));
}

TEST(SweepLockName, LongNamesAreHashedWithinMysqlsLimit) {
  const std::string long_name(64, 'd');
  const std::string name = SweepLockName(Shop(long_name, "orders"));
  EXPECT_LE(name.size(), 64u);
  EXPECT_EQ(name.rfind("wxpay-reconciler:sweep:", 0), 0u) << name;
  EXPECT_EQ(name, SweepLockName(Shop(long_name, "orders"))) << "not deterministic";
  EXPECT_NE(name, SweepLockName(Shop(long_name, "orders2")));
  // The longest name kept as it is.
  const std::string fits(64 - 23 - 7, 's');
  EXPECT_EQ(SweepLockName(Shop(fits, "orders")), "wxpay-reconciler:sweep:" + fits + "/orders");
}

TEST(SweepLockKey, IsFnv1a64MadeNonNegative) {
  // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c: the same key in every build.
  EXPECT_EQ(SweepLockKey("a"), int64_t{0x2f63dc4c8601ec8c});
  EXPECT_EQ(SweepLockKey(""), int64_t{0x4bf29ce484222325});
  EXPECT_GE(SweepLockKey("wxpay-reconciler:sweep:shop/orders"), 0);
  EXPECT_NE(SweepLockKey("wxpay-reconciler:sweep:shop/orders"), SweepLockKey("wxpay-reconciler:sweep:shop/orders2"));
}

TEST(NoSweepLock, IsAlwaysTaken) {
  NoSweepLock lock("/var/lib/shop/shop.db/orders");
  auto taken = lock.TryAcquire();
  ASSERT_TRUE(taken.ok());
  EXPECT_TRUE(*taken);
  auto again = NoSweepLock("x").TryAcquire();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(*again) << "a second instance is not refused either";
  auto held = lock.StillHeld();
  ASSERT_TRUE(held.ok());
  EXPECT_TRUE(*held);
}

// ------------------------------------------------------------ server lock

// What the fake server answers to each statement, in order (nullopt: a
// lost session), and what it saw.
struct ScriptedServer {
  std::deque<std::optional<SqlRow>> answers;
  std::vector<std::string> seen;  // "open", "close" and the statements' texts
  bool refuse_connections = false;
};

class ScriptedConnection final : public ServerConnection {
 public:
  explicit ScriptedConnection(ScriptedServer& server) : server_(server) { server_.seen.push_back("open"); }
  ~ScriptedConnection() override { server_.seen.push_back("close"); }

  StoreResult<std::vector<SqlRow>> Query(const SqlStatement& statement) override {
    server_.seen.push_back(statement.text);
    if (server_.answers.empty() || !server_.answers.front()) {
      if (!server_.answers.empty()) server_.answers.pop_front();
      lost_ = true;
      return StoreError{StoreError::Kind::kUnavailable, "fake: connection lost"};
    }
    SqlRow row = *server_.answers.front();
    server_.answers.pop_front();
    return std::vector<SqlRow>{row};
  }
  StoreResult<int64_t> Execute(const SqlStatement&) override { return int64_t{0}; }
  StoreResult<Done> Begin() override { return Done{}; }
  StoreResult<Done> Commit() override { return Done{}; }
  StoreResult<Done> Rollback() override { return Done{}; }
  bool usable() const override { return !lost_; }
  bool lost() const override { return lost_; }

 private:
  ScriptedServer& server_;
  bool lost_ = false;
};

class ServerSweepLockTest : public ::testing::Test {
 protected:
  std::unique_ptr<SweepLock> Make() {
    return MakeServerSweepLock(
        "fake", "shop/orders",
        [this]() -> StoreResult<std::unique_ptr<ServerConnection>> {
          if (server_.refuse_connections) {
            return StoreError{StoreError::Kind::kUnavailable, "fake: connecting refused"};
          }
          return std::unique_ptr<ServerConnection>(std::make_unique<ScriptedConnection>(server_));
        },
        SweepLockSql{{"TAKE", {}}, {"CHECK", {}}, {"RELEASE", {}}});
  }
  void Answer(std::optional<std::string> value) { server_.answers.push_back(SqlRow{std::move(value)}); }
  void LoseSession() { server_.answers.push_back(std::nullopt); }
  std::string Seen() const {
    std::string out;
    for (const auto& s : server_.seen) out += (out.empty() ? "" : " ") + s;
    return out;
  }

  ScriptedServer server_;
};

TEST_F(ServerSweepLockTest, HoldsASessionFromTakingToReleasing) {
  auto lock = Make();
  EXPECT_EQ(Seen(), "") << "no session before the lock is asked for";
  Answer("1");
  Answer("1");
  Answer("1");
  auto taken = lock->TryAcquire();
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  EXPECT_TRUE(*taken);
  auto held = lock->StillHeld();
  ASSERT_TRUE(held.ok()) << held.error().message;
  EXPECT_TRUE(*held);
  lock->Release();
  EXPECT_EQ(Seen(), "open TAKE CHECK RELEASE close");
  lock->Release();
  EXPECT_EQ(Seen(), "open TAKE CHECK RELEASE close") << "a second Release did something";
}

TEST_F(ServerSweepLockTest, RefusedLockKeepsNoSession) {
  auto lock = Make();
  Answer("0");
  auto taken = lock->TryAcquire();
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  EXPECT_FALSE(*taken);
  EXPECT_EQ(Seen(), "open TAKE close");
  auto held = lock->StillHeld();
  ASSERT_TRUE(held.ok());
  EXPECT_FALSE(*held);
}

TEST_F(ServerSweepLockTest, LostSessionIsReportedAndTheNextAttemptOpensANewOne) {
  auto lock = Make();
  Answer("1");
  LoseSession();
  ASSERT_TRUE(lock->TryAcquire().ok());
  auto held = lock->StillHeld();
  ASSERT_FALSE(held.ok()) << "a lost session reported as holding the lock";
  EXPECT_EQ(held.error().message, "fake: checking the sweep lock on shop/orders: fake: connection lost");
  EXPECT_EQ(Seen(), "open TAKE CHECK close");
  Answer("1");
  auto again = lock->TryAcquire();
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(*again);
  EXPECT_EQ(Seen(), "open TAKE CHECK close open TAKE");
}

TEST_F(ServerSweepLockTest, UnclearAnswerIsAnErrorAndHoldsNothing) {
  auto lock = Make();
  Answer(std::nullopt);  // MySQL's GET_LOCK answers NULL when its session was killed
  auto taken = lock->TryAcquire();
  ASSERT_FALSE(taken.ok());
  EXPECT_NE(taken.error().message.find("no clear answer"), std::string::npos) << taken.error().message;
  EXPECT_EQ(Seen(), "open TAKE close");
}

TEST_F(ServerSweepLockTest, UnreachableDatabaseIsAnError) {
  auto lock = Make();
  server_.refuse_connections = true;
  auto taken = lock->TryAcquire();
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().message, "fake: connecting refused");
}

TEST_F(ServerSweepLockTest, DestroyingAHolderReleasesTheLock) {
  auto lock = Make();
  Answer("1");
  Answer("1");
  ASSERT_TRUE(lock->TryAcquire().ok());
  lock.reset();
  EXPECT_EQ(Seen(), "open TAKE RELEASE close");
}

}  // namespace
}  // namespace wxpay
