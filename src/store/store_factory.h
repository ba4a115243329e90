// Opening the shop's database: one adapter per database.driver, all behind
// ShopStore (core/ports.h) plus the schema check of `check-config --connect`.
//
// Agreement between the store adapters (sqlite_store.cc here; mysql_store.cc
// and pg_store.cc by their owner): each defines its Open*Store function
// declared below, builds its SQL with SqlMapping (store/mapping.h), and passes
// the shared conformance suite (tests/store/conformance.h). store_factory.cc,
// which dispatches on the driver, is built only once all three exist (see
// src/store/module.mk), so nothing links against a missing adapter.
#pragma once

#include <memory>

#include "config/config.h"
#include "core/clock.h"
#include "core/ports.h"
#include "core/result.h"
#include "ops/log.h"
#include "store/mapping.h"
#include "store/sweep_lock.h"

namespace wxpay {

// A ShopStore over SQL. Thread-safe: every method may be called from several
// threads at once; each call uses its own pooled connection.
class SqlShopStore : public ShopStore {
 public:
  // The orders table (and payments table, when mapped) exists with every
  // mapped column and usable types (see CheckSchemaColumns). On success the
  // notes are printed by check-config.
  virtual Result<SchemaReport> CheckSchema() = 0;
  // A sweep lock for this shop (store/sweep_lock.h), not yet taken: on
  // MariaDB/MySQL and PostgreSQL an advisory lock on a session of its own,
  // never a pooled one; on SQLite always taken. It may outlive the store,
  // not the Logger the store was opened with.
  virtual std::unique_ptr<SweepLock> NewSweepLock() = 0;
};

// Each Open*Store validates the mapping (an error starting "database.orders"
// or "database.payments" is a configuration error), connects once to prove the
// database is reachable, reads the orders table's column types (ColumnTraits)
// and returns a store whose pool holds at most `pool_size` connections.
// The Clock supplies `now` for updated_at; the Logger receives warnings
// (never a password). Both must outlive the store.
Result<std::unique_ptr<SqlShopStore>> OpenSqliteStore(const DatabaseConfig& db, int pool_size,
                                                      const Clock& clock, Logger& log);
Result<std::unique_ptr<SqlShopStore>> OpenMysqlStore(const DatabaseConfig& db, int pool_size,
                                                     const Clock& clock, Logger& log);
Result<std::unique_ptr<SqlShopStore>> OpenPgStore(const DatabaseConfig& db, int pool_size,
                                                  const Clock& clock, Logger& log);

// Dispatches on db.driver.
Result<std::unique_ptr<SqlShopStore>> OpenShopStore(const DatabaseConfig& db, int pool_size,
                                                    const Clock& clock, Logger& log);

}  // namespace wxpay
