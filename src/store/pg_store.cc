// OpenPgStore (store/store_factory.h): the ShopStore over PostgreSQL.
#include <memory>
#include <string>
#include <utility>

#include "store/pg_conn.h"
#include "store/server_store.h"
#include "store/store_factory.h"

namespace wxpay {
namespace {

// A table's columns from information_schema: (name, data_type such as
// "numeric" or "timestamp without time zone"). A bare table name is looked
// up in current_schema(), the first existing schema of the search_path.
SqlStatement PgColumnsQuery(const std::string& table) {
  static constexpr const char* kSelect =
      "SELECT CAST(column_name AS text), CAST(data_type AS text) FROM information_schema.columns "
      "WHERE ";
  static constexpr const char* kOrder = " ORDER BY ordinal_position";
  const auto dot = table.find('.');
  if (dot == std::string::npos) {
    return SqlStatement{
        std::string(kSelect) + "table_schema = current_schema() AND table_name = $1" + kOrder,
        {table}};
  }
  return SqlStatement{std::string(kSelect) + "table_schema = $1 AND table_name = $2" + kOrder,
                      {table.substr(0, dot), table.substr(dot + 1)}};
}

// Session-level advisory locks, scoped to the current database. A bigint key
// shows in pg_locks split into classid (high 32 bits) and objid (low 32 bits)
// with objsubid 1.
SweepLockSql PgSweepLockSql(int64_t key) {
  return SweepLockSql{
      SqlStatement{"SELECT CAST(pg_try_advisory_lock(CAST($1 AS bigint)) AS integer)", {key}},
      SqlStatement{"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
                   "pid = pg_backend_pid() AND objsubid = 1 AND "
                   "(CAST(classid AS bigint) << 32) + CAST(objid AS bigint) = CAST($1 AS bigint)",
                   {key}},
      SqlStatement{"SELECT CAST(pg_advisory_unlock(CAST($1 AS bigint)) AS integer)", {key}}};
}

}  // namespace

Result<std::unique_ptr<SqlShopStore>> OpenPgStore(const DatabaseConfig& db, int pool_size,
                                                  const Clock& clock, Logger& log) {
  auto notes = std::make_shared<PgSessionNotes>();
  Connector connect = [db, notes, &log]() -> StoreResult<std::unique_ptr<ServerConnection>> {
    auto connection = PgConnection::Open(db, *notes, log);
    if (!connection.ok()) return std::move(connection).error();
    return std::unique_ptr<ServerConnection>(std::move(connection).value());
  };
  return OpenServerStore("postgresql", Dialect::kPostgres, db, pool_size, std::move(connect),
                         PgColumnsQuery, PgSweepLockSql(SweepLockKey(SweepLockName(db))), clock, log);
}

}  // namespace wxpay
