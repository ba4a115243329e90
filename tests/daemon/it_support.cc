#include "daemon/it_support.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

extern char** environ;

namespace wxpay::testing {
namespace {

constexpr const char* kHowToRun =
    "the daemon's integration tests need the built binary, a RabbitMQ server and the WeChat Pay simulator: "
    "run scripts/run-tests.sh, or by hand: make && scripts/start-rabbitmq.sh /tmp/rmq && source /tmp/rmq/env && "
    "scripts/gen-test-pki.sh /tmp/pki && WXPAY_TEST_BIN=build/wxpay-reconciler WXPAY_TEST_SIM=tests/sim/wxpay_sim.py "
    "WXPAY_TEST_PKI=/tmp/pki build/tests/daemon_it";

int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string RequireItEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || value[0] == '\0') {
    ADD_FAILURE() << name << " is not set; " << kHowToRun;
    return "";
  }
  return value;
}

bool Eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
  return true;
}

// ------------------------------------------------------------ ChildProcess

std::unique_ptr<ChildProcess> ChildProcess::Spawn(const std::vector<std::string>& argv,
                                                  const std::string& output_file,
                                                  const std::vector<std::string>& extra_env) {
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  for (std::string& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) env_storage.emplace_back(*e);
  for (const std::string& e : extra_env) env_storage.push_back(e);
  std::vector<char*> cenv;
  for (std::string& e : env_storage) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  // The test process may have signals blocked; the child must start clean.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, cargv[0], &actions, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    ADD_FAILURE() << "cannot start " << argv[0] << ": " << std::strerror(rc);
    return nullptr;
  }
  return std::make_unique<ChildProcess>(pid, output_file);
}

ChildProcess::~ChildProcess() {
  if (exit_code_) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
}

void ChildProcess::Signal(int signo) {
  if (!exit_code_) ::kill(pid_, signo);
}

std::optional<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  if (exit_code_) return exit_code_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_code_ = ExitCodeOf(status);
      return exit_code_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(20ms);
  }
}

std::string ChildProcess::Output() const {
  std::ifstream in(output_file_);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& output_file,
                         std::chrono::milliseconds timeout) {
  ::unlink(output_file.c_str());
  CommandResult result;
  std::unique_ptr<ChildProcess> child = ChildProcess::Spawn(argv, output_file);
  if (!child) return result;
  std::optional<int> code = child->Wait(timeout);
  if (!code) {
    ADD_FAILURE() << argv[0] << " " << (argv.size() > 3 ? argv[3] : "") << " did not finish within "
                  << timeout.count() << " ms";
  }
  result.exit_code = code.value_or(-1);
  result.output = child->Output();
  return result;
}

// ------------------------------------------------------------ NotifySocket

NotifySocket::NotifySocket(std::string path) : path_(std::move(path)) {
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (fd_ < 0 || path_.size() >= sizeof addr.sun_path) {
    ADD_FAILURE() << "cannot create the notify socket " << path_;
    return;
  }
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ADD_FAILURE() << "bind " << path_ << ": " << std::strerror(errno);
    return;
  }
  reader_ = std::thread([this] { Read(); });
}

NotifySocket::~NotifySocket() {
  stop_.store(true);
  if (reader_.joinable()) reader_.join();
  if (fd_ >= 0) ::close(fd_);
}

void NotifySocket::Read() {
  std::vector<char> buf(64 * 1024);
  while (!stop_.load()) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n <= 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    messages_.emplace_back(buf.data(), static_cast<size_t>(n));
  }
}

bool NotifySocket::WaitForLine(std::string_view line, std::chrono::milliseconds timeout, size_t skip) {
  return Eventually(
      [&] {
        std::lock_guard<std::mutex> lock(mu_);
        for (size_t i = skip; i < messages_.size(); ++i) {
          const std::string& m = messages_[i];
          size_t start = 0;
          while (start <= m.size()) {
            const size_t end = std::min(m.find('\n', start), m.size());
            if (std::string_view(m).substr(start, end - start) == line) return true;
            start = end + 1;
          }
        }
        return false;
      },
      timeout, 20ms);
}

size_t NotifySocket::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return messages_.size();
}

std::vector<std::string> NotifySocket::messages() const {
  std::lock_guard<std::mutex> lock(mu_);
  return messages_;
}

// ------------------------------------------------------------------ ShopDb

ShopDb::ShopDb(std::string path) : path_(std::move(path)) {
  Exec("CREATE TABLE IF NOT EXISTS orders (order_no VARCHAR(32) PRIMARY KEY, status INTEGER NOT NULL, "
       "amount BIGINT NOT NULL, created_at BIGINT NOT NULL, version INTEGER NOT NULL DEFAULT 0)");
}

void ShopDb::Exec(const std::string& sql) const {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

void ShopDb::AddUnpaid(const std::string& order_no, int64_t amount, int64_t created_at_epoch_s) {
  Exec("INSERT INTO orders (order_no, status, amount, created_at) VALUES ('" + order_no + "', 1, " +
       std::to_string(amount) + ", " + std::to_string(created_at_epoch_s) + ")");
}

int ShopDb::QueryInt(const std::string& sql, const std::string& order_no) const {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return -1;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* stmt = nullptr;
  int value = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
    sqlite3_bind_text(stmt, 1, order_no.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_int(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

int ShopDb::Status(const std::string& order_no) const {
  return QueryInt("SELECT status FROM orders WHERE order_no = ?", order_no);
}

int ShopDb::Version(const std::string& order_no) const {
  return QueryInt("SELECT version FROM orders WHERE order_no = ?", order_no);
}

bool ShopDb::WaitForStatus(const std::string& order_no, int status, std::chrono::milliseconds timeout) const {
  return Eventually([&] { return Status(order_no) == status; }, timeout);
}

}  // namespace wxpay::testing
