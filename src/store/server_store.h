// The ShopStore over a database server (MariaDB/MySQL or PostgreSQL): the
// transaction logic of SPEC §2 invariant 3 written once over ServerConnection,
// with a connection pool and one safe retry after a lost session.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "ops/log.h"
#include "store/mapping.h"
#include "store/server_pool.h"
#include "store/server_sweep_lock.h"
#include "store/store_factory.h"

namespace wxpay {

// The catalog query listing a table's columns: rows of (name, type).
using ColumnsQuery = std::function<SqlStatement(const std::string& table)>;

// Runs `query` for `table` on `connection`.
StoreResult<std::vector<ColumnInfo>> ReadColumns(ServerConnection& connection,
                                                 const ColumnsQuery& query,
                                                 const std::string& table);

// The zone's offset from UTC at `at`, in seconds east (Asia/Shanghai: 28800).
Result<int> ZoneOffsetSeconds(const std::string& zone, TimePoint at);
// 28800 -> "+08:00", -16200 -> "-04:30".
std::string FormatUtcOffset(int seconds);

// The part common to OpenMysqlStore and OpenPgStore once the backend knows
// how to connect: validates the mapping, connects once, reads the column
// types, builds the SqlMapping. `label` ("mysql", "postgresql") starts every
// error message. The sweep locks use `lock_sql` on sessions of their own.
Result<std::unique_ptr<SqlShopStore>> OpenServerStore(std::string label, Dialect dialect,
                                                      const DatabaseConfig& db, int pool_size,
                                                      Connector connect, ColumnsQuery columns,
                                                      SweepLockSql lock_sql, const Clock& clock,
                                                      Logger& log);

}  // namespace wxpay
