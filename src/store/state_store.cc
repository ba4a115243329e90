#include "store/state_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <utility>

#include "ops/unique_fd.h"
#include "store/sqlite_handle.h"

namespace wxpay {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr Duration kBusyTimeout = std::chrono::seconds(5);

const char* const kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS parked (
  order_no     TEXT PRIMARY KEY,
  reason       TEXT NOT NULL,
  error        TEXT NOT NULL,
  parked_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS parked_by_time ON parked (parked_at_ms, order_no);
CREATE TABLE IF NOT EXISTS sweep_cursor (
  id            INTEGER PRIMARY KEY CHECK (id = 1),
  created_at_us INTEGER NOT NULL,
  order_no      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS in_flight (
  order_no TEXT PRIMARY KEY,
  starts   INTEGER NOT NULL
) WITHOUT ROWID;
PRAGMA user_version = 1;
)sql";

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

// Creates the file with mode 0600 before SQLite sees it (SQLite would use
// 0644 under the usual umask); an existing file is brought back to 0600.
Status PrepareFile(const std::string& dir, const std::string& path) {
  std::error_code ec;
  if (std::filesystem::create_directories(dir, ec)) {
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
  }
  if (ec) {
    return Fail("state_dir: cannot create " + dir + ": " + ec.message() +
                " (set state_dir to a writable directory, or StateDirectory= in the unit)");
  }
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) {
    return Fail(Errno("state_dir: cannot open", path) +
                " (the service user must own state_dir)");
  }
  if (::fchmod(fd.get(), 0600) != 0) return Fail(Errno("state_dir: cannot chmod 0600", path));
  return Status::Ok();
}

int64_t ToMicros(TimePoint t) { return duration_cast<microseconds>(t.time_since_epoch()).count(); }
int64_t ToMillis(TimePoint t) { return duration_cast<milliseconds>(t.time_since_epoch()).count(); }

std::optional<int64_t> AsInt(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  try {
    size_t used = 0;
    const long long v = std::stoll(*text, &used);
    if (used != text->size()) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

StateStore::StateStore(Key, std::string path, std::unique_ptr<SqliteConnection> conn,
                       const Clock& clock)
    : path_(std::move(path)), clock_(clock), conn_(std::move(conn)) {}

StateStore::~StateStore() = default;

namespace {

Error StateError(const SqliteFailure& failure, const std::string& path) {
  return Fail("state database: " +
              TranslateSqliteError(failure, SqliteContext{path, kBusyTimeout,
                                                          "the state database's busy timeout"})
                  .message);
}

}  // namespace

Result<std::unique_ptr<StateStore>> StateStore::Open(const std::string& state_dir,
                                                     const Clock& clock) {
  if (state_dir.empty()) return Fail("state_dir: empty; set it to a directory the daemon owns");
  const std::string path = (std::filesystem::path(state_dir) / kFileName).string();
  if (Status prepared = PrepareFile(state_dir, path); !prepared) return Fail(prepared.message());
  auto conn = SqliteConnection::Open(path, SQLITE_OPEN_READWRITE, kBusyTimeout);
  if (!conn) return StateError(conn.error(), path);
  // Our own file: WAL lets a `redrive` command read while the daemon writes.
  if (auto wal = (*conn)->ExecScript("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
      !wal) {
    return StateError(wal.error(), path);
  }
  auto store = std::make_unique<StateStore>(Key{}, path, std::move(*conn), clock);
  if (Status migrated = store->Migrate(); !migrated) return Fail(migrated.message());
  return store;
}

Status StateStore::Migrate() {
  std::lock_guard<std::mutex> lock(mu_);
  auto tx = SqliteTransaction::BeginImmediate(*conn_);
  if (!tx) return StateError(tx.error(), path_);
  auto rows = conn_->Query(SqlStatement{"PRAGMA user_version", {}});
  if (!rows) return StateError(rows.error(), path_);
  const int64_t version = rows->empty() ? 0 : AsInt(rows->front().at(0)).value_or(0);
  if (version > kSchemaVersion) {
    return Fail("state database " + path_ + " has schema version " + std::to_string(version) +
                ", newer than this daemon's " + std::to_string(kSchemaVersion) +
                ": a newer wxpay-reconciler wrote it; run that version, or move the file aside");
  }
  if (version < kSchemaVersion) {
    if (auto created = conn_->ExecScript(kSchemaV1); !created) return StateError(created.error(), path_);
  }
  if (auto done = tx->Commit(); !done) return StateError(done.error(), path_);
  return Status::Ok();
}

Status StateStore::Park(std::string_view order_no, std::string_view reason, std::string_view error) {
  std::lock_guard<std::mutex> lock(mu_);
  auto done = conn_->Exec(SqlStatement{
      "INSERT INTO parked (order_no, reason, error, parked_at_ms) VALUES (?, ?, ?, ?) "
      "ON CONFLICT (order_no) DO UPDATE SET reason = excluded.reason, error = excluded.error, "
      "parked_at_ms = excluded.parked_at_ms",
      {SqlValue{std::string(order_no)}, SqlValue{std::string(reason)}, SqlValue{std::string(error)},
       SqlValue{ToMillis(clock_.Now())}}});
  if (!done) return StateError(done.error(), path_);
  return Status::Ok();
}

Status StateStore::Unpark(std::string_view order_no) {
  std::lock_guard<std::mutex> lock(mu_);
  auto done = conn_->Exec(
      SqlStatement{"DELETE FROM parked WHERE order_no = ?", {SqlValue{std::string(order_no)}}});
  if (!done) return StateError(done.error(), path_);
  return Status::Ok();
}

Result<bool> StateStore::IsParked(std::string_view order_no) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = conn_->Query(
      SqlStatement{"SELECT 1 FROM parked WHERE order_no = ?", {SqlValue{std::string(order_no)}}});
  if (!rows) return StateError(rows.error(), path_);
  return !rows->empty();
}

Result<std::vector<ParkedOrder>> StateStore::ListParked(std::string_view reason, int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = conn_->Query(SqlStatement{
      "SELECT order_no, reason, error, parked_at_ms FROM parked WHERE (? = '' OR reason = ?) "
      "ORDER BY parked_at_ms, order_no LIMIT ?",
      {SqlValue{std::string(reason)}, SqlValue{std::string(reason)},
       SqlValue{int64_t{limit > 0 ? limit : -1}}}});
  if (!rows) return StateError(rows.error(), path_);
  std::vector<ParkedOrder> parked;
  for (const auto& row : *rows) {
    parked.push_back(ParkedOrder{row[0].value_or(""), row[1].value_or(""), row[2].value_or(""),
                                 TimePoint{milliseconds{AsInt(row[3]).value_or(0)}}});
  }
  return parked;
}

Result<int64_t> StateStore::ClearParked(std::string_view reason) {
  std::lock_guard<std::mutex> lock(mu_);
  auto done = conn_->Exec(SqlStatement{"DELETE FROM parked WHERE (? = '' OR reason = ?)",
                                       {SqlValue{std::string(reason)}, SqlValue{std::string(reason)}}});
  if (!done) return StateError(done.error(), path_);
  return *done;
}

Result<std::optional<SweepCursor>> StateStore::GetSweepCursor() {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows =
      conn_->Query(SqlStatement{"SELECT created_at_us, order_no FROM sweep_cursor WHERE id = 1", {}});
  if (!rows) return StateError(rows.error(), path_);
  if (rows->empty()) return std::optional<SweepCursor>();
  const SqlRow& row = rows->front();
  SweepCursor cursor;
  cursor.created_at =
      TimePoint{duration_cast<TimePoint::duration>(microseconds{AsInt(row[0]).value_or(0)})};
  cursor.order_no = row[1].value_or("");
  return std::optional<SweepCursor>(std::move(cursor));
}

Status StateStore::SetSweepCursor(const SweepCursor& cursor) {
  std::lock_guard<std::mutex> lock(mu_);
  auto done = conn_->Exec(SqlStatement{
      "INSERT INTO sweep_cursor (id, created_at_us, order_no) VALUES (1, ?, ?) "
      "ON CONFLICT (id) DO UPDATE SET created_at_us = excluded.created_at_us, "
      "order_no = excluded.order_no",
      {SqlValue{ToMicros(cursor.created_at)}, SqlValue{cursor.order_no}}});
  if (!done) return StateError(done.error(), path_);
  return Status::Ok();
}

Status StateStore::ResetSweepCursor() {
  std::lock_guard<std::mutex> lock(mu_);
  auto done = conn_->Exec(SqlStatement{"DELETE FROM sweep_cursor", {}});
  if (!done) return StateError(done.error(), path_);
  return Status::Ok();
}

Result<int> StateStore::BeginOrder(std::string_view order_no) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = conn_->Query(SqlStatement{
      "INSERT INTO in_flight (order_no, starts) VALUES (?, 1) "
      "ON CONFLICT (order_no) DO UPDATE SET starts = starts + 1 RETURNING starts",
      {SqlValue{std::string(order_no)}}});
  if (!rows) return StateError(rows.error(), path_);
  const int64_t starts = rows->empty() ? 1 : AsInt(rows->front().at(0)).value_or(1);
  return static_cast<int>(starts - 1);
}

Status StateStore::EndOrder(std::string_view order_no) {
  std::lock_guard<std::mutex> lock(mu_);
  auto done = conn_->Exec(
      SqlStatement{"DELETE FROM in_flight WHERE order_no = ?", {SqlValue{std::string(order_no)}}});
  if (!done) return StateError(done.error(), path_);
  return Status::Ok();
}

Result<int> StateStore::CrashCount(std::string_view order_no) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = conn_->Query(SqlStatement{"SELECT starts FROM in_flight WHERE order_no = ?",
                                        {SqlValue{std::string(order_no)}}});
  if (!rows) return StateError(rows.error(), path_);
  if (rows->empty()) return 0;
  return static_cast<int>(AsInt(rows->front().at(0)).value_or(0));
}

}  // namespace wxpay
