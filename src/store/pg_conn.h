// One PostgreSQL session through libpq: named prepared statements with every
// value bound in text format (types inferred by the server), each answer
// awaited at most database.timeout (+ a margin) on the socket, the session set
// up for the daemon (TimeZone, statement_timeout, lock_timeout, TLS), failures
// translated by PgError. Used by one thread at a time.
#pragma once

#include <libpq-fe.h>

#include <atomic>
#include <memory>
#include <string>
#include <unordered_map>

#include "config/config.h"
#include "ops/log.h"
#include "store/server_pool.h"

namespace wxpay {

// Shared by every session of one store: what was already said once.
struct PgSessionNotes {
  std::atomic<bool> default_zone_checked{false};
};

class PgConnection final : public ServerConnection {
 public:
  // Connects to db.host:db.port/db.name as db.user with db.tls (sslmode,
  // sslrootcert), then sets TimeZone = orders.timezone, statement_timeout and
  // lock_timeout = database.timeout, READ COMMITTED. The first session of a
  // store also compares the server's default zone with orders.timezone.
  static StoreResult<std::unique_ptr<PgConnection>> Open(const DatabaseConfig& db,
                                                         PgSessionNotes& notes, Logger& log);
  // Use Open(): REQUIRES a connected handle.
  PgConnection(std::unique_ptr<PGconn, void (*)(PGconn*)> conn, Duration timeout, Logger& log);
  ~PgConnection() override;

  StoreResult<std::vector<SqlRow>> Query(const SqlStatement& statement) override;
  StoreResult<int64_t> Execute(const SqlStatement& statement) override;
  StoreResult<Done> Begin() override;
  StoreResult<Done> Commit() override;
  StoreResult<Done> Rollback() override;
  bool usable() const override { return usable_; }
  bool lost() const override { return lost_; }

 private:
  using ResultPtr = std::unique_ptr<PGresult, void (*)(PGresult*)>;

  static void OnNotice(void* log, const char* message);  // log: the Logger*

  StoreResult<Done> SetUpSession(const DatabaseConfig& db, PgSessionNotes& notes);
  // Prepares `statement.text` once per session (cached: true), or sends it
  // unnamed (cached: false), with the values bound; awaits the answer.
  StoreResult<ResultPtr> Run(const SqlStatement& statement, bool cached);
  StoreResult<ResultPtr> Simple(const char* sql);
  // After a successful PQsend*: every result of the command, within the deadline.
  StoreResult<ResultPtr> Await(std::string_view what);
  StoreError ConnectionFailure(std::string_view what);
  StoreError ResultFailure(const PGresult* result, std::string_view what);

  std::unique_ptr<PGconn, void (*)(PGconn*)> conn_;
  std::unordered_map<std::string, std::string> prepared_;  // text -> statement name
  const Duration timeout_;
  Logger& log_;  // not owned
  bool usable_ = true;
  bool lost_ = false;
};

}  // namespace wxpay
