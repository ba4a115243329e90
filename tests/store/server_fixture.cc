#include "store/server_fixture.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

namespace wxpay {

std::string UniqueDatabaseName() {
  static std::atomic<int> counter{0};
  std::random_device random;
  return "shop_t" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "_" +
         std::to_string(random() % 100000);
}

// ------------------------------------------------------------ fixture

Status ServerStoreFixture::SetUp() {
  auto server = ServerFromEnvironment(kind_);
  if (!server.ok()) return server.error();
  server_ = *server;
  auto database = TestDatabase();
  if (!database.ok()) return database.error();
  database_ = *database;
  return Status::Ok();
}

DatabaseConfig ServerStoreFixture::BaseConfig() const {
  DatabaseConfig db;
  db.driver = driver();
  db.host = server_.host;
  db.port = server_.port;
  db.name = database_;
  db.user = server_.user;
  db.password = server_.password;
  return db;
}

Result<std::unique_ptr<TestSession>> ServerStoreFixture::Connect() { return OpenSession(database_); }

// ------------------------------------------------------------ test base

void ServerStoreTest::SetUp() {
  Status up = fixture_->SetUp();
  ASSERT_TRUE(up.ok()) << up.message();
}

void ServerStoreTest::TearDown() { fixture_->TearDown(); }

void ServerStoreTest::Exec(const std::vector<std::string>& statements) {
  auto session = fixture_->Connect();
  ASSERT_TRUE(session.ok()) << session.error().message;
  for (const auto& sql : statements) {
    auto done = (*session)->Exec(sql);
    ASSERT_TRUE(done.ok()) << done.error().message;
  }
}

void ServerStoreTest::CreateTables(const TestSchema& schema) {
  schema_ = schema;
  const Dialect dialect = fixture_->dialect();
  std::vector<std::string> statements = CreateSchemaSql(dialect, schema);
  statements.push_back(InsertOrderSql(
      dialect, schema,
      {"ORD000001", StoredStatus(schema, ShopState::kUnpaid), "1230", "2024-03-01 08:00:00"}));
  Exec(statements);
}

Result<std::unique_ptr<SqlShopStore>> ServerStoreTest::Open(const DatabaseConfig& db, int pool_size) {
  return fixture_->Open(db, pool_size, clock_, log_);
}

void ServerStoreTest::EndStoreSessions() {
  auto admin = fixture_->Connect();
  ASSERT_TRUE(admin.ok()) << admin.error().message;
  const std::string list = fixture_->StoreSessionsSql();
  auto ids = (*admin)->Query(list);
  ASSERT_TRUE(ids.ok()) << ids.error().message;
  ASSERT_FALSE(ids->empty()) << "the store holds no session to end";
  for (const auto& row : *ids) {
    auto ended = (*admin)->Exec(fixture_->EndSessionSql(row[0].value_or("0")));
    ASSERT_TRUE(ended.ok()) << ended.error().message;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto left = (*admin)->Query(list);
    ASSERT_TRUE(left.ok()) << left.error().message;
    if (left->empty()) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "ended sessions did not go away";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// ------------------------------------------------------------ the checks

std::string ServerBackendName(const ::testing::TestParamInfo<ServerBackend>& info) {
  return info.param.name;
}

void PrintTo(const ServerBackend& backend, std::ostream* os) { *os << backend.name; }

}  // namespace wxpay
