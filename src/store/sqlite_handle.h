// RAII over the sqlite3 C API: a connection that owns its prepared
// statements (cached by SQL text), binds SqlValues, reads every column as
// text, and the one function that turns SQLite result codes into StoreErrors.
// Used by the shop adapter (sqlite_store) and the daemon's state DB.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "core/ports.h"
#include "core/result.h"
#include "store/mapping.h"

namespace wxpay {

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct SqliteFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using SqliteDbPtr = std::unique_ptr<sqlite3, SqliteCloser>;
using SqliteStmtPtr = std::unique_ptr<sqlite3_stmt, SqliteFinalizer>;

// What a failed call returned: the (extended) result code and SQLite's text.
struct SqliteFailure {
  int code = SQLITE_ERROR;
  std::string detail;  // sqlite3_errmsg(), or what we were doing
};

template <typename T>
using SqliteResult = Result<T, SqliteFailure>;

// Where the failure happened, for the message.
struct SqliteContext {
  std::string path;
  Duration busy_timeout{0};
  std::string timeout_key;  // the config key that sets busy_timeout, e.g. "database.timeout"
};

// THE translation of SQLite result codes: locks and busy databases, files that
// cannot be opened or written, corrupt files and SQL errors (a wrong mapping)
// are kUnavailable (retry; nothing is wrong with this order); constraint and
// type violations while writing one order's rows are kBadRow.
StoreError TranslateSqliteError(const SqliteFailure& failure, const SqliteContext& context);

// One connection and its statement cache. Not thread-safe: one thread at a
// time (the shop adapter pools them; the state store locks a mutex).
class SqliteConnection {
  struct Key {  // only Open() constructs; make_unique needs a public constructor
    explicit Key() = default;
  };

 public:
  // flags: SQLITE_OPEN_* (NOMUTEX and EXRESCODE are added).
  static SqliteResult<std::unique_ptr<SqliteConnection>> Open(const std::string& path, int flags,
                                                              Duration busy_timeout);

  SqliteConnection(Key, SqliteDbPtr db) : db_(std::move(db)) {}
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  // Runs a statement (cached), returns the rows, each column as text.
  SqliteResult<std::vector<SqlRow>> Query(const SqlStatement& statement);
  // Runs a statement that returns no rows; returns sqlite3_changes64().
  SqliteResult<int64_t> Exec(const SqlStatement& statement);
  // Runs fixed SQL without parameters (BEGIN, COMMIT, DDL), possibly several
  // statements; not cached.
  SqliteResult<int64_t> ExecScript(const char* sql);

  // False while a transaction is open.
  bool autocommit() const { return sqlite3_get_autocommit(db_.get()) != 0; }
  sqlite3* get() const { return db_.get(); }

 private:
  SqliteResult<sqlite3_stmt*> Prepare(const std::string& text);
  SqliteFailure Failure(int code) const;

  SqliteDbPtr db_;  // declared first: destroyed after the statements
  std::unordered_map<std::string, SqliteStmtPtr> statements_;
};

// Rolls back an open transaction unless Commit() succeeded.
class SqliteTransaction {
 public:
  // "BEGIN IMMEDIATE" takes the write lock now (waiting up to the busy
  // timeout), so nothing later in the transaction can fail to upgrade.
  static SqliteResult<SqliteTransaction> BeginImmediate(SqliteConnection& connection);
  SqliteTransaction(SqliteTransaction&& other) noexcept : connection_(other.connection_) {
    other.connection_ = nullptr;
  }
  SqliteTransaction& operator=(SqliteTransaction&&) = delete;
  ~SqliteTransaction();
  SqliteResult<int64_t> Commit();

 private:
  explicit SqliteTransaction(SqliteConnection* connection) : connection_(connection) {}
  SqliteConnection* connection_;  // not owned; null once finished
};

}  // namespace wxpay
