// Makes threads of a running child process stuck from the outside, without
// any hook in the daemon: ptrace(PTRACE_SEIZE) + PTRACE_INTERRUPT stops just
// the chosen thread (the process's other threads keep running), and
// PTRACE_DETACH lets it continue where it was. The test process must be
// allowed to trace its child (it is the parent; root in CI).
//
// Freeze threads only while they wait in a system call that holds none of
// the daemon's locks (see ThreadsInSyscall), so the rest of the daemon is
// not blocked by accident.
#pragma once

#include <sys/types.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace wxpay::testing {

// The thread ids of process `pid` (from /proc/PID/task).
std::vector<pid_t> ThreadsOf(pid_t pid);

// The system call number thread `tid` of `pid` is blocked in, from
// /proc/PID/task/TID/syscall; nullopt while it runs in user space (or is
// gone).
std::optional<long> BlockedSyscall(pid_t pid, pid_t tid);

// The threads of `pid` other than its main thread (tid == pid) that are
// blocked in one of `syscalls`.
std::vector<pid_t> WorkerThreadsInSyscall(pid_t pid, const std::set<long>& syscalls);

class ThreadFreezer {
 public:
  ThreadFreezer() = default;
  ~ThreadFreezer() { Thaw(); }
  ThreadFreezer(const ThreadFreezer&) = delete;
  ThreadFreezer& operator=(const ThreadFreezer&) = delete;

  // Stops thread `tid`; false (with a test failure saying why) if it cannot.
  bool Freeze(pid_t tid);
  // Lets every frozen thread continue.
  void Thaw();
  size_t frozen() const { return frozen_.size(); }

 private:
  std::vector<pid_t> frozen_;
};

}  // namespace wxpay::testing
