#include "service/thread_freezer.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <thread>

namespace wxpay::testing {
namespace {

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

}  // namespace

std::vector<pid_t> ThreadsOf(pid_t pid) {
  std::vector<pid_t> tids;
  std::unique_ptr<DIR, DirCloser> dir(::opendir(("/proc/" + std::to_string(pid) + "/task").c_str()));
  if (!dir) return tids;
  while (dirent* e = ::readdir(dir.get())) {
    char* end = nullptr;
    const long tid = std::strtol(e->d_name, &end, 10);
    if (end != e->d_name && *end == '\0' && tid > 0) tids.push_back(static_cast<pid_t>(tid));
  }
  return tids;
}

std::optional<long> BlockedSyscall(pid_t pid, pid_t tid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/syscall");
  std::string first;
  if (!(in >> first) || first == "running") return std::nullopt;
  char* end = nullptr;
  const long nr = std::strtol(first.c_str(), &end, 10);
  if (end == first.c_str() || *end != '\0' || nr < 0) return std::nullopt;
  return nr;
}

std::vector<pid_t> WorkerThreadsInSyscall(pid_t pid, const std::set<long>& syscalls) {
  std::vector<pid_t> found;
  for (pid_t tid : ThreadsOf(pid)) {
    if (tid == pid) continue;
    const std::optional<long> nr = BlockedSyscall(pid, tid);
    if (nr && syscalls.count(*nr) > 0) found.push_back(tid);
  }
  return found;
}

bool ThreadFreezer::Freeze(pid_t tid) {
  if (::ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) {
    ADD_FAILURE() << "ptrace(PTRACE_SEIZE, " << tid << "): " << std::strerror(errno)
                  << " (the service tests need to trace the daemon they started: run them as root or allow ptrace)";
    return false;
  }
  if (::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) {
    ADD_FAILURE() << "ptrace(PTRACE_INTERRUPT, " << tid << "): " << std::strerror(errno);
    (void)::ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(tid, &status, __WALL | WNOHANG);
    if (r == tid && WIFSTOPPED(status)) break;
    if (r == tid || (r < 0 && errno != EINTR)) {
      ADD_FAILURE() << "thread " << tid << " did not stop under ptrace (status " << status << ")";
      return false;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ADD_FAILURE() << "thread " << tid << " did not stop within 5 s of PTRACE_INTERRUPT";
      (void)::ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  frozen_.push_back(tid);
  return true;
}

void ThreadFreezer::Thaw() {
  for (pid_t tid : frozen_) {
    if (::ptrace(PTRACE_DETACH, tid, nullptr, nullptr) != 0 && errno != ESRCH) {
      ADD_FAILURE() << "ptrace(PTRACE_DETACH, " << tid << "): " << std::strerror(errno);
    }
  }
  frozen_.clear();
}

}  // namespace wxpay::testing
