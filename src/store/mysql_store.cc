// OpenMysqlStore (store/store_factory.h): the ShopStore over MariaDB/MySQL.
#include <memory>
#include <string>
#include <utility>

#include "store/mysql_conn.h"
#include "store/server_store.h"
#include "store/store_factory.h"

namespace wxpay {
namespace {

// A table's columns from information_schema: (name, COLUMN_TYPE such as
// "decimal(12,2)" or "bigint(20) unsigned"). "schema.table" names another
// database than database.name.
SqlStatement MysqlColumnsQuery(const std::string& table) {
  static constexpr const char* kSelect =
      "SELECT CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR) FROM information_schema.COLUMNS "
      "WHERE ";
  static constexpr const char* kOrder = " ORDER BY ORDINAL_POSITION";
  const auto dot = table.find('.');
  if (dot == std::string::npos) {
    return SqlStatement{std::string(kSelect) + "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?" +
                            kOrder,
                        {table}};
  }
  return SqlStatement{
      std::string(kSelect) + "TABLE_SCHEMA = ? AND TABLE_NAME = ?" + kOrder,
      {table.substr(0, dot), table.substr(dot + 1)}};
}

// GET_LOCK is server-wide: the name carries the database (SweepLockName).
SweepLockSql MysqlSweepLockSql(const std::string& name) {
  return SweepLockSql{SqlStatement{"SELECT GET_LOCK(?, 0)", {name}},
                      SqlStatement{"SELECT COALESCE(IS_USED_LOCK(?) = CONNECTION_ID(), 0)", {name}},
                      SqlStatement{"SELECT RELEASE_LOCK(?)", {name}}};
}

}  // namespace

Result<std::unique_ptr<SqlShopStore>> OpenMysqlStore(const DatabaseConfig& db, int pool_size,
                                                     const Clock& clock, Logger& log) {
  auto notes = std::make_shared<MysqlSessionNotes>();
  Connector connect = [db, notes, &log]() -> StoreResult<std::unique_ptr<ServerConnection>> {
    auto connection = MysqlConnection::Open(db, *notes, log);
    if (!connection.ok()) return std::move(connection).error();
    return std::unique_ptr<ServerConnection>(std::move(connection).value());
  };
  return OpenServerStore("mysql", Dialect::kMysql, db, pool_size, std::move(connect),
                         MysqlColumnsQuery, MysqlSweepLockSql(SweepLockName(db)), clock, log);
}

}  // namespace wxpay
