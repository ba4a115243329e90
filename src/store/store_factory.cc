#include "store/store_factory.h"

namespace wxpay {

Result<std::unique_ptr<SqlShopStore>> OpenShopStore(const DatabaseConfig& db, int pool_size,
                                                    const Clock& clock, Logger& log) {
  switch (db.driver) {
    case DatabaseConfig::Driver::kSqlite: return OpenSqliteStore(db, pool_size, clock, log);
    case DatabaseConfig::Driver::kMysql: return OpenMysqlStore(db, pool_size, clock, log);
    case DatabaseConfig::Driver::kPostgresql: return OpenPgStore(db, pool_size, clock, log);
  }
  return Fail("database.driver: unknown driver");
}

}  // namespace wxpay
