// Plain client sessions to the test databases (sqlite3, libmariadb, libpq),
// used the way the shop uses its database; the product's own adapters are
// never used to prepare or check what the binary did.
#pragma once

#include <memory>
#include <string>

#include "store/conformance.h"

namespace wxpay::clitest {

struct ServerLogin {
  std::string host, user, password, admin_db;
  int port = 0;
};

// From WXPAY_TEST_MYSQL_* / WXPAY_TEST_PG_*; fails saying how to run the
// tests when a variable is missing.
Result<ServerLogin> MysqlLoginFromEnv();
Result<ServerLogin> PgLoginFromEnv();

Result<std::unique_ptr<TestSession>> OpenSqliteSession(const std::string& path);
Result<std::unique_ptr<TestSession>> OpenMysqlSession(const ServerLogin& login, const std::string& db);
Result<std::unique_ptr<TestSession>> OpenPgSession(const ServerLogin& login, const std::string& db);

}  // namespace wxpay::clitest
