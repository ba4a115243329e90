// What every database server adapter must do beyond the conformance suite:
// come back after the server ends its sessions or restarts, refuse required
// TLS to a server without it, and fail fast, clearly and without secrets
// when the server is wrong, absent or hung. Instantiated by
// tests/store/mysql_conformance_it.cc and tests/store/pg_conformance_it.cc.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "store/server_fixture.h"

namespace wxpay {
namespace {

using std::chrono::seconds;

// A loopback port nobody listens on: bound to port 0, then released.
int UnusedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

// A loopback listener that accepts connections (the kernel completes the
// handshake) but never says a word: a hung server.
class SilentServer {
 public:
  SilentServer() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::listen(fd_, 16) == 0 && ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port_ = ntohs(a.sin_port);
    }
  }
  ~SilentServer() {
    if (fd_ >= 0) ::close(fd_);
  }
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

}  // namespace

TEST_P(ServerStoreChecks, ReadsAndWritesAgainAfterTheServerEndsEverySession) {
  CreateTables(TestSchema{});
  auto store = Open(MappedConfig(fixture_->BaseConfig(), schema_), 3);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto before = (*store)->LoadOrder("ORD000001");
  ASSERT_TRUE(before.ok()) << before.error().message;

  EndStoreSessions();
  // The dead session is detected, closed, and the read runs on a new one.
  auto after = (*store)->LoadOrder("ORD000001");
  ASSERT_TRUE(after.ok()) << after.error().message;
  ASSERT_TRUE(after->has_value());
  EXPECT_TRUE(log_.Contains("retrying once on a new connection"));

  // A transaction that finds its session dead before COMMIT is safe to redo.
  EndStoreSessions();
  auto cancelled = (*store)->MarkCancelled(UnpaidOrder("ORD000001", 1230));
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  EXPECT_TRUE(cancelled->applied);
  auto again = (*store)->MarkCancelled(UnpaidOrder("ORD000001", 1230));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(again->applied);
  EXPECT_EQ(again->current, ShopState::kCancelled);
}

TEST_P(ServerStoreChecks, ReadsAndWritesAgainAfterTheServerRestarts) {
  const ServerKind& kind = fixture_->kind();
  const std::string variable = kind.env_prefix + "_RESTART";
  const char* restart = std::getenv(variable.c_str());
  ASSERT_TRUE(restart && *restart)
      << variable << " is not set: run the tests through scripts/run-tests.sh (the DIR/env written by "
      << kind.start_script << " DIR sets it)";
  CreateTables(TestSchema{});
  auto store = Open(MappedConfig(fixture_->BaseConfig(), schema_), 3);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto before = (*store)->LoadOrder("ORD000001");
  ASSERT_TRUE(before.ok()) << before.error().message;

  ASSERT_EQ(std::system((std::string(restart) + " >/dev/null 2>&1").c_str()), 0) << restart;
  auto cancelled = (*store)->MarkCancelled(UnpaidOrder("ORD000001", 1230));
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  EXPECT_TRUE(cancelled->applied);
  EXPECT_TRUE(log_.Contains("retrying once on a new connection"));
}

TEST_P(ServerStoreChecks, RequiredTlsAgainstAServerWithoutTlsIsRefused) {
  CreateTables(TestSchema{});
  DatabaseConfig db = MappedConfig(fixture_->BaseConfig(), schema_);
  db.tls.mode = DatabaseTls::Mode::kRequire;
  auto store = Open(db);
  ASSERT_FALSE(store.ok()) << "connected without TLS although database.tls.mode is require";
  EXPECT_NE(store.error().message.find(GetParam().tls_refusal_mentions), std::string::npos)
      << store.error().message;

  db.tls.mode = DatabaseTls::Mode::kDisable;
  auto plain = Open(db);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
}

TEST_P(ServerStoreChecks, WrongPasswordSaysWhatToCheckAndNeverShowsIt) {
  CreateTables(TestSchema{});
  DatabaseConfig db = MappedConfig(fixture_->BaseConfig(), schema_);
  db.password = "Wrong-Secret-4711";
  auto store = Open(db);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("database.password_file"), std::string::npos)
      << store.error().message;
  EXPECT_EQ(store.error().message.find("Wrong-Secret-4711"), std::string::npos);
  EXPECT_FALSE(log_.Contains("Wrong-Secret-4711"));
}

TEST_P(ServerStoreChecks, NoServerOnThePortFailsFastSayingWhatToCheck) {
  CreateTables(TestSchema{});
  DatabaseConfig db = MappedConfig(fixture_->BaseConfig(), schema_);
  db.port = UnusedPort();
  ASSERT_NE(db.port, 0);
  const auto start = std::chrono::steady_clock::now();
  auto store = Open(db);
  ASSERT_FALSE(store.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
  EXPECT_NE(store.error().message.find("database.host"), std::string::npos)
      << store.error().message;
}

TEST_P(ServerStoreChecks, ServerThatNeverAnswersFailsWithinTheTimeout) {
  CreateTables(TestSchema{});
  SilentServer silent;
  ASSERT_NE(silent.port(), 0);
  DatabaseConfig db = MappedConfig(fixture_->BaseConfig(), schema_);
  db.port = silent.port();
  db.timeout = seconds(1);
  const auto start = std::chrono::steady_clock::now();
  auto store = Open(db);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().message.rfind(GetParam().connect_error_prefix, 0), 0u)
      << store.error().message;
  EXPECT_LT(took, seconds(6)) << "a hung server must not hang the daemon";
}

}  // namespace wxpay
