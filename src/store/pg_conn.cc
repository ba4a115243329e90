#include "store/pg_conn.h"

#include <poll.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "store/pg_error.h"
#include "store/server_store.h"

namespace wxpay {
namespace {

// How long past database.timeout the client waits for an answer: the
// server's own statement_timeout/lock_timeout should answer first, with a
// clear error; this catches a server or network that went silent.
constexpr std::chrono::seconds kClientMargin{2};

StoreError Unavailable(std::string message) {
  return StoreError{StoreError::Kind::kUnavailable, std::move(message)};
}

// A statement's text for messages: placeholders only, never values.
std::string Abbrev(std::string_view sql) {
  constexpr size_t kMax = 72;
  if (sql.size() <= kMax) return std::string(sql);
  return std::string(sql.substr(0, kMax)) + "...";
}

std::string Describe(const DatabaseConfig& db) {
  return db.user + "@" + db.host + ":" + std::to_string(db.port == 0 ? 5432 : db.port) + "/" +
         db.name;
}

const char* SslMode(DatabaseTls::Mode mode) {
  switch (mode) {
    case DatabaseTls::Mode::kDisable: return "disable";
    case DatabaseTls::Mode::kPrefer: return "prefer";
    case DatabaseTls::Mode::kRequire: return "require";
    case DatabaseTls::Mode::kVerifyCa: return "verify-ca";
    case DatabaseTls::Mode::kVerifyFull: return "verify-full";
  }
  return "prefer";
}

}  // namespace

StoreResult<std::unique_ptr<PgConnection>> PgConnection::Open(const DatabaseConfig& db,
                                                              PgSessionNotes& notes,
                                                              Logger& log) {
  // libpq rounds connect_timeout below 2 s up to 2 s anyway.
  const auto timeout_s = (db.timeout.count() + 999) / 1000;
  const std::string connect_timeout = std::to_string(timeout_s < 2 ? 2 : timeout_s);
  const std::string port = std::to_string(db.port == 0 ? 5432 : db.port);
  std::vector<const char*> keys;
  std::vector<const char*> values;
  auto set = [&](const char* key, const std::string& value) {
    keys.push_back(key);
    values.push_back(value.c_str());
  };
  set("host", db.host);
  set("port", port);
  set("dbname", db.name);
  set("user", db.user);
  if (!db.password.empty()) set("password", db.password);
  set("connect_timeout", connect_timeout);
  const std::string sslmode = SslMode(db.tls.mode);
  set("sslmode", sslmode);
  if (!db.tls.ca_file.empty()) set("sslrootcert", db.tls.ca_file);
  const std::string application = "wxpay-reconciler";
  set("application_name", application);
  const std::string encoding = "UTF8";
  set("client_encoding", encoding);
  keys.push_back(nullptr);
  values.push_back(nullptr);

  std::unique_ptr<PGconn, void (*)(PGconn*)> conn(
      PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/0), &PQfinish);
  if (!conn) return Unavailable("postgresql: cannot allocate a connection (out of memory)");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return PgConnectError("postgresql: connecting to " + Describe(db), PQerrorMessage(conn.get()));
  }
  // Server notices ("table does not exist, skipping", ...) go to the debug
  // log instead of libpq's default, raw stderr.
  PQsetNoticeProcessor(conn.get(), &PgConnection::OnNotice, &log);
  auto connection = std::make_unique<PgConnection>(std::move(conn), db.timeout, log);
  if (auto ready = connection->SetUpSession(db, notes); !ready.ok()) {
    return std::move(ready).error();
  }
  return connection;
}

PgConnection::PgConnection(std::unique_ptr<PGconn, void (*)(PGconn*)> conn, Duration timeout,
                           Logger& log)
    : conn_(std::move(conn)), timeout_(timeout), log_(log) {}

PgConnection::~PgConnection() = default;

void PgConnection::OnNotice(void* log, const char* message) {
  std::string text = "postgresql: server notice: ";
  text += message;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  static_cast<Logger*>(log)->Debug(text);
}

StoreResult<Done> PgConnection::SetUpSession(const DatabaseConfig& db, PgSessionNotes& notes) {
  const std::string& zone = db.orders.timezone;
  if (!notes.default_zone_checked.exchange(true)) {
    // SPEC §7: a shop that writes order times with the server's now() in a
    // zone other than orders.timezone shifts every payment window by hours.
    auto rows = Query(SqlStatement{
        "SELECT CAST(EXTRACT(TIMEZONE FROM now()) AS integer), current_setting('TimeZone')", {}});
    if (!rows.ok()) return std::move(rows).error();
    auto ours = ZoneOffsetSeconds(zone, std::chrono::system_clock::now());
    if (rows->size() == 1 && rows->front().size() == 2 && rows->front()[0] && ours.ok()) {
      const int server = std::atoi(rows->front()[0]->c_str());
      if (std::abs(server - *ours) >= 60) {
        log_.Warning("postgresql: the server's default time zone is " +
                     rows->front()[1].value_or("?") + ", UTC" + FormatUtcOffset(server) +
                     ", but database.orders.timezone is " + zone + ", UTC" +
                     FormatUtcOffset(*ours) + "; the daemon reads and writes datetimes in " +
                     zone + ": if the shop stores order times with the server's now() or " +
                     "CURRENT_TIMESTAMP, set database.orders.timezone to the server's zone");
      }
    }
  }
  const std::string limit_ms = std::to_string(db.timeout.count() < 1 ? 1 : db.timeout.count());
  auto set = Run(SqlStatement{"SELECT set_config('TimeZone', $1, false), "
                              "set_config('statement_timeout', $2, false), "
                              "set_config('lock_timeout', $3, false), "
                              "set_config('default_transaction_isolation', $4, false)",
                              {zone, limit_ms, limit_ms, std::string("read committed")}},
                 /*cached=*/false);
  if (!set.ok()) return std::move(set).error();
  return Done{};
}

StoreResult<PgConnection::ResultPtr> PgConnection::Run(const SqlStatement& statement,
                                                       bool cached) {
  PGconn* c = conn_.get();
  const size_t n = statement.params.size();
  // Text values; integers spelled in decimal. Every pointer stays valid until
  // the send below returns.
  std::vector<std::string> integers(n);
  std::vector<const char*> values(n, nullptr);
  for (size_t i = 0; i < n; ++i) {
    const SqlValue& v = statement.params[i];
    if (const auto* integer = std::get_if<int64_t>(&v)) {
      integers[i] = std::to_string(*integer);
      values[i] = integers[i].c_str();
    } else if (const auto* s = std::get_if<std::string>(&v)) {
      values[i] = s->c_str();
    }
  }
  const std::string what = "postgresql: " + Abbrev(statement.text);
  const int count = static_cast<int>(n);
  if (!cached) {
    if (!PQsendQueryParams(c, statement.text.c_str(), count, nullptr, values.data(), nullptr,
                           nullptr, 0)) {
      return ConnectionFailure(what);
    }
    return Await(what);
  }
  auto it = prepared_.find(statement.text);
  if (it == prepared_.end()) {
    const std::string name = "wx" + std::to_string(prepared_.size() + 1);
    if (!PQsendPrepare(c, name.c_str(), statement.text.c_str(), 0, nullptr)) {
      return ConnectionFailure("postgresql: preparing " + Abbrev(statement.text));
    }
    auto prepared = Await("postgresql: preparing " + Abbrev(statement.text));
    if (!prepared.ok()) return std::move(prepared).error();
    it = prepared_.emplace(statement.text, name).first;
  }
  if (!PQsendQueryPrepared(c, it->second.c_str(), count, values.data(), nullptr, nullptr, 0)) {
    return ConnectionFailure(what);
  }
  return Await(what);
}

StoreResult<PgConnection::ResultPtr> PgConnection::Simple(const char* sql) {
  const std::string what = std::string("postgresql: ") + sql;
  if (!PQsendQuery(conn_.get(), sql)) return ConnectionFailure(what);
  return Await(what);
}

StoreResult<PgConnection::ResultPtr> PgConnection::Await(std::string_view what) {
  PGconn* c = conn_.get();
  const auto deadline = std::chrono::steady_clock::now() + timeout_ + kClientMargin;
  ResultPtr last(nullptr, &PQclear);
  ResultPtr failed(nullptr, &PQclear);
  for (;;) {
    while (PQisBusy(c)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        usable_ = false;  // an answer may still arrive: the session cannot be reused
        return Unavailable(std::string(what) + " failed: no answer within database.timeout + " +
                           std::to_string(kClientMargin.count()) +
                           " s; the connection is closed and reopened on the next call");
      }
      pollfd p{PQsocket(c), POLLIN, 0};
      const int ready = poll(&p, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno != EINTR) {
        usable_ = false;
        return Unavailable(std::string(what) + " failed: poll: " + std::strerror(errno));
      }
      if (ready > 0 && !PQconsumeInput(c)) return ConnectionFailure(what);
    }
    PGresult* r = PQgetResult(c);
    if (!r) break;
    ResultPtr result(r, &PQclear);
    const ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      last = std::move(result);
    } else if (!failed) {
      failed = std::move(result);
    }
  }
  if (failed) return ResultFailure(failed.get(), what);
  if (!last) return ConnectionFailure(what);
  return last;
}

StoreError PgConnection::ConnectionFailure(std::string_view what) {
  PGconn* c = conn_.get();
  const bool bad = PQstatus(c) == CONNECTION_BAD;
  if (bad) lost_ = true;
  usable_ = false;  // whatever happened, the protocol state is unknown
  return PgError(what, "", PQerrorMessage(c), bad);
}

StoreError PgConnection::ResultFailure(const PGresult* result, std::string_view what) {
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  const std::string_view sqlstate = state ? state : "";
  const bool bad = PQstatus(conn_.get()) == CONNECTION_BAD;
  if (bad || PgErrorLosesSession(sqlstate)) {
    lost_ = true;
    usable_ = false;
  }
  if (sqlstate == "0A000") usable_ = false;  // e.g. "cached plan must not change result type"
  return PgError(what, sqlstate, primary ? primary : PQresultErrorMessage(result), bad);
}

StoreResult<std::vector<SqlRow>> PgConnection::Query(const SqlStatement& statement) {
  auto run = Run(statement, /*cached=*/true);
  if (!run.ok()) return std::move(run).error();
  const PGresult* r = run->get();
  const int rows = PQntuples(r);
  const int columns = PQnfields(r);
  std::vector<SqlRow> out;
  out.reserve(static_cast<size_t>(rows));
  for (int i = 0; i < rows; ++i) {
    SqlRow row(static_cast<size_t>(columns));
    for (int j = 0; j < columns; ++j) {
      if (PQgetisnull(r, i, j)) continue;
      row[static_cast<size_t>(j)] =
          std::string(PQgetvalue(r, i, j), static_cast<size_t>(PQgetlength(r, i, j)));
    }
    out.push_back(std::move(row));
  }
  return out;
}

StoreResult<int64_t> PgConnection::Execute(const SqlStatement& statement) {
  auto run = Run(statement, /*cached=*/true);
  if (!run.ok()) return std::move(run).error();
  const char* tuples = PQcmdTuples(run->get());
  return static_cast<int64_t>(tuples && *tuples ? std::strtoll(tuples, nullptr, 10) : 0);
}

StoreResult<Done> PgConnection::Begin() {
  auto done = Simple("BEGIN");
  if (!done.ok()) return std::move(done).error();
  return Done{};
}

StoreResult<Done> PgConnection::Commit() {
  auto done = Simple("COMMIT");
  if (!done.ok()) {
    usable_ = false;  // the transaction's state is unknown
    return std::move(done).error();
  }
  // COMMIT of a transaction that had failed answers "ROLLBACK" without error.
  if (std::string_view(PQcmdStatus(done->get())) != "COMMIT") {
    return Unavailable("postgresql: COMMIT failed: the transaction had been aborted and was "
                       "rolled back; nothing was changed");
  }
  return Done{};
}

StoreResult<Done> PgConnection::Rollback() {
  auto done = Simple("ROLLBACK");
  if (!done.ok()) {
    usable_ = false;  // a transaction may still be open
    return std::move(done).error();
  }
  return Done{};
}

}  // namespace wxpay
