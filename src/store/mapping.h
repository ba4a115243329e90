// The shop's schema as SQL, shared by the SQLite, MariaDB and PostgreSQL
// adapters: identifier validation and quoting, the text of every statement
// per dialect (with placeholders, never with values), the values to bind, and
// the decoding of result rows (exact money, time zones). Pure: no I/O.
//
// Contract with the adapters:
//  - Every statement is an SqlStatement: `text` is identical for every call of
//    the same builder with the same shape (cache prepared statements by text),
//    `params` are bound in order: ? for SQLite/MySQL, $1..$n for PostgreSQL.
//  - SqlValue: NULL, a 64-bit integer, or text. PostgreSQL adapters send every
//    value in text format with paramTypes = NULL so the server infers each
//    parameter's type from its column (an INTEGER status compares to '1').
//  - Result rows are handed back as SqlRow: every column read as text
//    (integers as decimal digits, DECIMAL as its exact text, datetimes as
//    "YYYY-MM-DD HH:MM:SS[.ffffff]", timestamptz with its offset), NULL as
//    nullopt. Columns are in the order documented by each builder.
//  - ColumnTraits come from the adapter's catalog (see DeriveColumnTraits):
//    integer-typed order_no/status/filter columns are bound as integers,
//    because MySQL compares an integer column with a text value as DOUBLE
//    (18-digit order numbers collide) and an untyped SQLite column holds 1
//    and '1' as different values.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/order.h"
#include "core/ports.h"
#include "core/result.h"
#include "core/trade.h"

namespace wxpay {

enum class Dialect { kSqlite, kMysql, kPostgres };

std::string_view DialectName(Dialect d);  // "sqlite", "mysql", "postgresql"
Dialect DialectOf(DatabaseConfig::Driver driver);

// NULL, integer or text.
using SqlValue = std::variant<std::monostate, int64_t, std::string>;
using SqlRow = std::vector<std::optional<std::string>>;

struct SqlStatement {
  std::string text;
  std::vector<SqlValue> params;
};

// ------------------------------------------------------------ identifiers

// [A-Za-z_][A-Za-z0-9_]*
bool IsValidIdentifier(std::string_view name);
// An identifier, or schema.table.
bool IsValidTableName(std::string_view name);
// "x" (SQLite, PostgreSQL) or `x` (MySQL); a table's schema part is quoted
// separately: "s"."t". REQUIRES: IsValidTableName(name) (checked: an invalid
// name is an error, never quoted).
Result<std::string> QuoteTable(Dialect d, std::string_view name);
Result<std::string> QuoteColumn(Dialect d, std::string_view name);

// ------------------------------------------------------------ values

// "1230" -> 1230. Also accepts a fraction of zeros ("1230.00": a DECIMAL
// column holding fen). Rejects signs other than '-', blanks, exponents.
Result<int64_t> ParseFen(std::string_view text);
// "12.30" -> 1230, "12.3" -> 1230, "12" -> 1200, "-0.01" -> -1, exact (no
// floating point). More than 2 decimals are rejected unless they are zeros
// ("12.300" is fine, "12.301" is not).
Result<int64_t> ParseYuanToFen(std::string_view text);
// 1230 -> "12.30", -1 -> "-0.01".
std::string FormatFenAsYuan(int64_t fen);
// True for an optional '-' followed by 1..18 digits (fits int64 exactly).
bool IsIntegerLiteral(std::string_view text);

// RFC 3339 as WeChat Pay sends success_time: "2018-06-08T10:34:56+08:00",
// also "Z" and fractional seconds.
Result<TimePoint> ParseRfc3339(std::string_view text);

// Converts between instants and a column's representation:
// datetime (text in an IANA zone), epoch_s, epoch_ms.
class TimeCodec {
 public:
  // Error when the zone is unknown to the OS tz database.
  static Result<TimeCodec> Create(OrdersMapping::TimeFormat format, const std::string& zone);

  // datetime: "YYYY-MM-DD HH:MM:SS" (or 'T'), optional ".f" (1-9 digits,
  // kept to the microsecond), optional offset "Z"/"+08"/"+0800"/"+08:00"
  // which then wins over the zone; a local time skipped by a DST change is
  // read as if the clock had not changed, an ambiguous one as the earlier.
  // epoch_s / epoch_ms: an integer literal.
  Result<TimePoint> Decode(std::string_view text) const;
  // datetime: text in the zone, ".fff" or ".ffffff" only when non-zero;
  // epoch_*: an integer (floor).
  SqlValue Encode(TimePoint t) const;

  OrdersMapping::TimeFormat format() const { return format_; }

 private:
  TimeCodec(OrdersMapping::TimeFormat format, const void* zone) : format_(format), zone_(zone) {}
  OrdersMapping::TimeFormat format_;
  const void* zone_;  // const date::time_zone*, owned by the tz database (lives forever)
};

// ------------------------------------------------------------ schema facts

// How the mapped columns are typed in the shop's database, from its catalog.
// "untyped" (SQLite only): a column declared without a type (or BLOB) keeps
// each value as written, so the integer 1 and the text '1' are different
// values; such columns are compared with `col IN (1, '1')` and written as an
// integer when the configured value is an integer literal.
struct ColumnTraits {
  bool order_no_integer = false;
  bool status_integer = false;
  bool filter_integer = false;
  bool order_no_untyped = false;
  bool status_untyped = false;
  bool filter_untyped = false;
};

// One column as the catalog reports it: SQLite's declared type, MySQL's
// COLUMN_TYPE, PostgreSQL's information_schema data_type.
struct ColumnInfo {
  std::string name;
  std::string type;
};

// SQLite: INTEGER affinity (declared type contains "INT"). MySQL/PostgreSQL:
// tinyint/smallint/mediumint/int/integer/bigint/int2/int4/int8/serial...
bool IsIntegerColumnType(Dialect d, std::string_view type);
// FLOAT, REAL, DOUBLE, DOUBLE PRECISION, float4, float8.
bool IsFloatingColumnType(std::string_view type);
// SQLite: no affinity (declared type empty or BLOB). Never true for the others.
bool IsUntypedColumnType(Dialect d, std::string_view type);

// Column name matching is case-insensitive (all three databases fold or
// compare names case-insensitively for unquoted identifiers).
ColumnTraits DeriveColumnTraits(Dialect d, const OrdersMapping& orders,
                                const std::vector<ColumnInfo>& order_columns);

struct SchemaReport {
  std::vector<std::string> notes;  // facts worth printing (e.g. "status is INTEGER: ...")
};

// check-config --connect: the orders table (and payments table, when mapped)
// exists, i.e. the column lists are non-empty, and has every mapped column;
// no amount column is FLOAT/REAL/DOUBLE; created_at's type fits its format;
// integer status/filter columns get integer status/filter values. All
// problems are reported in one Error, one per line.
Result<SchemaReport> CheckSchemaColumns(Dialect d, const DatabaseConfig& db,
                                        const std::vector<ColumnInfo>& order_columns,
                                        const std::vector<ColumnInfo>& payment_columns);

// ------------------------------------------------------------ statements

// Everything the adapters need to talk to the shop's tables. Immutable and
// thread-safe after Create().
class SqlMapping {
 public:
  // Validates every identifier, the zone, the status values (non-empty,
  // distinct) and the filter. Errors name the config key.
  static Result<SqlMapping> Create(Dialect d, const OrdersMapping& orders,
                                   const PaymentsMapping& payments, ColumnTraits traits = {});

  Dialect dialect() const { return dialect_; }
  const OrdersMapping& orders() const { return orders_; }
  const PaymentsMapping& payments() const { return payments_; }
  const ColumnTraits& traits() const { return traits_; }
  const TimeCodec& time_codec() const { return time_; }

  // SELECT status, amount, created_at[, out_trade_no][, sub_mchid]
  //   FROM orders WHERE order_no = ? [AND filter IN (?, ...)]
  // (Here and below, `x = ?` is `x IN (?, ?)` for an untyped SQLite column.)
  // nullopt when order_no cannot exist in the column (non-digits for an
  // integer column): the adapter answers "not found" without a query.
  std::optional<SqlStatement> LoadOrder(std::string_view order_no) const;
  // Row of LoadOrder -> ShopOrder; kBadRow when a value cannot be read.
  StoreResult<ShopOrder> DecodeOrder(std::string_view order_no, const SqlRow& row) const;

  // UPDATE orders SET status = <paid>[, paid_at = ?][, updated_at = ?]
  //   [, version = version + 1] WHERE order_no = ? AND status = <unpaid>
  //   [AND filter IN (...)]
  // paid_at is trade.success_time in the column's format; `now` when
  // success_time is empty or not RFC 3339 (WeChat Pay always sends it for
  // SUCCESS; the row must not stay unpaid over a cosmetic column).
  SqlStatement MarkPaid(const ShopOrder& order, const Trade& trade, TimePoint now) const;
  // INSERT INTO payments (order_no, transaction_id, trade_state, amount,
  // success_time, raw) VALUES (...); nullopt when payments.table is empty.
  // amount is written in orders.amount_unit (fen integer, or yuan text
  // "12.30"), success_time in created_at_format/timezone (`now` if absent).
  std::optional<SqlStatement> InsertPayment(const ShopOrder& order, const Trade& trade,
                                            TimePoint now) const;
  // UPDATE ... SET status = <cancelled>[, updated_at][, version] WHERE
  // order_no = ? AND status = <unpaid> [AND filter]
  SqlStatement MarkCancelled(const ShopOrder& order, TimePoint now) const;

  // SELECT status FROM orders WHERE order_no = ?  (in the same transaction,
  // after an update that did not apply).
  SqlStatement ReadStatus(const ShopOrder& order) const;
  // Row of ReadStatus (or nullopt: the row is gone) -> a not-applied Transition.
  Transition DecodeNotApplied(const std::optional<SqlRow>& row) const;

  // Status text -> ShopState via status_values.
  ShopState ClassifyStatus(std::string_view raw) const;

  // SELECT order_no, created_at FROM orders WHERE status = <unpaid>
  //   [AND filter] AND created_at < ?
  //   [AND (created_at > ? OR (created_at = ? AND order_no > ?))]
  //   ORDER BY created_at, order_no LIMIT ?
  // The keyset clause is present iff after.order_no is non-empty.
  SqlStatement ListUnpaid(TimePoint created_before, const SweepCursor& after, int limit) const;
  StoreResult<SweepItem> DecodeSweepRow(const SqlRow& row) const;

  // The database's "now" as text in its session zone (SQLite: UTC).
  SqlStatement DatabaseNow() const;
  // Interpreted in orders.timezone (SQLite: UTC, it has no session zone).
  StoreResult<TimePoint> DecodeDatabaseNow(const SqlRow& row) const;

 private:
  SqlMapping(Dialect d, OrdersMapping orders, PaymentsMapping payments, ColumnTraits traits,
             TimeCodec time);
  class Builder;
  SqlValue StatusValue(const std::string& value) const;
  // `column = value`, or `column IN (int, 'text')` for an untyped column.
  void AppendEquals(Builder& b, const std::string& column, std::string_view value, bool integer,
                    bool untyped) const;
  void AppendFilter(Builder& b) const;
  void AppendUpdateSet(Builder& b, const std::string& new_status, const SqlValue* paid_at,
                       TimePoint now) const;

  Dialect dialect_;
  OrdersMapping orders_;
  PaymentsMapping payments_;
  ColumnTraits traits_;
  TimeCodec time_;
  // Quoted identifiers, computed once.
  std::string q_table_, q_order_no_, q_out_trade_no_, q_status_, q_amount_, q_created_at_,
      q_filter_, q_paid_at_, q_updated_at_, q_version_, q_sub_mchid_;
  std::string q_pay_table_;
  std::vector<std::string> q_pay_columns_;  // order_no, transaction_id, trade_state, amount, success_time, raw
};

// Validates database.orders / database.payments without connecting (for
// check-config and for telling configuration errors, exit 78, apart from an
// unreachable database at start).
Status ValidateDatabaseMapping(const DatabaseConfig& db);

}  // namespace wxpay
