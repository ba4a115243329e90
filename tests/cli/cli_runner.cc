#include "cli/cli_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <future>
#include <sstream>

#include <gtest/gtest.h>

#include "wechatpay/sim_fixture.h"

extern char** environ;

namespace wxpay::clitest {
namespace {

// A pipe whose ends close themselves.
struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() {
    if (::pipe2(fd, O_CLOEXEC) != 0) fd[0] = fd[1] = -1;
  }
  ~Pipe() {
    CloseRead();
    CloseWrite();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  bool ok() const { return fd[0] >= 0 && fd[1] >= 0; }
  void CloseRead() {
    if (fd[0] >= 0) ::close(fd[0]);
    fd[0] = -1;
  }
  void CloseWrite() {
    if (fd[1] >= 0) ::close(fd[1]);
    fd[1] = -1;
  }
};

std::string NameOf(const std::string& assignment) {
  return assignment.substr(0, assignment.find('='));
}

std::vector<std::string> ChildEnvironment(const CliEnv& env) {
  std::vector<std::string> removed = {"JOURNAL_STREAM", "NOTIFY_SOCKET", "WXPAY_RECONCILER_CONFIG"};
  removed.insert(removed.end(), env.unset.begin(), env.unset.end());
  for (const std::string& s : env.set) removed.push_back(NameOf(s));
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    if (std::find(removed.begin(), removed.end(), NameOf(entry)) == removed.end()) out.push_back(entry);
  }
  out.insert(out.end(), env.set.begin(), env.set.end());
  return out;
}

int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string CliResult::Describe() const {
  std::ostringstream s;
  s << "exit " << exit_code << (timed_out ? " (timed out, killed)" : "") << "\n--- stdout:\n"
    << out << "--- stderr:\n"
    << err << "---";
  return s.str();
}

std::vector<std::string> CliResult::OutLines() const {
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string CliBinary() { return testing::RequireEnv("WXPAY_TEST_BIN"); }

CliResult RunCli(const std::vector<std::string>& args, const CliEnv& env,
                 std::chrono::milliseconds timeout) {
  CliResult result;
  const std::string binary = CliBinary();
  if (binary.empty()) return result;

  std::vector<std::string> argv_s = {binary};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s = ChildEnvironment(env);
  std::vector<char*> envp;
  for (std::string& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  Pipe out_pipe, err_pipe;
  if (!out_pipe.ok() || !err_pipe.ok()) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe.fd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe.fd[1], 2);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  out_pipe.CloseWrite();
  err_pipe.CloseWrite();
  if (rc != 0) {
    ADD_FAILURE() << "cannot start " << binary << ": " << std::strerror(rc);
    return result;
  }

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out_pipe.fd[0], POLLIN, 0}, {err_pipe.fd[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_streams = 2;
  while (open_streams > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    const int n = ::poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[8192];
      const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<size_t>(got));
      } else if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
        fds[i].fd = -1;  // the Pipe closes it
        --open_streams;
      }
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = ExitCodeOf(status);
  if (result.timed_out) ADD_FAILURE() << "the command did not finish within " << timeout.count() << " ms";
  return result;
}

std::vector<CliResult> RunCliAll(const std::vector<std::vector<std::string>>& commands, const CliEnv& env,
                                 std::chrono::milliseconds timeout) {
  std::vector<std::future<CliResult>> running;
  for (const auto& args : commands) {
    running.push_back(std::async(std::launch::async, [&args, &env, timeout] { return RunCli(args, env, timeout); }));
  }
  std::vector<CliResult> results;
  for (auto& r : running) results.push_back(r.get());
  return results;
}

}  // namespace wxpay::clitest
