#include "store/server_sweep_lock.h"

#include <utility>

namespace wxpay {
namespace {

class ServerSweepLock final : public SweepLock {
 public:
  ServerSweepLock(std::string label, std::string subject, Connector connect, SweepLockSql sql)
      : label_(std::move(label)),
        subject_(std::move(subject)),
        connect_(std::move(connect)),
        sql_(std::move(sql)) {}
  ~ServerSweepLock() override { Release(); }
  ServerSweepLock(const ServerSweepLock&) = delete;
  ServerSweepLock& operator=(const ServerSweepLock&) = delete;

  StoreResult<bool> TryAcquire() override {
    if (session_) return StillHeld();
    auto opened = connect_();
    if (!opened.ok()) return std::move(opened).error();
    session_ = std::move(opened).value();
    auto taken = Ask(sql_.take, "taking");
    // Not taken: the session has nothing to keep.
    if (!taken.ok() || !*taken) session_.reset();
    return taken;
  }

  StoreResult<bool> StillHeld() override {
    if (!session_) return false;
    auto held = Ask(sql_.check, "checking");
    // Lost or unsure: closing the session makes sure the server frees it.
    if (!held.ok() || !*held) session_.reset();
    return held;
  }

  void Release() override {
    if (!session_) return;
    // Closing the session frees the lock too; saying so first frees it at
    // once, without waiting for the server to notice the closed connection.
    (void)Ask(sql_.release, "releasing");
    session_.reset();
  }

  const std::string& subject() const override { return subject_; }

 private:
  StoreResult<bool> Ask(const SqlStatement& statement, const char* what) {
    auto rows = session_->Query(statement);
    if (!rows.ok()) {
      StoreError e = std::move(rows).error();
      e.message = label_ + ": " + what + " the sweep lock on " + subject_ + ": " + e.message;
      return e;
    }
    if (rows->size() == 1 && rows->front().size() == 1 && rows->front()[0]) {
      const std::string& answer = *rows->front()[0];
      if (answer == "1") return true;
      if (answer == "0") return false;
    }
    return StoreError{StoreError::Kind::kUnavailable,
                      label_ + ": " + what + " the sweep lock on " + subject_ +
                          ": the server gave no clear answer (its session may have been killed)"};
  }

  const std::string label_;
  const std::string subject_;
  const Connector connect_;
  const SweepLockSql sql_;
  std::unique_ptr<ServerConnection> session_;  // open while the lock is held
};

}  // namespace

std::unique_ptr<SweepLock> MakeServerSweepLock(std::string label, std::string subject,
                                               Connector connect, SweepLockSql sql) {
  return std::make_unique<ServerSweepLock>(std::move(label), std::move(subject), std::move(connect),
                                           std::move(sql));
}

}  // namespace wxpay
