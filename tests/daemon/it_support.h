// Helpers for the daemon's integration tests (daemon_it): child processes of
// the real binary, a fake service manager socket, the shop's SQLite
// database, and waiting for conditions with deadlines.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace wxpay::testing {

using namespace std::chrono_literals;

// The value of a required environment variable; an empty string (and a test
// failure saying how to run the integration tests) when it is not set.
std::string RequireItEnv(const char* name);

// Polls `done` every `every` until it holds (true) or `timeout` passes (false).
bool Eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every = 50ms);

// A child process whose stdout and stderr go to one file; SIGKILLed and
// reaped by its destructor if still running.
class ChildProcess {
 public:
  static std::unique_ptr<ChildProcess> Spawn(const std::vector<std::string>& argv, const std::string& output_file,
                                             const std::vector<std::string>& extra_env = {});
  ChildProcess(pid_t pid, std::string output_file) : pid_(pid), output_file_(std::move(output_file)) {}
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int signo);
  // The exit code (128+N for death by signal N) once it has ended, waiting at
  // most `timeout`; nullopt while it still runs.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  std::string Output() const;

 private:
  pid_t pid_;
  std::string output_file_;
  std::optional<int> exit_code_;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs a command to completion (killed after `timeout`).
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& output_file,
                         std::chrono::milliseconds timeout = 30s);

// A fake service manager: an AF_UNIX datagram socket for NOTIFY_SOCKET,
// read by a background thread.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  const std::string& path() const { return path_; }
  // Waits until a datagram holding the line `line` (e.g. "READY=1") arrived
  // after the first `skip` datagrams.
  bool WaitForLine(std::string_view line, std::chrono::milliseconds timeout, size_t skip = 0);
  size_t count() const;
  std::vector<std::string> messages() const;

 private:
  void Read();

  std::string path_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<std::string> messages_;
  std::thread reader_;
};

// The shop's database: one SQLite file with an orders table
// (order_no, status 1/2/5, amount in fen, created_at epoch seconds, version).
class ShopDb {
 public:
  explicit ShopDb(std::string path);
  const std::string& path() const { return path_; }
  void AddUnpaid(const std::string& order_no, int64_t amount, int64_t created_at_epoch_s);
  // -1 when the order does not exist.
  int Status(const std::string& order_no) const;
  int Version(const std::string& order_no) const;
  bool WaitForStatus(const std::string& order_no, int status, std::chrono::milliseconds timeout) const;

 private:
  void Exec(const std::string& sql) const;
  int QueryInt(const std::string& sql, const std::string& order_no) const;
  std::string path_;
};

}  // namespace wxpay::testing
