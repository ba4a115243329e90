// What the MariaDB/MySQL and PostgreSQL adapters share: the connection
// interface each of them implements, and a bounded pool of such connections.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/ports.h"
#include "store/mapping.h"

namespace wxpay {

struct Done {};  // the value of a StoreResult that carries none

// One session with a database server. Used by one thread at a time (the pool
// guarantees it). Every failure is a StoreError whose message says what failed.
class ServerConnection {
 public:
  virtual ~ServerConnection() = default;

  // Runs a SELECT; every column as text, NULL as nullopt.
  virtual StoreResult<std::vector<SqlRow>> Query(const SqlStatement& statement) = 0;
  // Runs an UPDATE/INSERT; returns the number of rows it matched.
  virtual StoreResult<int64_t> Execute(const SqlStatement& statement) = 0;
  virtual StoreResult<Done> Begin() = 0;
  virtual StoreResult<Done> Commit() = 0;
  virtual StoreResult<Done> Rollback() = 0;

  // False once the session is lost or in a state the adapter cannot vouch for
  // (a timed-out read, a failed rollback): the pool then closes it.
  virtual bool usable() const = 0;
  // True when the last failure was the loss of the session itself: the server
  // rolled back whatever the open transaction had done.
  virtual bool lost() const = 0;
};

using Connector = std::function<StoreResult<std::unique_ptr<ServerConnection>>()>;

// At most `size` sessions, opened lazily by `connect` (outside the lock),
// handed out one caller at a time. A caller that finds every session busy
// waits at most `wait`, then gets kUnavailable. Thread-safe.
class ConnectionPool {
 public:
  // Gives the session back to the pool when it goes out of scope; an unusable
  // session is closed instead.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease();
    ServerConnection& operator*() const { return *connection_; }
    ServerConnection* operator->() const { return connection_.get(); }

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, std::unique_ptr<ServerConnection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    ConnectionPool* pool_;  // not owned
    std::unique_ptr<ServerConnection> connection_;
  };

  ConnectionPool(int size, Duration wait, Connector connect);
  ~ConnectionPool();  // REQUIRES: no Lease outstanding
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // An idle session, else a new one while fewer than `size` are open.
  StoreResult<Lease> Acquire();
  // Always a newly opened session (after one was found lost, the idle ones
  // are suspect too).
  StoreResult<Lease> AcquireFresh();
  // Closes every idle session: called when one was found lost, since the
  // server probably restarted and the others are dead as well.
  void DropIdle();

  int open_count() const;

 private:
  StoreResult<Lease> AcquireImpl(bool fresh);
  void Return(std::unique_ptr<ServerConnection> connection);

  const int size_;
  const Duration wait_;
  const Connector connect_;
  mutable std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<ServerConnection>> idle_;  // guarded by mu_
  int open_ = 0;  // idle + leased + being opened; guarded by mu_
};

}  // namespace wxpay
