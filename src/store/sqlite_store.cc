// The shop's database in SQLite (database.driver: sqlite).
//
// - One connection per concurrent caller, from a pool of at most pool_size
//   connections opened on demand; each keeps its prepared statements.
// - Busy timeout = database.timeout: a write lock held longer by the shop
//   yields kUnavailable instead of a hang.
// - State changes run in BEGIN IMMEDIATE ... COMMIT: the conditional update,
//   then the payment row iff exactly one row changed, or else the re-read
//   status, so a payment callback committed first always wins. SQLite has
//   one writer, so the workers' changes are group-committed (group_commit.h):
//   whatever queued while one transaction ran goes into the next, one
//   savepoint per order, one fsync for them all.
// - The shop's journal mode and other persistent settings are never touched.
// - SQLite has no session time zone: DatabaseNow is SQLite's 'now' (the
//   system clock, UTC), so the clock check can only find a wrong system clock,
//   never a wrong orders.timezone.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <utility>

#include "store/group_commit.h"
#include "store/mapping.h"
#include "store/sqlite_handle.h"
#include "store/store_factory.h"

namespace wxpay {
namespace {

using Kind = StoreError::Kind;

// Splits "schema.table" for pragma_table_info(table, schema).
std::pair<std::string, std::string> SplitTable(const std::string& name) {
  const size_t dot = name.find('.');
  if (dot == std::string::npos) return {name, "main"};
  return {name.substr(dot + 1), name.substr(0, dot)};
}

SqliteResult<std::vector<ColumnInfo>> ListColumns(SqliteConnection& conn, const std::string& table) {
  auto [name, schema] = SplitTable(table);
  auto rows = conn.Query(SqlStatement{"SELECT name, type FROM pragma_table_info(?, ?)",
                                      {SqlValue{name}, SqlValue{schema}}});
  if (!rows) return rows.error();
  std::vector<ColumnInfo> columns;
  for (const auto& row : *rows) {
    if (row.size() == 2 && row[0]) columns.push_back({*row[0], row[1].value_or("")});
  }
  return columns;
}

class SqliteShopStore final : public SqlShopStore {
 public:
  SqliteShopStore(SqliteContext context, SqlMapping mapping, int pool_size, const Clock& clock,
                  Logger& log)
      : context_(std::move(context)),
        mapping_(std::move(mapping)),
        pool_size_(std::max(pool_size, 1)),
        clock_(clock),
        log_(log) {}

  // Seeds the pool with the connection used to read the schema.
  void Adopt(std::unique_ptr<SqliteConnection> conn) {
    std::lock_guard<std::mutex> lock(mu_);
    ++open_;
    idle_.push_back(std::move(conn));
  }

  StoreResult<std::optional<ShopOrder>> LoadOrder(std::string_view order_no) override {
    auto statement = mapping_.LoadOrder(order_no);
    if (!statement) return std::optional<ShopOrder>();  // cannot exist in an integer column
    auto lease = Acquire();
    if (!lease) return lease.error();
    auto rows = lease->conn().Query(*statement);
    if (!rows) return Translate(rows.error());
    if (rows->empty()) return std::optional<ShopOrder>();
    if (rows->size() > 1) {
      return StoreError{Kind::kBadRow, "order " + std::string(order_no) + " matches " +
                                           std::to_string(rows->size()) + " rows of table '" +
                                           mapping_.orders().table +
                                           "': database.orders.order_no must name a unique column"};
    }
    auto order = mapping_.DecodeOrder(order_no, rows->front());
    if (!order) return order.error();
    return std::optional<ShopOrder>(std::move(*order));
  }

  StoreResult<Transition> MarkPaid(const ShopOrder& order, const Trade& trade) override {
    const TimePoint now = clock_.Now();
    return Transact(order, mapping_.MarkPaid(order, trade, now),
                    mapping_.InsertPayment(order, trade, now), ShopState::kPaid,
                    mapping_.orders().status_values.paid);
  }

  StoreResult<Transition> MarkCancelled(const ShopOrder& order) override {
    return Transact(order, mapping_.MarkCancelled(order, clock_.Now()), std::nullopt,
                    ShopState::kCancelled, mapping_.orders().status_values.cancelled);
  }

  StoreResult<std::vector<SweepItem>> ListUnpaid(TimePoint created_before, const SweepCursor& after,
                                                 int limit) override {
    std::vector<SweepItem> items;
    if (limit <= 0) return items;
    auto lease = Acquire();
    if (!lease) return lease.error();
    auto rows = lease->conn().Query(mapping_.ListUnpaid(created_before, after, limit));
    if (!rows) return Translate(rows.error());
    for (const auto& row : *rows) {
      auto item = mapping_.DecodeSweepRow(row);
      if (item) {
        items.push_back(std::move(*item));
      } else {
        log_.Warning(item.error().message + "; the sweeper skips it");
      }
    }
    return items;
  }

  StoreResult<TimePoint> DatabaseNow() override {
    auto lease = Acquire();
    if (!lease) return lease.error();
    auto rows = lease->conn().Query(mapping_.DatabaseNow());
    if (!rows) return Translate(rows.error());
    if (rows->size() != 1) return StoreError{Kind::kUnavailable, "sqlite: 'now' returned no row"};
    return mapping_.DecodeDatabaseNow(rows->front());
  }

  // One host: a second pass is kept safe by the conditional updates, and
  // SQLite has no advisory lock to serialise them.
  std::unique_ptr<SweepLock> NewSweepLock() override {
    return std::make_unique<NoSweepLock>(context_.path + "/" + mapping_.orders().table);
  }

  Result<SchemaReport> CheckSchema() override {
    auto lease = Acquire();
    if (!lease) return Fail(lease.error().message);
    auto orders = ListColumns(lease->conn(), mapping_.orders().table);
    if (!orders) return Fail(Translate(orders.error()).message);
    std::vector<ColumnInfo> payments;
    if (!mapping_.payments().table.empty()) {
      auto cols = ListColumns(lease->conn(), mapping_.payments().table);
      if (!cols) return Fail(Translate(cols.error()).message);
      payments = std::move(*cols);
    }
    DatabaseConfig db;
    db.driver = DatabaseConfig::Driver::kSqlite;
    db.orders = mapping_.orders();
    db.payments = mapping_.payments();
    auto report = CheckSchemaColumns(Dialect::kSqlite, db, *orders, payments);
    if (!report) return report.error();
    auto mode = lease->conn().Query(SqlStatement{"PRAGMA journal_mode", {}});
    if (mode && !mode->empty() && !mode->front().empty() && mode->front()[0]) {
      report->notes.push_back("journal_mode is " + *mode->front()[0] + " (left as the shop set it)");
    }
    return report;
  }

 private:
  // A pooled connection, returned on destruction; discarded if a
  // transaction is somehow still open.
  class Lease {
   public:
    Lease(SqliteShopStore* store, std::unique_ptr<SqliteConnection> conn)
        : store_(store), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_) store_->Release(std::move(conn_));
    }
    SqliteConnection& conn() { return *conn_; }

   private:
    SqliteShopStore* store_;  // not owned
    std::unique_ptr<SqliteConnection> conn_;
  };

  StoreError Translate(const SqliteFailure& failure) const {
    return TranslateSqliteError(failure, context_);
  }

  StoreResult<Lease> Acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    const auto deadline = std::chrono::steady_clock::now() + context_.busy_timeout;
    const bool ready = cv_.wait_until(lock, deadline, [&] { return !idle_.empty() || open_ < pool_size_; });
    if (!ready) {
      return StoreError{Kind::kUnavailable,
                        "sqlite " + context_.path + ": all " + std::to_string(pool_size_) +
                            " connections stayed busy for longer than database.timeout"};
    }
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
    ++open_;
    lock.unlock();
    auto conn = SqliteConnection::Open(context_.path, SQLITE_OPEN_READWRITE, context_.busy_timeout);
    if (!conn) {
      Release(nullptr);
      return Translate(conn.error());
    }
    return Lease(this, std::move(*conn));
  }

  void Release(std::unique_ptr<SqliteConnection> conn) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (conn && conn->autocommit()) {
        idle_.push_back(std::move(conn));
      } else {
        --open_;  // closed below, outside the lock
      }
    }
    cv_.notify_one();
  }

  // One order's state change, queued for the next write batch.
  struct PendingWrite {
    const ShopOrder& order;
    const SqlStatement& update;
    const std::optional<SqlStatement>& insert;
    ShopState target;
    const std::string& target_status;
    std::optional<StoreResult<Transition>> result;  // set by the batch
  };

  StoreResult<Transition> Transact(const ShopOrder& order, const SqlStatement& update,
                                   const std::optional<SqlStatement>& insert, ShopState target,
                                   const std::string& target_status) {
    PendingWrite write{order, update, insert, target, target_status, std::nullopt};
    const auto deadline = std::chrono::steady_clock::now() + context_.busy_timeout;
    const bool ran = writes_.Submit(write, deadline, [this](const std::vector<PendingWrite*>& batch) {
      WriteBatch(batch);
    });
    if (!ran) {
      return StoreError{Kind::kUnavailable,
                        "sqlite " + context_.path + ": this order's change waited longer than " + context_.timeout_key +
                            " behind the daemon's other writes (the database's write lock stayed busy)"};
    }
    return std::move(*write.result);
  }

  // Every write of the batch in one BEGIN IMMEDIATE ... COMMIT. With more
  // than one, each runs inside a savepoint, so an order whose rows fail is
  // rolled back alone and the others still commit.
  void WriteBatch(const std::vector<PendingWrite*>& batch) {
    const auto fail_all = [&batch](const StoreError& error) {
      for (PendingWrite* w : batch) w->result = error;
    };
    auto lease = Acquire();
    if (!lease) return fail_all(lease.error());
    SqliteConnection& conn = lease->conn();
    auto tx = SqliteTransaction::BeginImmediate(conn);
    if (!tx) return fail_all(Translate(tx.error()));
    const bool isolate = batch.size() > 1;
    for (PendingWrite* w : batch) {
      if (isolate) {
        if (auto begun = conn.Exec(kSavepoint); !begun) return fail_all(Translate(begun.error()));
      }
      w->result = Apply(conn, *w);
      if (*w->result) {
        if (!isolate) continue;
        if (auto released = conn.Exec(kReleaseSavepoint); !released) return fail_all(Translate(released.error()));
        continue;
      }
      // Some errors (disk full, I/O) make SQLite roll back the whole
      // transaction: then nothing of this batch is written.
      if (!isolate || conn.autocommit()) return fail_all(w->result->error());
      auto undone = conn.Exec(kRollbackToSavepoint);
      if (undone) undone = conn.Exec(kReleaseSavepoint);
      if (!undone) return fail_all(Translate(undone.error()));
    }
    auto committed = tx->Commit();
    if (!committed) fail_all(Translate(committed.error()));
  }

  // The conditional update, then the payment row iff exactly one row
  // changed, or else the status as it is now.
  StoreResult<Transition> Apply(SqliteConnection& conn, const PendingWrite& w) {
    auto changed = conn.Exec(w.update);
    if (!changed) return Translate(changed.error());
    Transition result;
    if (*changed == 1) {
      result.applied = true;
      result.current = w.target;
      result.raw_status = w.target_status;
      if (w.insert) {
        auto inserted = conn.Exec(*w.insert);
        if (!inserted) return Translate(inserted.error());
      }
    } else if (*changed == 0) {
      auto rows = conn.Query(mapping_.ReadStatus(w.order));
      if (!rows) return Translate(rows.error());
      result = mapping_.DecodeNotApplied(rows->empty() ? std::nullopt
                                                       : std::optional<SqlRow>(rows->front()));
    } else {
      return StoreError{Kind::kBadRow,  // rolled back
                        "order " + w.order.order_no + " matched " + std::to_string(*changed) +
                            " rows of table '" + mapping_.orders().table +
                            "'; nothing was changed: database.orders.order_no must name a unique column"};
    }
    return result;
  }

  inline static const SqlStatement kSavepoint{"SAVEPOINT wxpay_order", {}};
  inline static const SqlStatement kReleaseSavepoint{"RELEASE wxpay_order", {}};
  inline static const SqlStatement kRollbackToSavepoint{"ROLLBACK TO wxpay_order", {}};

  const SqliteContext context_;
  const SqlMapping mapping_;
  const int pool_size_;
  const Clock& clock_;  // not owned
  Logger& log_;         // not owned

  GroupCommit<PendingWrite> writes_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<SqliteConnection>> idle_;  // guarded by mu_
  int open_ = 0;                                         // connections in existence; guarded by mu_
};

}  // namespace

Result<std::unique_ptr<SqlShopStore>> OpenSqliteStore(const DatabaseConfig& db, int pool_size,
                                                      const Clock& clock, Logger& log) {
  if (db.path.empty()) return Fail("database.path: required when database.driver is sqlite");
  // Configuration errors first, before touching the file.
  auto unchecked = SqlMapping::Create(Dialect::kSqlite, db.orders, db.payments);
  if (!unchecked) return unchecked.error();

  SqliteContext context{db.path, db.timeout, "database.timeout"};
  auto conn = SqliteConnection::Open(db.path, SQLITE_OPEN_READWRITE, db.timeout);
  if (!conn) return Fail(TranslateSqliteError(conn.error(), context).message);
  auto columns = ListColumns(**conn, db.orders.table);
  if (!columns) return Fail(TranslateSqliteError(columns.error(), context).message);
  if (columns->empty()) {
    return Fail("database.orders.table: table '" + db.orders.table + "' not found in " + db.path);
  }
  auto mapping = SqlMapping::Create(Dialect::kSqlite, db.orders, db.payments,
                                    DeriveColumnTraits(Dialect::kSqlite, db.orders, *columns));
  if (!mapping) return mapping.error();

  auto store = std::make_unique<SqliteShopStore>(std::move(context), std::move(*mapping), pool_size,
                                                 clock, log);
  store->Adopt(std::move(*conn));
  return std::unique_ptr<SqlShopStore>(std::move(store));
}

}  // namespace wxpay
