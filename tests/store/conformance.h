// The ShopStore conformance suite, shared by every SQL adapter.
//
// The test cases live in tests/store/conformance.cc as TEST_P(StoreConformance, ...).
// A backend provides a StoreFixture and instantiates the suite in its own
// test file, e.g. tests/store/mysql_conformance_it.cc:
//
//   INSTANTIATE_TEST_SUITE_P(Mysql, StoreConformance,
//       ::testing::Values(StoreBackend{"mysql", &MakeMysqlFixture}), StoreBackendName);
//
// and links conformance.cc into its binary. The suite creates its own tables
// (wx_orders, wx_payments) through CreateSchemaSql() and inserts rows through
// InsertOrderSql(); literal SQL appears only here, written by tests.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/result.h"
#include "ops/log.h"
#include "store/mapping.h"
#include "store/store_factory.h"

namespace wxpay {

// A separate connection to the test database, used the way the shop uses its
// database: autocommit statements, or an explicit transaction held open.
// Used by one thread at a time.
class TestSession {
 public:
  virtual ~TestSession() = default;
  // Runs one statement; returns the number of rows it changed (0 for DDL,
  // BEGIN, COMMIT...).
  virtual Result<int64_t> Exec(const std::string& sql) = 0;
  // Runs one SELECT; every column as text, NULL as nullopt.
  virtual Result<std::vector<SqlRow>> Query(const std::string& sql) = 0;
};

class StoreFixture {
 public:
  virtual ~StoreFixture() = default;
  virtual Dialect dialect() const = 0;
  // Called before each test: reach the server (or make a temp file). When the
  // environment variables naming the server are missing, return an error that
  // says how to run the test (scripts/run-tests.sh): the test then FAILS.
  virtual Status SetUp() = 0;
  // Called after each test (also after a failed SetUp): close sessions, drop
  // what SetUp created.
  virtual void TearDown() {}
  // The connection part of the config (driver, path or host/port/name/user/
  // password); the suite fills in orders, payments and timeout.
  virtual DatabaseConfig BaseConfig() const = 0;
  // Normally the backend's Open*Store.
  virtual Result<std::unique_ptr<SqlShopStore>> Open(const DatabaseConfig& db, int pool_size,
                                                     const Clock& clock, Logger& log) = 0;
  // A new, independent connection.
  virtual Result<std::unique_ptr<TestSession>> Connect() = 0;
  // The statement that starts a transaction which takes write locks:
  // SQLite "BEGIN IMMEDIATE", the others "BEGIN".
  virtual std::string BeginWriteSql() const { return "BEGIN"; }
};

struct StoreBackend {
  std::string name;  // gtest-friendly: [A-Za-z0-9_]
  std::function<std::unique_ptr<StoreFixture>()> make;
};
std::string StoreBackendName(const ::testing::TestParamInfo<StoreBackend>& info);
void PrintTo(const StoreBackend& backend, std::ostream* os);

// ------------------------------------------------------------ test schema

// The shape of the test tables wx_orders / wx_payments. Column names used:
// number (order_no), status, amount, order_time (created_at), trade_no
// (out_trade_no), sub_mch (sub_mchid), pay_method (filter, values {"wxpay"}),
// paid_time (paid_at), updated (updated_at), ver (version).
struct TestSchema {
  bool order_no_integer = false;  // BIGINT number instead of VARCHAR(32)
  bool status_integer = true;     // INTEGER 1/2/5, else VARCHAR "unpaid"/"paid"/"cancelled"
  OrdersMapping::AmountUnit amount_unit = OrdersMapping::AmountUnit::kFen;
  std::string amount_type;        // override the amount column type (e.g. "REAL")
  OrdersMapping::TimeFormat time_format = OrdersMapping::TimeFormat::kDatetime;
  std::string timezone = "Asia/Shanghai";
  bool out_trade_no_column = false;
  bool sub_mchid_column = false;
  bool filter = false;
  bool paid_at = false;
  bool updated_at = false;
  bool version = false;
  bool payments = true;
};

// One row of wx_orders, written as SQL literals by InsertOrderSql.
struct TestOrder {
  std::string order_no;
  std::string status;      // as stored: "1" or "unpaid"
  std::string amount;      // "1230" or "12.30"
  std::string created_at;  // "2024-03-01 08:00:00" or epoch digits
  std::string out_trade_no{};
  std::string sub_mchid{};
  std::string pay_method = "wxpay";
};

// DROP TABLE IF EXISTS + CREATE TABLE for wx_orders (and wx_payments).
std::vector<std::string> CreateSchemaSql(Dialect d, const TestSchema& schema);
std::string InsertOrderSql(Dialect d, const TestSchema& schema, const TestOrder& order);
// base + orders/payments mapping for the schema, timeout 2s.
DatabaseConfig MappedConfig(DatabaseConfig base, const TestSchema& schema);
// The stored status value for a state in this schema ("1"/"unpaid", ...).
std::string StoredStatus(const TestSchema& schema, ShopState state);
// An unpaid order as the store would load it, for MarkPaid/MarkCancelled.
ShopOrder UnpaidOrder(const std::string& order_no, int64_t fen);
// A verified SUCCESS answer for MarkPaid.
Trade SuccessTrade(int64_t fen, const std::string& transaction_id);

// ------------------------------------------------------------ the suite

class StoreConformance : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Drops and creates the tables for `schema`; sets schema_ and config_
  // (which a test may adjust before OpenStore).
  void CreateTables(const TestSchema& schema);
  // Opens store_ over config_; fails the test (ADD_FAILURE) and returns
  // nullptr on error.
  SqlShopStore* OpenStore(int pool_size = 4);
  // CreateTables + OpenStore.
  SqlShopStore* Prepare(const TestSchema& schema, int pool_size = 4);
  // Exec on the helper session; fails the test on error.
  int64_t Exec(const std::string& sql);
  std::vector<SqlRow> Query(const std::string& sql);
  void Insert(const TestOrder& order);

  std::unique_ptr<StoreFixture> fixture_;
  std::unique_ptr<TestSession> session_;
  TestSchema schema_;
  DatabaseConfig config_;
  ManualClock clock_{TimePoint{}};
  CapturingLogger log_;
  std::unique_ptr<SqlShopStore> store_;
};

}  // namespace wxpay
