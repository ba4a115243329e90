// The shop's database for the CLI tests, on SQLite, MariaDB or PostgreSQL:
// the tables of the store conformance suite (tests/store/conformance.h:
// wx_orders, wx_payments), written and read over a connection of the test's
// own, plus the `database:` section of a config file that maps them.
//
// MariaDB and PostgreSQL come from scripts/run-tests.sh (WXPAY_TEST_MYSQL_*,
// WXPAY_TEST_PG_*); each test process works in a throwaway database of its
// own, created on first use and dropped when the tests end.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "store/conformance.h"

namespace wxpay::clitest {

enum class Backend { kSqlite, kMariadb, kPostgresql };
std::string BackendName(Backend backend);  // "sqlite", "mariadb", "postgresql"

// "YYYY-MM-DD HH:MM:SS" in Asia/Shanghai (UTC+8, no DST): how the shop
// writes created_at in the default timezone.
std::string ShanghaiDatetime(std::chrono::system_clock::time_point t);

class ShopDb {
 public:
  // The process's database for `backend`; nullptr (and a test failure that
  // says how to run the tests) when its server is not configured.
  static ShopDb* Shared(Backend backend);

  ShopDb(Backend backend, std::string name_or_path);
  ~ShopDb();  // drops the throwaway database
  ShopDb(const ShopDb&) = delete;
  ShopDb& operator=(const ShopDb&) = delete;

  Backend backend() const { return backend_; }
  Dialect dialect() const;

  // Empty tables for `schema`: dropped and created when the schema differs
  // from the last one, else emptied.
  void Reset(const TestSchema& schema);
  const TestSchema& schema() const { return schema_; }
  void Insert(const TestOrder& order);
  // An unpaid order of `fen` created at `created_at` (Shanghai datetime).
  void InsertUnpaid(const std::string& order_no, int fen, const std::string& created_at);
  void InsertWithStatus(const std::string& order_no, ShopState state, int fen,
                        const std::string& created_at);

  // On the helper session; fail the test on error.
  int64_t Exec(const std::string& sql);
  std::vector<SqlRow> Query(const std::string& sql);

  // The stored status of an order as text; "<none>" without such a row.
  std::string Status(const std::string& order_no);
  std::string StoredStatus(ShopState state) const { return wxpay::StoredStatus(schema_, state); }
  // One column of an order's row ("NULL" for NULL, "<none>" without a row).
  std::string Column(const std::string& order_no, const std::string& column);
  // The payments rows of an order: transaction_id, trade_state, amount.
  std::vector<SqlRow> Payments(const std::string& order_no);

  // A connection of its own, e.g. to hold a lock while a command runs.
  std::unique_ptr<TestSession> Connect();
  // Opens a transaction on `session` that makes the order's row wait:
  // SQLite: BEGIN EXCLUSIVE (readers wait too); servers: SELECT ... FOR UPDATE.
  void LockOrder(TestSession& session, const std::string& order_no);

  // The `database:` section of a config file for the current schema, with
  // database.timeout = `timeout`. Writes the password file into `dir`.
  // `port` replaces the server's port (a closed port: "database down"); for
  // SQLite a non-zero port means a database file that does not exist.
  std::string Yaml(const std::string& dir, const std::string& timeout = "2s", int port = 0) const;

 private:
  Backend backend_;
  std::string name_;  // database name (servers) or file path (SQLite)
  std::string sqlite_dir_;
  TestSchema schema_;
  std::string tables_for_;  // SchemaKey of the tables that exist; "" = none
  std::unique_ptr<TestSession> session_;
};

}  // namespace wxpay::clitest
