#include "cli/db_sessions.h"

#include <libpq-fe.h>
#include <mysql.h>
#include <sqlite3.h>

#include <cstdlib>

namespace wxpay::clitest {
namespace {

Result<ServerLogin> LoginFromEnv(const char* prefix, const char* what, const char* script) {
  ServerLogin login;
  const std::string names[] = {std::string(prefix) + "HOST", std::string(prefix) + "PORT",
                               std::string(prefix) + "USER", std::string(prefix) + "PASSWORD",
                               std::string(prefix) + "DB"};
  std::string values[5];
  for (int i = 0; i < 5; ++i) {
    const char* v = std::getenv(names[i].c_str());
    if (v == nullptr || *v == '\0') {
      return Fail(names[i] + " is not set: this test needs a " + what +
                  " server; run it through scripts/run-tests.sh, or start one with scripts/" + script +
                  " DIR and `source DIR/env`");
    }
    values[i] = v;
  }
  login.host = values[0];
  login.port = std::atoi(values[1].c_str());
  login.user = values[2];
  login.password = values[3];
  login.admin_db = values[4];
  return login;
}

// ------------------------------------------------------------ SQLite

class SqliteSession final : public TestSession {
 public:
  explicit SqliteSession(sqlite3* db) : db_(db, &sqlite3_close_v2) {}

  Result<int64_t> Exec(const std::string& sql) override {
    const int64_t before = sqlite3_total_changes64(db_.get());
    char* message = nullptr;
    if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message ? message : sqlite3_errmsg(db_.get());
      sqlite3_free(message);
      return Fail(sql + ": " + text);
    }
    return sqlite3_total_changes64(db_.get()) - before;
  }

  Result<std::vector<SqlRow>> Query(const std::string& sql) override {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
      return Fail(sql + ": " + sqlite3_errmsg(db_.get()));
    }
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw, &sqlite3_finalize);
    std::vector<SqlRow> rows;
    for (;;) {
      const int rc = sqlite3_step(stmt.get());
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return Fail(sql + ": " + sqlite3_errmsg(db_.get()));
      SqlRow row(static_cast<size_t>(sqlite3_column_count(stmt.get())));
      for (int i = 0; i < sqlite3_column_count(stmt.get()); ++i) {
        if (sqlite3_column_type(stmt.get(), i) == SQLITE_NULL) continue;
        const unsigned char* text = sqlite3_column_text(stmt.get(), i);
        row[static_cast<size_t>(i)] =
            std::string(reinterpret_cast<const char*>(text),
                        static_cast<size_t>(sqlite3_column_bytes(stmt.get(), i)));
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

 private:
  std::unique_ptr<sqlite3, decltype(&sqlite3_close_v2)> db_;
};

// ------------------------------------------------------------ MariaDB

class MysqlSession final : public TestSession {
 public:
  explicit MysqlSession(MYSQL* m) : m_(m, &mysql_close) {}

  Result<int64_t> Exec(const std::string& sql) override {
    if (mysql_real_query(m_.get(), sql.data(), sql.size()) != 0) {
      return Fail(sql + ": " + mysql_error(m_.get()));
    }
    if (MYSQL_RES* r = mysql_store_result(m_.get())) mysql_free_result(r);
    const my_ulonglong n = mysql_affected_rows(m_.get());
    return n == static_cast<my_ulonglong>(-1) ? int64_t{0} : static_cast<int64_t>(n);
  }

  Result<std::vector<SqlRow>> Query(const std::string& sql) override {
    if (mysql_real_query(m_.get(), sql.data(), sql.size()) != 0) {
      return Fail(sql + ": " + mysql_error(m_.get()));
    }
    std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)> r(mysql_store_result(m_.get()),
                                                               &mysql_free_result);
    if (!r) return Fail(sql + ": no result set: " + mysql_error(m_.get()));
    std::vector<SqlRow> rows;
    const unsigned int n = mysql_num_fields(r.get());
    while (MYSQL_ROW row = mysql_fetch_row(r.get())) {
      const unsigned long* lengths = mysql_fetch_lengths(r.get());
      SqlRow out(n);
      for (unsigned int i = 0; i < n; ++i) {
        if (row[i]) out[i] = std::string(row[i], lengths[i]);
      }
      rows.push_back(std::move(out));
    }
    return rows;
  }

 private:
  std::unique_ptr<MYSQL, decltype(&mysql_close)> m_;
};

// ------------------------------------------------------------ PostgreSQL

class PgSession final : public TestSession {
 public:
  explicit PgSession(PGconn* c) : c_(c, &PQfinish) {}

  Result<int64_t> Exec(const std::string& sql) override {
    auto r = Run(sql);
    if (!r.ok()) return r.error();
    const char* n = PQcmdTuples(r->get());
    return static_cast<int64_t>(n && *n ? std::atoll(n) : 0);
  }

  Result<std::vector<SqlRow>> Query(const std::string& sql) override {
    auto r = Run(sql);
    if (!r.ok()) return r.error();
    const PGresult* res = r->get();
    std::vector<SqlRow> rows;
    for (int i = 0; i < PQntuples(res); ++i) {
      SqlRow row(static_cast<size_t>(PQnfields(res)));
      for (int j = 0; j < PQnfields(res); ++j) {
        if (!PQgetisnull(res, i, j)) row[static_cast<size_t>(j)] = PQgetvalue(res, i, j);
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

 private:
  using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;
  Result<ResultPtr> Run(const std::string& sql) {
    ResultPtr r(PQexec(c_.get(), sql.c_str()), &PQclear);
    const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      return Fail(sql + ": " + PQerrorMessage(c_.get()));
    }
    return r;
  }
  std::unique_ptr<PGconn, decltype(&PQfinish)> c_;
};

}  // namespace

Result<ServerLogin> MysqlLoginFromEnv() {
  return LoginFromEnv("WXPAY_TEST_MYSQL_", "MariaDB", "start-mariadb.sh");
}

Result<ServerLogin> PgLoginFromEnv() {
  return LoginFromEnv("WXPAY_TEST_PG_", "PostgreSQL", "start-postgres.sh");
}

Result<std::unique_ptr<TestSession>> OpenSqliteSession(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  auto session = std::make_unique<SqliteSession>(db);  // owns db even on failure
  if (rc != SQLITE_OK) return Fail("open " + path + ": " + sqlite3_errstr(rc));
  sqlite3_busy_timeout(db, 10000);
  // Test setup needs no durability (this connection's commits only).
  if (auto fast = session->Exec("PRAGMA synchronous = OFF"); !fast) return fast.error();
  return std::unique_ptr<TestSession>(std::move(session));
}

Result<std::unique_ptr<TestSession>> OpenMysqlSession(const ServerLogin& login, const std::string& db) {
  MYSQL* m = mysql_init(nullptr);
  if (m == nullptr) return Fail("mysql_init failed");
  auto session = std::make_unique<MysqlSession>(m);
  const unsigned int timeout = 30;
  mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
  if (!mysql_real_connect(m, login.host.c_str(), login.user.c_str(), login.password.c_str(),
                          db.c_str(), static_cast<unsigned>(login.port), nullptr, 0)) {
    return Fail("connect to MariaDB at " + login.host + ":" + std::to_string(login.port) + ": " +
                mysql_error(m));
  }
  return std::unique_ptr<TestSession>(std::move(session));
}

Result<std::unique_ptr<TestSession>> OpenPgSession(const ServerLogin& login, const std::string& db) {
  const std::string port = std::to_string(login.port);
  const char* keys[] = {"host", "port", "dbname", "user", "password", "connect_timeout", "sslmode",
                        nullptr};
  const char* values[] = {login.host.c_str(), port.c_str(), db.c_str(), login.user.c_str(),
                          login.password.c_str(), "10", "disable", nullptr};
  PGconn* c = PQconnectdbParams(keys, values, 0);
  if (c == nullptr) return Fail("PQconnectdbParams: out of memory");
  auto session = std::make_unique<PgSession>(c);
  if (PQstatus(c) != CONNECTION_OK) {
    return Fail("connect to PostgreSQL at " + login.host + ":" + port + ": " + PQerrorMessage(c));
  }
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);  // "... skipping"
  return std::unique_ptr<TestSession>(std::move(session));
}

}  // namespace wxpay::clitest
