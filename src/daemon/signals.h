// SIGTERM, SIGINT and SIGHUP for the daemon, without signal handlers: the
// signals are blocked in every thread and the main loop collects them with
// sigtimedwait(2) between polls. Nothing runs in signal context (no
// async-signal-safety concerns, no EINTR inside librabbitmq, libcurl or
// SQLite); the effect is that of a handler setting a flag that the loop reads,
// with the loop's poll interval (<= 100 ms) as the latency.
//
// Construct it on the main thread before any other thread starts, so every
// thread inherits the blocked mask. The signals stay blocked until the process
// exits (unblocking a pending SIGTERM at exit would kill it with a signal
// status instead of its exit code).
#pragma once

#include <signal.h>

namespace wxpay {

// Where the daemon loop gets its signals from (a fake in tests).
class SignalSource {
 public:
  virtual ~SignalSource() = default;
  // A pending SIGTERM, SIGINT or SIGHUP (consumed), or 0 when none is pending.
  virtual int Take() = 0;
};

class SignalWatcher final : public SignalSource {
 public:
  SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  int Take() override;

 private:
  sigset_t watched_;
};

}  // namespace wxpay
