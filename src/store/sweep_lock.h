// The sweep lock: several daemons (and the one-shot `sweep`) sharing one
// shop database run one sweep pass at a time. The conditional updates keep
// concurrent passes safe (SPEC §2 invariant 3); the lock only saves the
// duplicate WeChat Pay queries and closes.
//
// MariaDB/MySQL take GET_LOCK(name, 0), PostgreSQL pg_try_advisory_lock(key)
// with a key derived from the same name. Both are session locks: each
// SweepLock holds its own session, opened for the pass and closed after it,
// never one of the store's pooled sessions (an order's transaction must not
// carry the lock, and a pooled session may be closed at any time). When that
// session ends, however it ends, the server frees the lock; StillHeld() asks.
//
// SQLite has no such lock: its SweepLock is always taken (one host, and the
// conditional updates keep two passes safe).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "config/config.h"
#include "core/ports.h"

namespace wxpay {

class SweepLock {
 public:
  virtual ~SweepLock() = default;  // releases the lock if held

  // Takes the lock without waiting: true when this object holds it now,
  // false when another session holds it. An error when the database could
  // not be asked; nothing is held then.
  virtual StoreResult<bool> TryAcquire() = 0;
  // Whether this object still holds the lock, asked on its session. An
  // error when the session could not be asked (it is closed then, so the
  // server has freed the lock): the pass must not go on as the only sweeper.
  virtual StoreResult<bool> StillHeld() = 0;
  // Gives the lock back and closes its session; nothing when not held.
  virtual void Release() = 0;
  // What the lock guards, for log lines: "shop/orders".
  virtual const std::string& subject() const = 0;
};

// The lock of a database without advisory locks (SQLite): always taken.
class NoSweepLock final : public SweepLock {
 public:
  explicit NoSweepLock(std::string subject) : subject_(std::move(subject)) {}
  StoreResult<bool> TryAcquire() override { return true; }
  StoreResult<bool> StillHeld() override { return true; }
  void Release() override {}
  const std::string& subject() const override { return subject_; }

 private:
  const std::string subject_;
};

// "shop/orders": database.name and database.orders.table as configured.
std::string SweepLockSubject(const DatabaseConfig& db);
// The lock's name, the same for every instance configured with the same
// database.name and orders.table: "wxpay-reconciler:sweep:shop/orders"; a
// subject too long for MySQL's 64 characters is replaced by its hash.
std::string SweepLockName(const DatabaseConfig& db);
// A PostgreSQL advisory lock key for `name`: FNV-1a 64, made non-negative.
int64_t SweepLockKey(std::string_view name);

}  // namespace wxpay
