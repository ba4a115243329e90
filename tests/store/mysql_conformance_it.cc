// The conformance suite and the server checks against a real MariaDB server,
// plus MariaDB-only checks: the numeric-offset fallback for a server without
// time zone tables, and the isolation level of the store's transactions.
//
// Needs the server started by scripts/start-mariadb.sh; scripts/run-tests.sh
// starts it and exports WXPAY_TEST_MYSQL_{HOST,PORT,USER,PASSWORD,DB}. Each
// test works in its own throwaway database shop_t<pid>_<n>_<random>.
#include <date/date.h>

#include <chrono>

#include "store/server_fixture.h"

namespace wxpay {
namespace {

using std::chrono::seconds;

class MysqlFixture final : public ServerStoreFixture {
 public:
  MysqlFixture() : ServerStoreFixture(MariadbServerKind()) {}

  Dialect dialect() const override { return Dialect::kMysql; }

  void TearDown() override {
    admin_.reset();
    if (database().empty()) return;
    // A new session: a test may have restarted the server.
    auto admin = OpenSession(server().db);
    ASSERT_TRUE(admin.ok()) << admin.error().message;
    auto dropped = (*admin)->Exec("DROP DATABASE IF EXISTS " + database());
    EXPECT_TRUE(dropped.ok()) << dropped.error().message;
  }

  Result<std::unique_ptr<SqlShopStore>> Open(const DatabaseConfig& db, int pool_size,
                                             const Clock& clock, Logger& log) override {
    return OpenMysqlStore(db, pool_size, clock, log);
  }

  std::string StoreSessionsSql() const override {
    return "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '" + database() +
           "' AND ID <> CONNECTION_ID()";
  }
  std::string EndSessionSql(const std::string& id) const override { return "KILL CONNECTION " + id; }

 protected:
  DatabaseConfig::Driver driver() const override { return DatabaseConfig::Driver::kMysql; }

  Result<std::string> TestDatabase() override {
    auto admin = OpenSession(server().db);
    if (!admin.ok()) return admin.error();
    admin_ = std::move(*admin);
    const std::string name = UniqueDatabaseName();
    auto created = admin_->Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4");
    if (!created.ok()) return created.error();
    return name;
  }

  Result<std::unique_ptr<TestSession>> OpenSession(const std::string& db) override {
    return OpenMysqlTestSession(server(), db);
  }

 private:
  std::unique_ptr<TestSession> admin_;
};

std::unique_ptr<ServerStoreFixture> MakeMysqlFixture() { return std::make_unique<MysqlFixture>(); }

INSTANTIATE_TEST_SUITE_P(
    Mariadb, StoreConformance,
    ::testing::Values(StoreBackend{"mariadb", [] { return std::make_unique<MysqlFixture>(); }}),
    StoreBackendName);

INSTANTIATE_TEST_SUITE_P(
    Mariadb, ServerStoreChecks,
    ::testing::Values(ServerBackend{"mariadb", &MakeMysqlFixture, "mysql: connecting to", "mysql: connecting to"}),
    ServerBackendName);

// ------------------------------------------------------------ MariaDB only

class MysqlOnly : public ServerStoreTest {
 protected:
  MysqlOnly() : ServerStoreTest(MakeMysqlFixture()) {}
};

TEST_F(MysqlOnly, ZoneWithoutServerTablesFallsBackToItsCurrentOffset) {
  // scripts/start-mariadb.sh loads Asia/Shanghai only.
  TestSchema schema;
  schema.timezone = "America/New_York";
  CreateTables(schema);
  auto store = Open(MappedConfig(fixture_->BaseConfig(), schema_));
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_TRUE(log_.Contains("no time zone tables")) << "expected the fallback warning";
  EXPECT_TRUE(log_.Contains("mariadb-tzinfo-to-sql"));

  auto loaded = (*store)->LoadOrder("ORD000001");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  // 08:00 EST (UTC-5; DST starts on 10 March 2024) is 13:00Z.
  const TimePoint expected{date::sys_days{date::year{2024} / 3 / 1}.time_since_epoch() +
                           std::chrono::hours{13}};
  EXPECT_EQ((*loaded)->created_at, expected);

  auto now = (*store)->DatabaseNow();
  ASSERT_TRUE(now.ok()) << now.error().message;
  EXPECT_LT(std::chrono::abs(*now - std::chrono::system_clock::now()), seconds(60));
}

TEST_F(MysqlOnly, NamedZoneIsUsedWhenTheServerKnowsIt) {
  CreateTables(TestSchema{});  // Asia/Shanghai
  auto store = Open(MappedConfig(fixture_->BaseConfig(), schema_));
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_FALSE(log_.Contains("no time zone tables"));
  EXPECT_FALSE(log_.Contains("no statement time limit"));
  auto now = (*store)->DatabaseNow();
  ASSERT_TRUE(now.ok()) << now.error().message;
  EXPECT_LT(std::chrono::abs(*now - std::chrono::system_clock::now()), seconds(60));
}

TEST_F(MysqlOnly, ReadCommittedViewAfterALostRaceInsideTheTransaction) {
  // The shop pays the order between the store's load and its cancel: the
  // cancel does not apply and reports the status the shop wrote.
  CreateTables(TestSchema{});
  auto store = Open(MappedConfig(fixture_->BaseConfig(), schema_));
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto loaded = (*store)->LoadOrder("ORD000001");
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  auto shop = fixture_->Connect();
  ASSERT_TRUE(shop.ok()) << shop.error().message;
  auto paid = (*shop)->Exec("UPDATE wx_orders SET status = 2 WHERE number = 'ORD000001' AND status = 1");
  ASSERT_TRUE(paid.ok()) << paid.error().message;
  ASSERT_EQ(*paid, 1);
  auto cancelled = (*store)->MarkCancelled(**loaded);
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  EXPECT_FALSE(cancelled->applied);
  EXPECT_EQ(cancelled->current, ShopState::kPaid);
  EXPECT_EQ(cancelled->raw_status, "2");
}

TEST_F(MysqlOnly, SweepLocksOfTwoDatabasesWithOneTableNameDoNotConflict) {
  // GET_LOCK names are server-wide: the database's name keeps two shops apart.
  CreateTables(TestSchema{});
  const std::unique_ptr<ServerStoreFixture> other = MakeMysqlFixture();
  struct DropAtExit {
    ServerStoreFixture& fixture;
    ~DropAtExit() { fixture.TearDown(); }
  } drop{*other};
  Status up = other->SetUp();
  ASSERT_TRUE(up.ok()) << up.message();
  ASSERT_NE(other->database(), fixture_->database());
  {
    auto session = other->Connect();
    ASSERT_TRUE(session.ok()) << session.error().message;
    for (const std::string& sql : CreateSchemaSql(Dialect::kMysql, schema_)) {
      auto done = (*session)->Exec(sql);
      ASSERT_TRUE(done.ok()) << done.error().message;
    }
  }
  auto store = Open(MappedConfig(fixture_->BaseConfig(), schema_));
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto other_store = other->Open(MappedConfig(other->BaseConfig(), schema_), 1, clock_, log_);
  ASSERT_TRUE(other_store.ok()) << other_store.error().message;
  const std::unique_ptr<SweepLock> a = (*store)->NewSweepLock();
  const std::unique_ptr<SweepLock> b = (*other_store)->NewSweepLock();

  auto taken = a->TryAcquire();
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  EXPECT_TRUE(*taken);
  auto other_taken = b->TryAcquire();
  ASSERT_TRUE(other_taken.ok()) << other_taken.error().message;
  EXPECT_TRUE(*other_taken) << "the shop in " << other->database() << " was kept waiting by "
                            << fixture_->database();
}

}  // namespace
}  // namespace wxpay
