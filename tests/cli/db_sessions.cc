#include "cli/db_sessions.h"

#include <sqlite3.h>

#include <utility>
#include <vector>

namespace wxpay::clitest {
namespace {

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

}  // namespace

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

}  // namespace wxpay::clitest
