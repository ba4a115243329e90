#include "store/server_sessions.h"

#include <libpq-fe.h>
#include <mysql.h>

#include <cstdlib>
#include <utility>
#include <vector>

namespace wxpay {
namespace {

// ------------------------------------------------------------ MariaDB

class MysqlTestSession final : public TestSession {
 public:
  explicit MysqlTestSession(std::unique_ptr<MYSQL, void (*)(MYSQL*)> m) : m_(std::move(m)) {}

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
    std::unique_ptr<MYSQL_RES, void (*)(MYSQL_RES*)> r(mysql_store_result(m_.get()),
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
  std::unique_ptr<MYSQL, void (*)(MYSQL*)> m_;
};

// ------------------------------------------------------------ PostgreSQL

class PgTestSession final : public TestSession {
 public:
  explicit PgTestSession(std::unique_ptr<PGconn, void (*)(PGconn*)> c) : c_(std::move(c)) {}

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
  using ResultPtr = std::unique_ptr<PGresult, void (*)(PGresult*)>;
  Result<ResultPtr> Run(const std::string& sql) {
    ResultPtr r(PQexec(c_.get(), sql.c_str()), &PQclear);
    const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      return Fail(sql + ": " + PQerrorMessage(c_.get()));
    }
    return r;
  }
  std::unique_ptr<PGconn, void (*)(PGconn*)> c_;
};

}  // namespace

ServerKind MariadbServerKind() { return {"MariaDB", "WXPAY_TEST_MYSQL", "scripts/start-mariadb.sh"}; }

ServerKind PostgresServerKind() { return {"PostgreSQL", "WXPAY_TEST_PG", "scripts/start-postgres.sh"}; }

Result<TestServer> ServerFromEnvironment(const ServerKind& kind) {
  TestServer s;
  const char* suffixes[] = {"_HOST", "_PORT", "_USER", "_PASSWORD", "_DB"};
  std::string* fields[] = {&s.host, nullptr, &s.user, &s.password, &s.db};
  for (int i = 0; i < 5; ++i) {
    const std::string name = kind.env_prefix + suffixes[i];
    const char* v = std::getenv(name.c_str());
    if (!v || !*v) {
      return Fail(name + " is not set: this test needs a " + kind.product +
                  " server; run it through scripts/run-tests.sh (which starts one with " +
                  kind.start_script + " DIR and sources DIR/env), or start one yourself and `source DIR/env`");
    }
    if (fields[i]) {
      *fields[i] = v;
    } else {
      s.port = std::atoi(v);
    }
  }
  return s;
}

Result<std::unique_ptr<TestSession>> OpenMysqlTestSession(const TestServer& s, const std::string& db) {
  std::unique_ptr<MYSQL, void (*)(MYSQL*)> m(mysql_init(nullptr), &mysql_close);
  if (!m) return Fail("mysql_init failed");
  const unsigned int timeout = 30;
  mysql_optionsv(m.get(), MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_optionsv(m.get(), MYSQL_OPT_READ_TIMEOUT, &timeout);
  if (!mysql_real_connect(m.get(), s.host.c_str(), s.user.c_str(), s.password.c_str(),
                          db.empty() ? nullptr : db.c_str(), static_cast<unsigned>(s.port), nullptr,
                          0)) {
    return Fail("connect to MariaDB at " + s.host + ":" + std::to_string(s.port) + ": " +
                mysql_error(m.get()));
  }
  return std::unique_ptr<TestSession>(std::make_unique<MysqlTestSession>(std::move(m)));
}

Result<std::unique_ptr<TestSession>> OpenPgTestSession(const TestServer& s, const std::string& db) {
  const std::string port = std::to_string(s.port);
  const char* keys[] = {"host", "port", "dbname", "user", "password", "connect_timeout", "sslmode",
                        nullptr};
  const char* values[] = {s.host.c_str(), port.c_str(), db.c_str(), s.user.c_str(),
                          s.password.c_str(), "10", "disable", nullptr};
  std::unique_ptr<PGconn, void (*)(PGconn*)> c(PQconnectdbParams(keys, values, 0), &PQfinish);
  if (!c || PQstatus(c.get()) != CONNECTION_OK) {
    return Fail("connect to PostgreSQL at " + s.host + ":" + port + ": " +
                (c ? PQerrorMessage(c.get()) : "out of memory"));
  }
  PQsetNoticeProcessor(c.get(), [](void*, const char*) {}, nullptr);  // "... skipping"
  return std::unique_ptr<TestSession>(std::make_unique<PgTestSession>(std::move(c)));
}

}  // namespace wxpay
