// The conformance suite and the server checks against a real PostgreSQL
// server, plus PostgreSQL-only checks: timestamptz columns.
//
// Needs the server started by scripts/start-postgres.sh; scripts/run-tests.sh
// starts it and exports WXPAY_TEST_PG_{HOST,PORT,USER,PASSWORD,DB}. The tests
// of one process share one throwaway database shop_t<pid>_<n>_<random> (CREATE
// DATABASE costs about 0.4 s), dropped at the end; each test replaces the
// tables it uses.
#include <date/date.h>

#include <chrono>
#include <mutex>

#include "store/server_fixture.h"

namespace wxpay {
namespace {

using std::chrono::seconds;

// The process's throwaway database: created by the first test that needs it,
// dropped when the test program ends. Owned by GoogleTest.
class PgDatabaseEnvironment final : public ::testing::Environment {
 public:
  Result<std::string> Database(const TestServer& server) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!name_.empty()) return name_;
    auto admin = OpenPgTestSession(server, server.db);
    if (!admin.ok()) return admin.error();
    const std::string name = UniqueDatabaseName();
    auto created = (*admin)->Exec("CREATE DATABASE " + name);
    if (!created.ok()) return created.error();
    server_ = server;
    name_ = name;
    return name_;
  }

  void TearDown() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (name_.empty()) return;
    auto admin = OpenPgTestSession(server_, server_.db);
    ASSERT_TRUE(admin.ok()) << admin.error().message;
    auto dropped = (*admin)->Exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    EXPECT_TRUE(dropped.ok()) << dropped.error().message;
    name_.clear();
  }

 private:
  std::mutex mu_;
  TestServer server_;
  std::string name_;
};

// GoogleTest takes ownership of registered environments.
PgDatabaseEnvironment* const g_database =
    static_cast<PgDatabaseEnvironment*>(::testing::AddGlobalTestEnvironment(new PgDatabaseEnvironment));

class PgFixture final : public ServerStoreFixture {
 public:
  PgFixture() : ServerStoreFixture(PostgresServerKind()) {}

  Dialect dialect() const override { return Dialect::kPostgres; }

  Result<std::unique_ptr<SqlShopStore>> Open(const DatabaseConfig& db, int pool_size,
                                             const Clock& clock, Logger& log) override {
    return OpenPgStore(db, pool_size, clock, log);
  }

  std::string StoreSessionsSql() const override {
    return "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND "
           "application_name = 'wxpay-reconciler' AND pid <> pg_backend_pid()";
  }
  std::string EndSessionSql(const std::string& id) const override {
    return "SELECT pg_terminate_backend(" + id + ")";
  }

 protected:
  DatabaseConfig::Driver driver() const override { return DatabaseConfig::Driver::kPostgresql; }

  Result<std::string> TestDatabase() override { return g_database->Database(server()); }

  Result<std::unique_ptr<TestSession>> OpenSession(const std::string& db) override {
    return OpenPgTestSession(server(), db);
  }
};

std::unique_ptr<ServerStoreFixture> MakePgFixture() { return std::make_unique<PgFixture>(); }

INSTANTIATE_TEST_SUITE_P(
    Postgresql, StoreConformance,
    ::testing::Values(StoreBackend{"postgresql", [] { return std::make_unique<PgFixture>(); }}),
    StoreBackendName);

INSTANTIATE_TEST_SUITE_P(
    Postgresql, ServerStoreChecks,
    ::testing::Values(ServerBackend{"postgresql", &MakePgFixture, "postgresql: connecting to", "database.tls"}),
    ServerBackendName);

// ------------------------------------------------------------ PostgreSQL only

class PgOnly : public ServerStoreTest {
 protected:
  PgOnly() : ServerStoreTest(MakePgFixture()) {}
};

TEST_F(PgOnly, TimestamptzColumnsAreReadAtTheirInstant) {
  Exec({"DROP TABLE IF EXISTS wx_payments", "DROP TABLE IF EXISTS wx_orders",
        "CREATE TABLE wx_orders (number VARCHAR(32) PRIMARY KEY, status INTEGER NOT NULL, "
        "amount BIGINT, order_time TIMESTAMPTZ)",
        // The same instant written in two zones.
        "INSERT INTO wx_orders VALUES ('ORD000001', 1, 100, '2024-03-01 08:00:00+08')",
        "INSERT INTO wx_orders VALUES ('ORD000002', 1, 100, '2024-03-01 00:00:00Z')"});
  TestSchema schema;
  schema.payments = false;
  auto store = Open(MappedConfig(fixture_->BaseConfig(), schema));
  ASSERT_TRUE(store.ok()) << store.error().message;
  const TimePoint expected{date::sys_days{date::year{2024} / 3 / 1}.time_since_epoch()};
  for (const char* no : {"ORD000001", "ORD000002"}) {
    auto loaded = (*store)->LoadOrder(no);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    ASSERT_TRUE(loaded->has_value()) << no;
    EXPECT_EQ((*loaded)->created_at, expected) << no;
  }
  // The sweep bound is compared as an instant too.
  auto swept = (*store)->ListUnpaid(expected + seconds(1), SweepCursor{}, 10);
  ASSERT_TRUE(swept.ok()) << swept.error().message;
  EXPECT_EQ(swept->size(), 2u);
  auto none = (*store)->ListUnpaid(expected, SweepCursor{}, 10);
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace wxpay
