#include "store/server_store.h"

#include <chrono>
#include <optional>
#include <string_view>
#include <utility>

namespace wxpay {
namespace {

StoreError Unavailable(std::string message) {
  return StoreError{StoreError::Kind::kUnavailable, std::move(message)};
}

class PooledShopStore final : public SqlShopStore {
 public:
  PooledShopStore(std::string label, DatabaseConfig db, SqlMapping mapping, ColumnsQuery columns,
                  std::unique_ptr<ConnectionPool> pool, Connector connect, SweepLockSql lock_sql,
                  const Clock& clock, Logger& log)
      : label_(std::move(label)),
        db_(std::move(db)),
        mapping_(std::move(mapping)),
        columns_(std::move(columns)),
        pool_(std::move(pool)),
        connect_(std::move(connect)),
        lock_sql_(std::move(lock_sql)),
        clock_(clock),
        log_(log) {}

  StoreResult<std::optional<ShopOrder>> LoadOrder(std::string_view order_no) override {
    const std::optional<SqlStatement> select = mapping_.LoadOrder(order_no);
    if (!select) return std::optional<ShopOrder>();  // cannot exist in this column
    auto rows = WithConnection<std::vector<SqlRow>>(
        [&](ServerConnection& c, bool&) { return c.Query(*select); });
    if (!rows.ok()) return std::move(rows).error();
    if (rows->empty()) return std::optional<ShopOrder>();
    if (rows->size() > 1) {
      return StoreError{StoreError::Kind::kBadRow,
                        label_ + ": order " + std::string(order_no) + " has " +
                            std::to_string(rows->size()) + " rows in " + db_.orders.table +
                            ": database.orders.order_no must name a unique column"};
    }
    auto order = mapping_.DecodeOrder(order_no, rows->front());
    if (!order.ok()) return std::move(order).error();
    return std::optional<ShopOrder>(std::move(order).value());
  }

  StoreResult<Transition> MarkPaid(const ShopOrder& order, const Trade& trade) override {
    const TimePoint now = clock_.Now();
    return Transit(order, mapping_.MarkPaid(order, trade, now),
                   mapping_.InsertPayment(order, trade, now), ShopState::kPaid,
                   mapping_.orders().status_values.paid, "mark paid");
  }

  StoreResult<Transition> MarkCancelled(const ShopOrder& order) override {
    return Transit(order, mapping_.MarkCancelled(order, clock_.Now()), std::nullopt,
                   ShopState::kCancelled, mapping_.orders().status_values.cancelled,
                   "mark cancelled");
  }

  StoreResult<std::vector<SweepItem>> ListUnpaid(TimePoint created_before,
                                                 const SweepCursor& after, int limit) override {
    const SqlStatement select = mapping_.ListUnpaid(created_before, after, limit);
    auto rows = WithConnection<std::vector<SqlRow>>(
        [&](ServerConnection& c, bool&) { return c.Query(select); });
    if (!rows.ok()) return std::move(rows).error();
    std::vector<SweepItem> items;
    items.reserve(rows->size());
    for (const SqlRow& row : *rows) {
      auto item = mapping_.DecodeSweepRow(row);
      if (!item.ok()) return std::move(item).error();
      items.push_back(std::move(item).value());
    }
    return items;
  }

  StoreResult<TimePoint> DatabaseNow() override {
    const SqlStatement select = mapping_.DatabaseNow();
    auto rows = WithConnection<std::vector<SqlRow>>(
        [&](ServerConnection& c, bool&) { return c.Query(select); });
    if (!rows.ok()) return std::move(rows).error();
    if (rows->size() != 1) return Unavailable(label_ + ": database clock: no answer");
    return mapping_.DecodeDatabaseNow(rows->front());
  }

  Result<SchemaReport> CheckSchema() override {
    using Tables = std::pair<std::vector<ColumnInfo>, std::vector<ColumnInfo>>;
    auto tables = WithConnection<Tables>([&](ServerConnection& c, bool&) -> StoreResult<Tables> {
      auto orders = ReadColumns(c, columns_, db_.orders.table);
      if (!orders.ok()) return std::move(orders).error();
      std::vector<ColumnInfo> payments;
      if (!db_.payments.table.empty()) {
        auto p = ReadColumns(c, columns_, db_.payments.table);
        if (!p.ok()) return std::move(p).error();
        payments = std::move(p).value();
      }
      return Tables(std::move(orders).value(), std::move(payments));
    });
    if (!tables.ok()) return Fail(tables.error().message);
    return CheckSchemaColumns(mapping_.dialect(), db_, tables->first, tables->second);
  }

  std::unique_ptr<SweepLock> NewSweepLock() override {
    return MakeServerSweepLock(label_, SweepLockSubject(db_), connect_, lock_sql_);
  }

 private:
  // Runs `work` on a pooled session. `work` sets commit_sent just before it
  // sends COMMIT. When the session turns out to have been lost before that,
  // the server has rolled back everything `work` did, so it is run once more
  // on a new session; after COMMIT was sent the outcome is unknown and the
  // failure is returned (never a blind second write).
  template <typename T, typename Work>
  StoreResult<T> WithConnection(Work&& work) {
    for (int attempt = 0;; ++attempt) {
      auto lease = attempt == 0 ? pool_->Acquire() : pool_->AcquireFresh();
      if (!lease.ok()) return std::move(lease).error();
      bool commit_sent = false;
      StoreResult<T> result = work(**lease, commit_sent);
      if (result.ok() || !(*lease)->lost()) return result;
      pool_->DropIdle();  // the server probably restarted: the idle sessions are dead too
      if (commit_sent) {
        StoreError e = std::move(result).error();
        e.message += "; the commit's outcome is unknown: the order is re-read before anything "
                     "else is done with it";
        return e;
      }
      if (attempt > 0) return result;
      log_.Info(result.error().message + "; retrying once on a new connection");
    }
  }

  // One transaction: the conditional update; if it matched the row, the
  // payment row; if not, the status found instead (SPEC §2 invariant 3).
  StoreResult<Transition> Transit(const ShopOrder& order, const SqlStatement& update,
                                  const std::optional<SqlStatement>& payment,
                                  ShopState target, const std::string& target_raw,
                                  std::string_view what) {
    return WithConnection<Transition>(
        [&](ServerConnection& c, bool& commit_sent) -> StoreResult<Transition> {
          auto abandon = [&c](StoreError e) -> StoreResult<Transition> {
            if (c.usable()) (void)c.Rollback();
            return e;
          };
          if (auto begun = c.Begin(); !begun.ok()) return std::move(begun).error();
          auto changed = c.Execute(update);
          if (!changed.ok()) return abandon(std::move(changed).error());
          if (*changed == 0) {
            auto rows = c.Query(mapping_.ReadStatus(order));
            if (!rows.ok()) return abandon(std::move(rows).error());
            // Nothing was written: ending the transaction cannot lose anything.
            if (c.usable()) (void)c.Rollback();
            return mapping_.DecodeNotApplied(
                rows->empty() ? std::optional<SqlRow>() : std::optional<SqlRow>(rows->front()));
          }
          if (*changed != 1) {
            return abandon(StoreError{
                StoreError::Kind::kBadRow,
                label_ + ": " + std::string(what) + " of order " + order.order_no + " matched " +
                    std::to_string(*changed) + " rows of " + db_.orders.table +
                    ": nothing was changed; database.orders.order_no must name a unique column"});
          }
          if (payment) {
            auto inserted = c.Execute(*payment);
            if (!inserted.ok()) return abandon(std::move(inserted).error());
          }
          commit_sent = true;
          if (auto committed = c.Commit(); !committed.ok()) return std::move(committed).error();
          Transition t;
          t.applied = true;
          t.current = target;
          t.raw_status = target_raw;
          return t;
        });
  }

  const std::string label_;
  const DatabaseConfig db_;
  const SqlMapping mapping_;
  const ColumnsQuery columns_;
  const std::unique_ptr<ConnectionPool> pool_;
  const Connector connect_;  // for the sweep locks' own sessions
  const SweepLockSql lock_sql_;
  const Clock& clock_;  // not owned
  Logger& log_;         // not owned
};

}  // namespace

StoreResult<std::vector<ColumnInfo>> ReadColumns(ServerConnection& connection,
                                                 const ColumnsQuery& query,
                                                 const std::string& table) {
  auto rows = connection.Query(query(table));
  if (!rows.ok()) return std::move(rows).error();
  std::vector<ColumnInfo> columns;
  for (const SqlRow& row : *rows) {
    if (row.size() != 2 || !row[0] || !row[1]) {
      return Unavailable("reading the columns of " + table + ": unexpected catalog row");
    }
    columns.push_back(ColumnInfo{*row[0], *row[1]});
  }
  return columns;
}

Result<int> ZoneOffsetSeconds(const std::string& zone, TimePoint at) {
  using std::chrono::seconds;
  auto local = TimeCodec::Create(OrdersMapping::TimeFormat::kDatetime, zone);
  if (!local.ok()) return local.error();
  auto utc = TimeCodec::Create(OrdersMapping::TimeFormat::kDatetime, "UTC");
  if (!utc.ok()) return utc.error();
  const TimePoint whole = std::chrono::floor<seconds>(at);
  const SqlValue text = local->Encode(whole);
  const std::string* wall = std::get_if<std::string>(&text);
  if (!wall) return Fail("time zone " + zone + ": no local time");
  // The local wall-clock time read as if it were UTC, minus the instant.
  auto as_utc = utc->Decode(*wall);
  if (!as_utc.ok()) return as_utc.error();
  return static_cast<int>(std::chrono::duration_cast<seconds>(*as_utc - whole).count());
}

std::string FormatUtcOffset(int seconds) {
  const char sign = seconds < 0 ? '-' : '+';
  const int magnitude = seconds < 0 ? -seconds : seconds;
  const int hours = magnitude / 3600;
  const int minutes = magnitude % 3600 / 60;
  std::string out(1, sign);
  out += static_cast<char>('0' + hours / 10);
  out += static_cast<char>('0' + hours % 10);
  out += ':';
  out += static_cast<char>('0' + minutes / 10);
  out += static_cast<char>('0' + minutes % 10);
  return out;
}

Result<std::unique_ptr<SqlShopStore>> OpenServerStore(std::string label, Dialect dialect,
                                                      const DatabaseConfig& db, int pool_size,
                                                      Connector connect, ColumnsQuery columns,
                                                      SweepLockSql lock_sql, const Clock& clock,
                                                      Logger& log) {
  if (Status valid = ValidateDatabaseMapping(db); !valid.ok()) return Fail(valid.message());
  auto pool = std::make_unique<ConnectionPool>(pool_size, db.timeout, connect);
  std::vector<ColumnInfo> order_columns;
  {
    auto lease = pool->Acquire();
    if (!lease.ok()) return Fail(lease.error().message);
    auto read = ReadColumns(**lease, columns, db.orders.table);
    if (!read.ok()) return Fail(read.error().message);
    order_columns = std::move(read).value();
  }
  if (order_columns.empty()) {
    return Fail(label + ": table '" + db.orders.table + "' not found in database '" + db.name +
                "' (or not visible to user '" + db.user +
                "'): check database.orders.table; `check-config --connect` lists every schema "
                "problem");
  }
  const ColumnTraits traits = DeriveColumnTraits(dialect, db.orders, order_columns);
  auto mapping = SqlMapping::Create(dialect, db.orders, db.payments, traits);
  if (!mapping.ok()) return mapping.error();
  return std::unique_ptr<SqlShopStore>(std::make_unique<PooledShopStore>(
      std::move(label), db, std::move(mapping).value(), std::move(columns), std::move(pool),
      std::move(connect), std::move(lock_sql), clock, log));
}

}  // namespace wxpay
