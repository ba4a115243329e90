#include "store/mysql_conn.h"

#include <mysqld_error.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "store/mysql_error.h"
#include "store/server_store.h"

namespace wxpay {
namespace {

StoreError Unavailable(std::string message) {
  return StoreError{StoreError::Kind::kUnavailable, std::move(message)};
}

// Whole seconds, rounded up, at least 1: the unit of libmariadb's timeouts
// and of innodb_lock_wait_timeout.
unsigned int CeilSeconds(Duration d) {
  const auto ms = d.count();
  const auto s = (ms + 999) / 1000;
  return s < 1 ? 1u : static_cast<unsigned int>(s);
}

// A statement's text for messages: placeholders only, never values.
std::string Abbrev(std::string_view sql) {
  constexpr size_t kMax = 72;
  if (sql.size() <= kMax) return std::string(sql);
  return std::string(sql.substr(0, kMax)) + "...";
}

std::string Describe(const DatabaseConfig& db) {
  return db.user + "@" + db.host + ":" + std::to_string(db.port == 0 ? 3306 : db.port) + "/" +
         db.name;
}

// Frees the rows of the last execution even when reading them failed.
class ResultGuard {
 public:
  explicit ResultGuard(MYSQL_STMT* stmt) : stmt_(stmt) {}
  ~ResultGuard() { mysql_stmt_free_result(stmt_); }
  ResultGuard(const ResultGuard&) = delete;
  ResultGuard& operator=(const ResultGuard&) = delete;

 private:
  MYSQL_STMT* stmt_;
};

}  // namespace

StoreResult<std::unique_ptr<MysqlConnection>> MysqlConnection::Open(const DatabaseConfig& db,
                                                                     MysqlSessionNotes& notes,
                                                                     Logger& log) {
  // mysql_init() initialises the library lazily, which is not thread-safe.
  static std::once_flag library_once;
  std::call_once(library_once, [] { mysql_library_init(0, nullptr, nullptr); });

  std::unique_ptr<MYSQL, void (*)(MYSQL*)> mysql(mysql_init(nullptr), &mysql_close);
  if (!mysql) return Unavailable("mysql: cannot allocate a connection handle (out of memory)");
  MYSQL* m = mysql.get();

  const unsigned int limit_s = CeilSeconds(db.timeout);
  // The server-side limits (lock wait, statement time) fire first, with a
  // clear error; the client-side ones catch a server that stopped answering.
  const unsigned int io_s = limit_s + 2;
  const unsigned int no_local_infile = 0;
  const my_bool no_reconnect = 0;  // a silent reconnect would lose the session setup
  mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &limit_s);
  mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &io_s);
  mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &io_s);
  mysql_optionsv(m, MYSQL_OPT_RECONNECT, &no_reconnect);
  mysql_optionsv(m, MYSQL_OPT_LOCAL_INFILE, &no_local_infile);
  mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");

  const my_bool enforce_tls = db.tls.mode != DatabaseTls::Mode::kDisable &&
                              db.tls.mode != DatabaseTls::Mode::kPrefer;
  // libmariadb verifies the chain and the host name together: verify_ca is
  // as strict as verify_full here.
  const my_bool verify_cert = db.tls.mode == DatabaseTls::Mode::kVerifyCa ||
                              db.tls.mode == DatabaseTls::Mode::kVerifyFull;
  if (db.tls.mode == DatabaseTls::Mode::kPrefer) {
    // TLS when the server offers it, plain otherwise.
    mysql_ssl_set(m, nullptr, nullptr, nullptr, nullptr, nullptr);
  }
  mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &enforce_tls);
  mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify_cert);
  if (!db.tls.ca_file.empty() && db.tls.mode != DatabaseTls::Mode::kDisable) {
    mysql_optionsv(m, MYSQL_OPT_SSL_CA, db.tls.ca_file.c_str());
  }

  const unsigned int port = db.port == 0 ? 0u : static_cast<unsigned int>(db.port);
  if (!mysql_real_connect(m, db.host.c_str(), db.user.c_str(), db.password.c_str(),
                          db.name.empty() ? nullptr : db.name.c_str(), port, nullptr,
                          CLIENT_FOUND_ROWS)) {
    return MysqlConnectError("mysql: connecting to " + Describe(db), mysql_errno(m),
                             mysql_sqlstate(m), mysql_error(m));
  }
  // libmariadb quietly falls back to plain text when the server offers no TLS
  // unless the certificate is verified: check what was negotiated.
  if (enforce_tls && mysql_get_ssl_cipher(m) == nullptr) {
    return Unavailable("mysql: connecting to " + Describe(db) +
                       " failed: the server did not start TLS, but database.tls.mode requires "
                       "it; enable TLS on the server or change database.tls.mode");
  }
  auto connection = std::make_unique<MysqlConnection>(std::move(mysql), db.orders.timezone, log);
  if (auto ready = connection->SetUpSession(db, notes); !ready.ok()) {
    return std::move(ready).error();
  }
  return connection;
}

MysqlConnection::MysqlConnection(std::unique_ptr<MYSQL, void (*)(MYSQL*)> mysql, std::string zone,
                                 Logger& log)
    : mysql_(std::move(mysql)), zone_(std::move(zone)), log_(log) {}

MysqlConnection::~MysqlConnection() = default;

StoreResult<Done> MysqlConnection::SetUpSession(const DatabaseConfig& db,
                                                MysqlSessionNotes& notes) {
  if (!notes.default_zone_checked.exchange(true)) {
    // SPEC §7: a shop that writes order times with the server's NOW() in a
    // zone other than orders.timezone shifts every payment window by hours.
    auto rows = Query(SqlStatement{
        "SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), NOW()), CAST(@@session.time_zone AS CHAR), "
        "CAST(@@system_time_zone AS CHAR)",
        {}});
    auto ours = ZoneOffsetSeconds(zone_, std::chrono::system_clock::now());
    if (rows.ok() && rows->size() == 1 && rows->front().size() == 3 && rows->front()[0] &&
        ours.ok()) {
      const SqlRow& row = rows->front();
      const int server = std::atoi(row[0]->c_str());
      if (std::abs(server - *ours) >= 60) {
        std::string zone = row[1].value_or("?");
        if (zone == "SYSTEM") zone = "SYSTEM (" + row[2].value_or("?") + ")";
        log_.Warning("mysql: the server's default time zone is " + zone + ", UTC" +
                     FormatUtcOffset(server) + ", but database.orders.timezone is " + zone_ +
                     ", UTC" + FormatUtcOffset(*ours) + "; the daemon reads and writes " +
                     "datetimes in " + zone_ + ": if the shop stores order times with the " +
                     "server's NOW() or CURRENT_TIMESTAMP, set database.orders.timezone to the " +
                     "server's zone");
      }
    } else if (!rows.ok()) {
      return std::move(rows).error();
    }
  }

  if (auto zone = SetTimeZone(notes); !zone.ok()) return zone;

  const auto limit_s = static_cast<int64_t>(CeilSeconds(db.timeout));
  auto lock_wait = Run(SqlStatement{"SET SESSION innodb_lock_wait_timeout = ?", {limit_s}});
  if (!lock_wait.ok()) return std::move(lock_wait).error();

  // A time limit for every statement: MariaDB's max_statement_time (seconds),
  // else MySQL's max_execution_time (milliseconds, SELECT only).
  const bool mariadb = std::strstr(mysql_get_server_info(mysql_.get()), "MariaDB") != nullptr;
  const int64_t limit_ms = db.timeout.count() < 1 ? 1 : db.timeout.count();
  auto limit = Run(mariadb ? SqlStatement{"SET SESSION max_statement_time = ? / 1000", {limit_ms}}
                           : SqlStatement{"SET SESSION max_execution_time = ?", {limit_ms}});
  if (!limit.ok()) {
    if (!usable_) return std::move(limit).error();
    log_.Debug("mysql: no statement time limit on this server: " + limit.error().message);
  }
  return Done{};
}

StoreResult<Done> MysqlConnection::SetTimeZone(MysqlSessionNotes& notes) {
  auto named = Run(SqlStatement{"SET time_zone = ?", {zone_}});
  if (named.ok()) return Done{};
  if (last_error_ != ER_UNKNOWN_TIME_ZONE) return std::move(named).error();

  // No time zone tables on the server. Datetime columns are read and written
  // as text in orders.timezone by the daemon itself; the session zone only
  // matters for NOW() and TIMESTAMP columns, so its current offset will do.
  auto offset = ZoneOffsetSeconds(zone_, std::chrono::system_clock::now());
  if (!offset.ok()) return Unavailable("mysql: time zone " + zone_ + ": " + offset.error().message);
  const std::string text = FormatUtcOffset(*offset);
  auto fixed = Run(SqlStatement{"SET time_zone = ?", {text}});
  if (!fixed.ok()) return std::move(fixed).error();
  fixed_offset_ = text;
  if (!notes.fixed_offset_warned.exchange(true)) {
    log_.Warning("mysql: the server does not know the time zone " + zone_ +
                 " (no time zone tables), so sessions use its current offset " + text +
                 ", followed across DST changes; load the tables with `mariadb-tzinfo-to-sql "
                 "/usr/share/zoneinfo | mariadb mysql` (MySQL: mysql_tzinfo_to_sql)");
  }
  return Done{};
}

StoreResult<Done> MysqlConnection::FollowZoneOffset() {
  if (fixed_offset_.empty()) return Done{};
  auto offset = ZoneOffsetSeconds(zone_, std::chrono::system_clock::now());
  if (!offset.ok()) return Done{};  // the zone was valid at connect time; keep the last offset
  const std::string text = FormatUtcOffset(*offset);
  if (text == fixed_offset_) return Done{};
  auto set = Run(SqlStatement{"SET time_zone = ?", {text}});
  if (!set.ok()) return std::move(set).error();
  fixed_offset_ = text;
  return Done{};
}

StoreResult<MYSQL_STMT*> MysqlConnection::Run(const SqlStatement& statement) {
  const std::string& text = statement.text;
  MYSQL_STMT* stmt = nullptr;
  if (auto it = statements_.find(text); it != statements_.end()) {
    stmt = it->second.get();
  } else {
    StatementPtr prepared(mysql_stmt_init(mysql_.get()));
    if (!prepared) return SessionFailure("mysql: allocating a statement");
    if (mysql_stmt_prepare(prepared.get(), text.data(), text.size()) != 0) {
      return StatementFailure(prepared.get(), "mysql: preparing " + Abbrev(text));
    }
    stmt = prepared.get();
    statements_.emplace(text, std::move(prepared));
  }

  const size_t n = statement.params.size();
  if (mysql_stmt_param_count(stmt) != n) {
    return Unavailable("mysql: " + Abbrev(text) + " expects " +
                       std::to_string(mysql_stmt_param_count(stmt)) + " values, " +
                       std::to_string(n) + " given (a bug in the daemon: report it)");
  }
  std::vector<MYSQL_BIND> binds(n);
  std::vector<long long> integers(n);
  std::vector<unsigned long> lengths(n);
  for (size_t i = 0; i < n; ++i) {
    MYSQL_BIND& b = binds[i];
    std::memset(&b, 0, sizeof b);
    const SqlValue& v = statement.params[i];
    if (const auto* integer = std::get_if<int64_t>(&v)) {
      integers[i] = *integer;
      b.buffer_type = MYSQL_TYPE_LONGLONG;
      b.buffer = &integers[i];
    } else if (const auto* s = std::get_if<std::string>(&v)) {
      lengths[i] = s->size();
      b.buffer_type = MYSQL_TYPE_STRING;
      b.buffer = const_cast<char*>(s->data());  // only read by libmariadb
      b.buffer_length = s->size();
      b.length = &lengths[i];
    } else {
      b.buffer_type = MYSQL_TYPE_NULL;
    }
  }
  if (n > 0 && mysql_stmt_bind_param(stmt, binds.data()) != 0) {
    return StatementFailure(stmt, "mysql: binding the values of " + Abbrev(text));
  }
  if (mysql_stmt_execute(stmt) != 0) return StatementFailure(stmt, "mysql: " + Abbrev(text));
  return stmt;
}

StoreResult<std::vector<SqlRow>> MysqlConnection::Query(const SqlStatement& statement) {
  if (auto zone = FollowZoneOffset(); !zone.ok()) return std::move(zone).error();
  auto run = Run(statement);
  if (!run.ok()) return std::move(run).error();
  MYSQL_STMT* stmt = *run;
  ResultGuard free_rows(stmt);

  const unsigned int n = mysql_stmt_field_count(stmt);
  std::vector<SqlRow> rows;
  if (n == 0) return rows;
  // Every column is fetched as text: libmariadb converts integers, DECIMAL
  // and DATETIME; longer values are fetched again with their full length.
  constexpr size_t kInitial = 64;
  std::vector<MYSQL_BIND> out(n);
  std::vector<std::vector<char>> buffers(n, std::vector<char>(kInitial));
  std::vector<unsigned long> lengths(n);
  std::vector<my_bool> nulls(n);
  std::vector<my_bool> truncated(n);
  for (unsigned int i = 0; i < n; ++i) {
    MYSQL_BIND& b = out[i];
    std::memset(&b, 0, sizeof b);
    b.buffer_type = MYSQL_TYPE_STRING;
    b.buffer = buffers[i].data();
    b.buffer_length = buffers[i].size();
    b.length = &lengths[i];
    b.is_null = &nulls[i];
    b.error = &truncated[i];
  }
  if (mysql_stmt_bind_result(stmt, out.data()) != 0) {
    return StatementFailure(stmt, "mysql: reading the result of " + Abbrev(statement.text));
  }
  for (;;) {
    const int rc = mysql_stmt_fetch(stmt);
    if (rc == MYSQL_NO_DATA) break;
    if (rc != 0 && rc != MYSQL_DATA_TRUNCATED) {
      return StatementFailure(stmt, "mysql: reading the rows of " + Abbrev(statement.text));
    }
    SqlRow row(n);
    for (unsigned int i = 0; i < n; ++i) {
      if (nulls[i]) continue;
      if (lengths[i] <= buffers[i].size()) {
        row[i] = std::string(buffers[i].data(), lengths[i]);
        continue;
      }
      std::string whole(lengths[i], '\0');
      unsigned long whole_length = 0;
      MYSQL_BIND b;
      std::memset(&b, 0, sizeof b);
      b.buffer_type = MYSQL_TYPE_STRING;
      b.buffer = whole.data();
      b.buffer_length = whole.size();
      b.length = &whole_length;
      if (mysql_stmt_fetch_column(stmt, &b, i, 0) != 0) {
        return StatementFailure(stmt, "mysql: reading a long value of " + Abbrev(statement.text));
      }
      whole.resize(std::min<size_t>(whole_length, whole.size()));
      row[i] = std::move(whole);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

StoreResult<int64_t> MysqlConnection::Execute(const SqlStatement& statement) {
  auto run = Run(statement);
  if (!run.ok()) return std::move(run).error();
  // With CLIENT_FOUND_ROWS: the rows the WHERE clause matched, not only those
  // whose values differed.
  return static_cast<int64_t>(mysql_stmt_affected_rows(*run));
}

StoreResult<Done> MysqlConnection::Simple(const char* sql) {
  if (mysql_real_query(mysql_.get(), sql, std::strlen(sql)) != 0) {
    return SessionFailure(std::string("mysql: ") + sql);
  }
  return Done{};
}

StoreResult<Done> MysqlConnection::Begin() {
  if (auto zone = FollowZoneOffset(); !zone.ok()) return std::move(zone).error();
  return Simple("START TRANSACTION");
}

StoreResult<Done> MysqlConnection::Commit() {
  auto done = Simple("COMMIT");
  if (!done.ok()) usable_ = false;  // the transaction's state is unknown
  return done;
}

StoreResult<Done> MysqlConnection::Rollback() {
  auto done = Simple("ROLLBACK");
  if (!done.ok()) usable_ = false;  // a transaction may still be open
  return done;
}

StoreError MysqlConnection::Note(StoreError e, unsigned int code) {
  last_error_ = code;
  if (MysqlErrorLosesSession(code)) {
    lost_ = true;
    usable_ = false;
  }
  return e;
}

StoreError MysqlConnection::SessionFailure(std::string_view what) {
  MYSQL* m = mysql_.get();
  const unsigned int code = mysql_errno(m);
  return Note(MysqlError(what, code, mysql_sqlstate(m), mysql_error(m)), code);
}

StoreError MysqlConnection::StatementFailure(MYSQL_STMT* stmt, std::string_view what) {
  const unsigned int code = mysql_stmt_errno(stmt);
  return Note(MysqlError(what, code, mysql_stmt_sqlstate(stmt), mysql_stmt_error(stmt)), code);
}

}  // namespace wxpay
