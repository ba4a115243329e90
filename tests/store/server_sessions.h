// The test database servers (MariaDB, PostgreSQL) as the environment names
// them, and plain client sessions to them (libmariadb text protocol, libpq),
// used the way the shop talks to its database. Shared by the store's server
// tests and the CLI tests, which prepare and check data with these sessions,
// never with the product's own adapters.
#pragma once

#include <memory>
#include <string>

#include "store/conformance.h"

namespace wxpay {

// How the tests reach one kind of server: `start_script` DIR writes
// PREFIX_{HOST,PORT,USER,PASSWORD,DB} and PREFIX_RESTART into DIR/env.
struct ServerKind {
  std::string product;       // "MariaDB", for messages
  std::string env_prefix;    // "WXPAY_TEST_MYSQL"
  std::string start_script;  // "scripts/start-mariadb.sh"
};

ServerKind MariadbServerKind();
ServerKind PostgresServerKind();

struct TestServer {
  std::string host, user, password;
  std::string db;  // the database the server starts with; the tests' admin database
  int port = 0;
};

// The server from the environment; when a variable is missing, an error that
// says how to run the test.
Result<TestServer> ServerFromEnvironment(const ServerKind& kind);

// A new session to database `db` on `server` ("" = none: MariaDB only).
Result<std::unique_ptr<TestSession>> OpenMysqlTestSession(const TestServer& server, const std::string& db);
Result<std::unique_ptr<TestSession>> OpenPgTestSession(const TestServer& server, const std::string& db);

}  // namespace wxpay
