// A plain sqlite3 client session to the shop's test database, used the way
// the shop uses its database; the product's own adapters are never used to
// prepare or check what the binary did. The MariaDB and PostgreSQL sessions
// are the store tests' (store/server_sessions.h).
#pragma once

#include <memory>
#include <string>

#include "store/conformance.h"

namespace wxpay::clitest {

Result<std::unique_ptr<TestSession>> OpenSqliteSession(const std::string& path);

}  // namespace wxpay::clitest
