// The server-store logic shared by the MariaDB and PostgreSQL adapters, over
// a scripted fake connection: the transaction of SPEC §2 invariant 3, the one
// safe retry after a lost session, the bounded pool, zone offsets.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "store/order_examples.h"
#include "store/server_pool.h"
#include "store/server_store.h"

namespace wxpay {
namespace {

using std::chrono::milliseconds;

// What the fake server does and what it saw. Shared by all fake sessions.
struct FakeServer {
  // Failures to inject, consumed in order: "begin", "update", "commit"...
  // paired with whether the failure loses the session.
  struct Failure {
    std::string at;
    bool lost;
  };
  std::vector<Failure> failures;
  int64_t update_matches = 1;
  std::string status_after_lost_race = "2";
  std::vector<std::string> calls;  // "open", "begin", "update", "insert", "select", ...
  int opened = 0;
  int closed = 0;
};

StoreError Lost(const std::string& what) {
  return StoreError{StoreError::Kind::kUnavailable, "fake: " + what + " failed: connection lost"};
}

class FakeConnection final : public ServerConnection {
 public:
  explicit FakeConnection(FakeServer& server) : server_(server) { ++server_.opened; }
  ~FakeConnection() override { ++server_.closed; }

  StoreResult<std::vector<SqlRow>> Query(const SqlStatement& s) override {
    if (auto f = Inject("select"); f) return *f;
    server_.calls.push_back("select");
    if (s.text == "COLUMNS") {
      return std::vector<SqlRow>{{"number", "varchar(32)"}, {"status", "int(11)"},
                                 {"amount", "bigint(20)"}, {"order_time", "datetime"}};
    }
    if (s.text.rfind("SELECT `status` FROM", 0) == 0) {  // ReadStatus, not LoadOrder
      return std::vector<SqlRow>{{server_.status_after_lost_race}};
    }
    return std::vector<SqlRow>{{"1", "1230", "2024-03-01 08:00:00"}};
  }
  StoreResult<int64_t> Execute(const SqlStatement& s) override {
    const bool update = s.text.rfind("UPDATE", 0) == 0;
    if (auto f = Inject(update ? "update" : "insert"); f) return *f;
    server_.calls.push_back(update ? "update" : "insert");
    return update ? server_.update_matches : int64_t{1};
  }
  StoreResult<Done> Begin() override { return Step("begin"); }
  StoreResult<Done> Commit() override { return Step("commit"); }
  StoreResult<Done> Rollback() override { return Step("rollback"); }
  bool usable() const override { return usable_; }
  bool lost() const override { return lost_; }

 private:
  std::optional<StoreError> Inject(const std::string& at) {
    if (server_.failures.empty() || server_.failures.front().at != at) return std::nullopt;
    const bool lose = server_.failures.front().lost;
    server_.failures.erase(server_.failures.begin());
    server_.calls.push_back(at + (lose ? ":lost" : ":failed"));
    if (lose) {
      lost_ = true;
      usable_ = false;
      return Lost(at);
    }
    return StoreError{StoreError::Kind::kUnavailable, "fake: " + at + " failed: lock wait"};
  }
  StoreResult<Done> Step(const std::string& at) {
    if (auto f = Inject(at); f) return *f;
    server_.calls.push_back(at);
    return Done{};
  }

  FakeServer& server_;
  bool usable_ = true;
  bool lost_ = false;
};

DatabaseConfig Config() {
  DatabaseConfig db;
  db.driver = DatabaseConfig::Driver::kMysql;
  db.name = "shop";
  db.user = "wxpay";
  db.timeout = milliseconds(300);
  OrdersMapping& o = db.orders;
  o.table = "wx_orders";
  o.order_no = "number";
  o.status = "status";
  o.amount = "amount";
  o.created_at = "order_time";
  o.status_values = StatusValues{"1", "2", "5"};
  db.payments.table = "wx_payments";
  return db;
}

class ServerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenServerStore(
        "fake", Dialect::kMysql, Config(), 2,
        [this]() -> StoreResult<std::unique_ptr<ServerConnection>> {
          server_.calls.push_back("open");
          return std::unique_ptr<ServerConnection>(std::make_unique<FakeConnection>(server_));
        },
        [](const std::string&) { return SqlStatement{"COLUMNS", {}}; }, SweepLockSql{}, clock_, log_);
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    server_.calls.clear();
  }

  std::string Calls() const {
    std::string out;
    for (const auto& c : server_.calls) out += (out.empty() ? "" : " ") + c;
    return out;
  }

  FakeServer server_;
  ManualClock clock_{TimePoint{} + std::chrono::hours(24 * 365 * 54)};
  CapturingLogger log_;
  std::unique_ptr<SqlShopStore> store_;
};

TEST_F(ServerStoreTest, AppliedPaymentWritesTheRowInTheSameTransaction) {
  auto r = store_->MarkPaid(UnpaidOrderOf1230Fen("ORD000001"), SuccessOf1230Fen());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->applied);
  EXPECT_EQ(r->current, ShopState::kPaid);
  EXPECT_EQ(r->raw_status, "2");
  EXPECT_EQ(Calls(), "begin update insert commit");
}

TEST_F(ServerStoreTest, NotAppliedReadsTheStatusInsteadAndWritesNothing) {
  server_.update_matches = 0;
  auto r = store_->MarkPaid(UnpaidOrderOf1230Fen("ORD000001"), SuccessOf1230Fen());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->applied);
  EXPECT_EQ(r->current, ShopState::kPaid);
  EXPECT_EQ(Calls(), "begin update select rollback");
}

TEST_F(ServerStoreTest, UpdateMatchingSeveralRowsIsRolledBack) {
  server_.update_matches = 2;
  auto r = store_->MarkCancelled(UnpaidOrderOf1230Fen("ORD000001"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, StoreError::Kind::kBadRow);
  EXPECT_NE(r.error().message.find("unique"), std::string::npos) << r.error().message;
  EXPECT_EQ(Calls(), "begin update rollback");
}

TEST_F(ServerStoreTest, SessionLostBeforeCommitIsRedoneOnceOnANewSession) {
  server_.failures = {{"update", true}};
  auto r = store_->MarkPaid(UnpaidOrderOf1230Fen("ORD000001"), SuccessOf1230Fen());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->applied);
  EXPECT_EQ(Calls(), "begin update:lost open begin update insert commit");
  EXPECT_TRUE(log_.Contains("retrying once on a new connection"));
}

TEST_F(ServerStoreTest, SessionLostAtCommitIsNeverRedone) {
  server_.failures = {{"commit", true}};
  auto r = store_->MarkPaid(UnpaidOrderOf1230Fen("ORD000001"), SuccessOf1230Fen());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, StoreError::Kind::kUnavailable);
  EXPECT_NE(r.error().message.find("outcome is unknown"), std::string::npos) << r.error().message;
  EXPECT_EQ(Calls(), "begin update insert commit:lost");
}

TEST_F(ServerStoreTest, SecondLostSessionFails) {
  server_.failures = {{"begin", true}, {"begin", true}};
  auto r = store_->MarkCancelled(UnpaidOrderOf1230Fen("ORD000001"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, StoreError::Kind::kUnavailable);
  EXPECT_EQ(Calls(), "begin:lost open begin:lost");
  // The next call opens a new session and works.
  auto next = store_->MarkCancelled(UnpaidOrderOf1230Fen("ORD000001"));
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_TRUE(next->applied);
}

TEST_F(ServerStoreTest, LockWaitIsReportedWithoutRetryAndRolledBack) {
  server_.failures = {{"update", false}};
  auto r = store_->MarkCancelled(UnpaidOrderOf1230Fen("ORD000001"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, StoreError::Kind::kUnavailable);
  EXPECT_EQ(Calls(), "begin update:failed rollback");
}

TEST_F(ServerStoreTest, ReadsAreRetriedOnceAfterALostSession) {
  server_.failures = {{"select", true}};
  auto r = store_->LoadOrder("ORD000001");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->amount_fen, 1230);
  EXPECT_EQ(Calls(), "select:lost open select");
}

// ------------------------------------------------------------ pool

TEST(ConnectionPoolTest, CallerWaitsAtMostTheTimeoutWhenEverySessionIsBusy) {
  FakeServer server;
  ConnectionPool pool(1, milliseconds(200), [&]() -> StoreResult<std::unique_ptr<ServerConnection>> {
    return std::unique_ptr<ServerConnection>(std::make_unique<FakeConnection>(server));
  });
  auto held = pool.Acquire();
  ASSERT_TRUE(held.ok()) << held.error().message;
  const auto start = std::chrono::steady_clock::now();
  auto second = pool.Acquire();
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().kind, StoreError::Kind::kUnavailable);
  EXPECT_NE(second.error().message.find("busy"), std::string::npos) << second.error().message;
  EXPECT_GE(waited, milliseconds(190));
  EXPECT_LT(waited, milliseconds(2000));
  EXPECT_EQ(server.opened, 1);
}

TEST(ConnectionPoolTest, AReturnedSessionWakesAWaiter) {
  FakeServer server;
  ConnectionPool pool(1, milliseconds(5000), [&]() -> StoreResult<std::unique_ptr<ServerConnection>> {
    return std::unique_ptr<ServerConnection>(std::make_unique<FakeConnection>(server));
  });
  auto held = std::make_unique<StoreResult<ConnectionPool::Lease>>(pool.Acquire());
  ASSERT_TRUE(held->ok());
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    auto lease = pool.Acquire();
    got = lease.ok();
  });
  held.reset();  // gives the session back
  waiter.join();
  EXPECT_TRUE(got.load());
  EXPECT_EQ(server.opened, 1);  // the same session, reused
}

TEST(ConnectionPoolTest, UnusableSessionIsClosedAndItsSlotFreed) {
  FakeServer server;
  server.failures = {{"begin", true}};
  ConnectionPool pool(1, milliseconds(200), [&]() -> StoreResult<std::unique_ptr<ServerConnection>> {
    return std::unique_ptr<ServerConnection>(std::make_unique<FakeConnection>(server));
  });
  {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease.ok());
    EXPECT_FALSE((*lease)->Begin().ok());
  }
  EXPECT_EQ(server.closed, 1);
  EXPECT_EQ(pool.open_count(), 0);
  auto next = pool.Acquire();
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(server.opened, 2);
}

TEST(ConnectionPoolTest, FailedConnectReleasesItsSlot) {
  int attempts = 0;
  ConnectionPool pool(1, milliseconds(100), [&]() -> StoreResult<std::unique_ptr<ServerConnection>> {
    ++attempts;
    return StoreError{StoreError::Kind::kUnavailable, "fake: connection refused"};
  });
  for (int i = 0; i < 3; ++i) {
    auto lease = pool.Acquire();
    ASSERT_FALSE(lease.ok());
    EXPECT_EQ(lease.error().message, "fake: connection refused");
  }
  EXPECT_EQ(attempts, 3);
  EXPECT_EQ(pool.open_count(), 0);
}

TEST(ConnectionPoolTest, DropIdleClosesEveryIdleSessionAndFreshSkipsThem) {
  FakeServer server;
  ConnectionPool pool(2, milliseconds(200), [&]() -> StoreResult<std::unique_ptr<ServerConnection>> {
    return std::unique_ptr<ServerConnection>(std::make_unique<FakeConnection>(server));
  });
  {
    auto a = pool.Acquire();
    auto b = pool.Acquire();
    ASSERT_TRUE(a.ok() && b.ok());
  }
  EXPECT_EQ(pool.open_count(), 2);
  {
    // A fresh session while both slots are idle: one idle session makes room.
    auto fresh = pool.AcquireFresh();
    ASSERT_TRUE(fresh.ok()) << fresh.error().message;
    EXPECT_EQ(server.opened, 3);
    EXPECT_EQ(server.closed, 1);
  }
  pool.DropIdle();
  EXPECT_EQ(server.closed, 3);
  EXPECT_EQ(pool.open_count(), 0);
}

// ------------------------------------------------------------ zones

TimePoint Utc(int y, int mo, int d) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = 12;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

TEST(ZoneOffsetTest, OffsetsFollowTheZoneAndItsDaylightSavingTime) {
  auto shanghai = ZoneOffsetSeconds("Asia/Shanghai", Utc(2024, 7, 1));
  ASSERT_TRUE(shanghai.ok()) << shanghai.error().message;
  EXPECT_EQ(*shanghai, 8 * 3600);
  auto ny_winter = ZoneOffsetSeconds("America/New_York", Utc(2024, 1, 15));
  auto ny_summer = ZoneOffsetSeconds("America/New_York", Utc(2024, 7, 15));
  ASSERT_TRUE(ny_winter.ok() && ny_summer.ok());
  EXPECT_EQ(*ny_winter, -5 * 3600);
  EXPECT_EQ(*ny_summer, -4 * 3600);
  auto kolkata = ZoneOffsetSeconds("Asia/Kolkata", Utc(2024, 7, 1));
  ASSERT_TRUE(kolkata.ok());
  EXPECT_EQ(*kolkata, 5 * 3600 + 1800);
  EXPECT_FALSE(ZoneOffsetSeconds("Mars/Olympus", Utc(2024, 7, 1)).ok());
}

TEST(ZoneOffsetTest, FormatsAsMysqlTimeZoneOffsets) {
  EXPECT_EQ(FormatUtcOffset(8 * 3600), "+08:00");
  EXPECT_EQ(FormatUtcOffset(0), "+00:00");
  EXPECT_EQ(FormatUtcOffset(-(4 * 3600 + 1800)), "-04:30");
  EXPECT_EQ(FormatUtcOffset(5 * 3600 + 2700), "+05:45");
}

}  // namespace
}  // namespace wxpay
