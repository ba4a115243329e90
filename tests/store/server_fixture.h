// What the MariaDB and PostgreSQL integration tests share: the server named
// by the environment, a StoreFixture that works in a throwaway database on
// it, a test base for server-only checks, and the checks both servers must
// pass (tests/store/server_checks.cc). Each backend's *_it.cc provides its
// client session (tests/store/server_sessions.h) and its database lifetime,
// and instantiates the checks:
//
//   INSTANTIATE_TEST_SUITE_P(Mariadb, ServerStoreChecks,
//       ::testing::Values(ServerBackend{"mariadb", ...}), ServerBackendName);
//
// and links server_fixture.cc, server_sessions.cc and server_checks.cc into
// its binary.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "store/conformance.h"
#include "store/server_sessions.h"

namespace wxpay {

// "shop_t<pid>_<n>_<random>": a database name no other test (process) uses.
std::string UniqueDatabaseName();

// A StoreFixture over a database server: SetUp reads the server from the
// environment and takes the backend's test database.
class ServerStoreFixture : public StoreFixture {
 public:
  explicit ServerStoreFixture(ServerKind kind) : kind_(std::move(kind)) {}

  Status SetUp() final;
  DatabaseConfig BaseConfig() const final;
  Result<std::unique_ptr<TestSession>> Connect() final;

  // A SELECT listing the store's sessions on the server, one row each, the
  // session's id first; never the session that runs it.
  virtual std::string StoreSessionsSql() const = 0;
  // The statement that ends the session with this id.
  virtual std::string EndSessionSql(const std::string& id) const = 0;

  const ServerKind& kind() const { return kind_; }
  const std::string& database() const { return database_; }

 protected:
  virtual DatabaseConfig::Driver driver() const = 0;
  // The database the test works in, on server(): created for this test or
  // shared by the process.
  virtual Result<std::string> TestDatabase() = 0;
  // A new session to `db` on server().
  virtual Result<std::unique_ptr<TestSession>> OpenSession(const std::string& db) = 0;
  const TestServer& server() const { return server_; }

 private:
  const ServerKind kind_;
  TestServer server_;
  std::string database_;
};

// The base of tests against one server: the fixture set up around each test,
// the test tables, stores opened with the test's clock and logger.
class ServerStoreTest : public ::testing::Test {
 protected:
  explicit ServerStoreTest(std::unique_ptr<ServerStoreFixture> fixture) : fixture_(std::move(fixture)) {}
  void SetUp() override;
  void TearDown() override;

  // Runs the statements on a new session to the test database; fails the
  // test on the first error.
  void Exec(const std::vector<std::string>& statements);
  // Creates the test tables for `schema` with one unpaid order ORD000001
  // (1230 fen, created 2024-03-01 08:00:00); sets schema_.
  void CreateTables(const TestSchema& schema);
  Result<std::unique_ptr<SqlShopStore>> Open(const DatabaseConfig& db, int pool_size = 2);
  // Ends every session the store holds and waits until the server has let
  // them go; fails the test when the store holds none.
  void EndStoreSessions();

  std::unique_ptr<ServerStoreFixture> fixture_;
  TestSchema schema_;
  ManualClock clock_{TimePoint{}};
  CapturingLogger log_;
};

// ------------------------------------------------------------ the checks

struct ServerBackend {
  std::string name;  // gtest-friendly: [A-Za-z0-9_]
  std::function<std::unique_ptr<ServerStoreFixture>()> make;
  // How the adapter's connect errors start: "mysql: connecting to".
  std::string connect_error_prefix;
  // What the refusal of database.tls.mode require says.
  std::string tls_refusal_mentions;
};
std::string ServerBackendName(const ::testing::TestParamInfo<ServerBackend>& info);
void PrintTo(const ServerBackend& backend, std::ostream* os);

class ServerStoreChecks : public ServerStoreTest, public ::testing::WithParamInterface<ServerBackend> {
 protected:
  ServerStoreChecks() : ServerStoreTest(GetParam().make()) {}
};

}  // namespace wxpay
