#include "store/sqlite_handle.h"

#include <chrono>
#include <climits>
#include <variant>

namespace wxpay {
namespace {

std::string Seconds(Duration d) {
  const auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace

StoreError TranslateSqliteError(const SqliteFailure& failure, const SqliteContext& context) {
  using Kind = StoreError::Kind;
  const std::string where = "sqlite " + context.path + ": ";
  const std::string detail = " (" + failure.detail + ")";
  switch (failure.code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return {Kind::kUnavailable,
              where + "database locked for longer than " + context.timeout_key + " (" +
                  Seconds(context.busy_timeout) +
                  "): another connection holds a write transaction; will retry. If this "
                  "persists, look for a long-running transaction in the shop or raise " +
                  context.timeout_key + detail};
    case SQLITE_CANTOPEN:
      return {Kind::kUnavailable,
              where + "cannot open the database file: check that it exists and that the service "
                      "user may read and write it and its directory (SQLite creates -journal, "
                      "-wal and -shm files beside it; with systemd add the directory to "
                      "ReadWritePaths=)" + detail};
    case SQLITE_READONLY:
      return {Kind::kUnavailable,
              where + "the database is read-only for this user: grant write access to the file "
                      "and its directory (ReadWritePaths= under systemd)" + detail};
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return {Kind::kUnavailable,
              where + "access denied: check the file permissions of the database and its "
                      "directory" + detail};
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return {Kind::kUnavailable,
              where + "not a valid SQLite database (or corrupt): check the path and the file" +
                  detail};
    case SQLITE_FULL:
      return {Kind::kUnavailable, where + "disk full: free space on the database's file system" + detail};
    case SQLITE_IOERR:
      return {Kind::kUnavailable, where + "I/O error reading or writing the database" + detail};
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
      return {Kind::kBadRow,
              where + "the database refused this order's change (constraint or type); nothing "
                      "was changed" + detail};
    case SQLITE_ERROR:
      return {Kind::kUnavailable,
              where + "SQL error: check the database.orders / database.payments mapping against "
                      "the schema (wxpay-reconciler check-config --connect)" + detail};
    default:
      return {Kind::kUnavailable, where + "error " + std::to_string(failure.code) + detail};
  }
}

namespace {

// SQLite's defaults suit one big connection; the daemon keeps up to
// policy.concurrency small ones that each touch a few pages per order. By
// default every connection pre-allocates and touches a 20-page cache bulk
// (87 KiB) and a 48 KiB lookaside buffer: about 1.3 MB resident for ten
// connections. Pages are allocated as needed instead, and a small
// lookaside keeps SQLite's short allocations off malloc.
bool ConfigureSqliteMemory() {
  sqlite3_config(SQLITE_CONFIG_PAGECACHE, nullptr, 0, 0);
  sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 256, 32);
  return true;  // SQLITE_MISUSE if SQLite was initialised already: keeps its defaults
}

}  // namespace

SqliteResult<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(const std::string& path,
                                                                       int flags,
                                                                       Duration busy_timeout) {
  // Must precede SQLite's initialisation, which the first open does.
  [[maybe_unused]] static const bool configured = ConfigureSqliteMemory();
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, nullptr);
  SqliteDbPtr db(raw);  // owns the handle even when opening failed
  if (rc != SQLITE_OK) {
    return SqliteFailure{rc, raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)};
  }
  const auto ms = std::min<int64_t>(busy_timeout.count(), INT_MAX);
  sqlite3_busy_timeout(db.get(), static_cast<int>(ms));
  // An order reads and writes a handful of pages, but a connection's cache
  // keeps every page it has read (up to 2 MiB by default) until another
  // connection writes: with a pool of them the daemon's heap would creep up
  // for as long as the shop is large. 32 pages hold every index level.
  char* error = nullptr;
  if (sqlite3_exec(db.get(), "PRAGMA cache_size = 32", nullptr, nullptr, &error) != SQLITE_OK) {
    SqliteFailure failure{sqlite3_extended_errcode(db.get()), error ? error : "PRAGMA cache_size failed"};
    sqlite3_free(error);
    return failure;
  }
  return std::make_unique<SqliteConnection>(Key{}, std::move(db));
}

SqliteFailure SqliteConnection::Failure(int code) const {
  return SqliteFailure{code, sqlite3_errmsg(db_.get())};
}

SqliteResult<sqlite3_stmt*> SqliteConnection::Prepare(const std::string& text) {
  auto it = statements_.find(text);
  if (it != statements_.end()) return it->second.get();
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db_.get(), text.c_str(), static_cast<int>(text.size() + 1),
                                    SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  SqliteStmtPtr stmt(raw);
  if (rc != SQLITE_OK) return Failure(rc);
  if (!stmt) return SqliteFailure{SQLITE_MISUSE, "empty statement"};
  sqlite3_stmt* result = stmt.get();
  statements_.emplace(text, std::move(stmt));
  return result;
}

namespace {

// Resets a cached statement on every exit path so it holds no lock and no
// bound value after use.
class ResetOnExit {
 public:
  explicit ResetOnExit(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;
  ~ResetOnExit() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  sqlite3_stmt* stmt_;
};

int Bind(sqlite3_stmt* stmt, int index, const SqlValue& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) return sqlite3_bind_int64(stmt, index, *i);
  if (const auto* s = std::get_if<std::string>(&value)) {
    return sqlite3_bind_text64(stmt, index, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  }
  return sqlite3_bind_null(stmt, index);
}

}  // namespace

SqliteResult<std::vector<SqlRow>> SqliteConnection::Query(const SqlStatement& statement) {
  auto prepared = Prepare(statement.text);
  if (!prepared) return prepared.error();
  sqlite3_stmt* stmt = *prepared;
  ResetOnExit reset(stmt);
  if (static_cast<size_t>(sqlite3_bind_parameter_count(stmt)) != statement.params.size()) {
    return SqliteFailure{SQLITE_RANGE, "parameter count mismatch in: " + statement.text};
  }
  for (size_t i = 0; i < statement.params.size(); ++i) {
    const int rc = Bind(stmt, static_cast<int>(i + 1), statement.params[i]);
    if (rc != SQLITE_OK) return Failure(rc);
  }
  std::vector<SqlRow> rows;
  const int columns = sqlite3_column_count(stmt);
  for (;;) {
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return Failure(rc);
    SqlRow row;
    row.reserve(static_cast<size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      if (sqlite3_column_type(stmt, c) == SQLITE_NULL) {
        row.emplace_back(std::nullopt);
      } else {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        const int size = sqlite3_column_bytes(stmt, c);
        row.emplace_back(std::string(text ? text : "", static_cast<size_t>(size)));
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

SqliteResult<int64_t> SqliteConnection::Exec(const SqlStatement& statement) {
  auto rows = Query(statement);
  if (!rows) return rows.error();
  return static_cast<int64_t>(sqlite3_changes64(db_.get()));
}

SqliteResult<int64_t> SqliteConnection::ExecScript(const char* sql) {
  const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Failure(rc);
  return static_cast<int64_t>(sqlite3_changes64(db_.get()));
}

SqliteResult<SqliteTransaction> SqliteTransaction::BeginImmediate(SqliteConnection& connection) {
  auto begun = connection.ExecScript("BEGIN IMMEDIATE");
  if (!begun) return begun.error();
  return SqliteTransaction(&connection);
}

SqliteTransaction::~SqliteTransaction() {
  if (connection_ && !connection_->autocommit()) (void)connection_->ExecScript("ROLLBACK");
}

SqliteResult<int64_t> SqliteTransaction::Commit() {
  auto done = connection_->ExecScript("COMMIT");
  if (done) connection_ = nullptr;  // on failure the destructor rolls back
  return done;
}

}  // namespace wxpay
