// One MariaDB/MySQL session through libmariadb: prepared statements with
// every value bound, the session set up for the daemon (time zone, timeouts,
// TLS), failures translated by MysqlError. Used by one thread at a time.
#pragma once

#include <mysql.h>

#include <atomic>
#include <memory>
#include <string>
#include <unordered_map>

#include "config/config.h"
#include "ops/log.h"
#include "store/server_pool.h"

namespace wxpay {

// Shared by every session of one store: what was already said once.
struct MysqlSessionNotes {
  std::atomic<bool> default_zone_checked{false};
  std::atomic<bool> fixed_offset_warned{false};
};

class MysqlConnection final : public ServerConnection {
 public:
  // Connects to db.host:db.port/db.name as db.user with db.tls, then sets the
  // session up: time_zone = orders.timezone (its current UTC offset when the
  // server has no time zone tables: warned once), innodb_lock_wait_timeout and
  // the statement time limit from database.timeout. The first session of a
  // store also compares the server's default zone with orders.timezone.
  static StoreResult<std::unique_ptr<MysqlConnection>> Open(const DatabaseConfig& db,
                                                            MysqlSessionNotes& notes,
                                                            Logger& log);
  // Use Open(): REQUIRES a connected handle.
  MysqlConnection(std::unique_ptr<MYSQL, void (*)(MYSQL*)> mysql, std::string zone, Logger& log);
  ~MysqlConnection() override;

  StoreResult<std::vector<SqlRow>> Query(const SqlStatement& statement) override;
  StoreResult<int64_t> Execute(const SqlStatement& statement) override;
  StoreResult<Done> Begin() override;
  StoreResult<Done> Commit() override;
  StoreResult<Done> Rollback() override;
  bool usable() const override { return usable_; }
  bool lost() const override { return lost_; }

 private:
  struct StatementCloser {
    void operator()(MYSQL_STMT* s) const { mysql_stmt_close(s); }
  };
  using StatementPtr = std::unique_ptr<MYSQL_STMT, StatementCloser>;

  StoreResult<Done> SetUpSession(const DatabaseConfig& db, MysqlSessionNotes& notes);
  StoreResult<Done> SetTimeZone(MysqlSessionNotes& notes);
  // In fixed-offset mode, follows the zone's offset across DST changes.
  StoreResult<Done> FollowZoneOffset();
  // Prepares (once per text), binds and executes.
  StoreResult<MYSQL_STMT*> Run(const SqlStatement& statement);
  StoreResult<Done> Simple(const char* sql);
  StoreError SessionFailure(std::string_view what);
  StoreError StatementFailure(MYSQL_STMT* stmt, std::string_view what);
  StoreError Note(StoreError e, unsigned int code);

  std::unique_ptr<MYSQL, void (*)(MYSQL*)> mysql_;
  // Declared after mysql_: statements are closed before their session.
  std::unordered_map<std::string, StatementPtr> statements_;
  const std::string zone_;
  std::string fixed_offset_;  // non-empty: the session zone is this offset, not zone_
  Logger& log_;               // not owned
  bool usable_ = true;
  bool lost_ = false;
  unsigned int last_error_ = 0;  // error number of the last failure
};

}  // namespace wxpay
