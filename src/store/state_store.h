// The daemon's own state (SPEC §5 state_dir, §6): parked orders, the
// sweeper's keyset cursor, and per-order crash counts for poison detection.
//
// One SQLite file, <state_dir>/state.db, mode 0600 (its -wal/-shm files get
// the same mode from SQLite). WAL with synchronous=NORMAL: a committed change
// survives a crash of the daemon (the case that matters here); a power loss
// may forget the last few, which at worst re-processes an order.
// Thread-safe: one connection behind a mutex. Several processes (the daemon
// and a `redrive` command) may use the file at once; each waits for the
// other's write up to 5 s.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/ports.h"
#include "core/result.h"

namespace wxpay {

class SqliteConnection;

struct ParkedOrder {
  std::string order_no;
  std::string reason;  // an x-wxpay-reason, e.g. "amount_mismatch"
  std::string error;   // human-readable, no secrets
  TimePoint parked_at;
};

class StateStore {
  struct Key {  // only Open() constructs; make_unique needs a public constructor
    explicit Key() = default;
  };

 public:
  static constexpr const char* kFileName = "state.db";
  static constexpr int kSchemaVersion = 1;

  // Creates state_dir (mode 0700) and the file if missing, upgrades the
  // schema, refuses a file written by a newer version. `clock` stamps
  // parked_at and must outlive the store.
  static Result<std::unique_ptr<StateStore>> Open(const std::string& state_dir, const Clock& clock);
  StateStore(Key, std::string path, std::unique_ptr<SqliteConnection> conn, const Clock& clock);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  const std::string& path() const { return path_; }

  // ---- parked orders (the sweeper skips them until redrive)
  // Parks (or re-parks with the new reason and error) an order.
  Status Park(std::string_view order_no, std::string_view reason, std::string_view error);
  Status Unpark(std::string_view order_no);
  Result<bool> IsParked(std::string_view order_no);
  // Oldest first; reason empty = any; limit <= 0 = all.
  Result<std::vector<ParkedOrder>> ListParked(std::string_view reason = "", int limit = 0);
  // For redrive: forgets the parked orders (all, or one reason); returns how many.
  Result<int64_t> ClearParked(std::string_view reason = "");

  // ---- the sweeper's cursor: nullopt = start from the beginning
  Result<std::optional<SweepCursor>> GetSweepCursor();
  Status SetSweepCursor(const SweepCursor& cursor);
  Status ResetSweepCursor();

  // ---- crash detection: BeginOrder before processing an order, EndOrder
  // after its outcome (whatever it was). An order whose processing crashed
  // the daemon stays counted.
  // Returns how many earlier starts never finished (crashes), then counts
  // this start. The caller dead-letters the order as `poison` when the
  // answer is >= 3 (and calls EndOrder).
  Result<int> BeginOrder(std::string_view order_no);
  Status EndOrder(std::string_view order_no);
  // Unfinished starts recorded (including one in progress).
  Result<int> CrashCount(std::string_view order_no);

 private:
  Status Migrate();

  const std::string path_;
  const Clock& clock_;  // not owned
  std::mutex mu_;
  std::unique_ptr<SqliteConnection> conn_;  // guarded by mu_
};

}  // namespace wxpay
