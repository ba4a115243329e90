// The conformance suite against a real MariaDB server, plus MariaDB-only
// checks: reconnect after the server kills every session, the numeric-offset
// fallback for a server without time zone tables, TLS and credential errors.
//
// Needs the server started by scripts/start-mariadb.sh; scripts/run-tests.sh
// starts it and exports WXPAY_TEST_MYSQL_{HOST,PORT,USER,PASSWORD,DB}. Each
// test works in its own throwaway database shop_t<pid>_<n>_<random>.
#include <arpa/inet.h>
#include <date/date.h>
#include <mysql.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "store/conformance.h"

namespace wxpay {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct MysqlServer {
  std::string host, user, password, db;
  int port = 0;
};

Result<MysqlServer> ServerFromEnvironment() {
  MysqlServer s;
  const char* names[] = {"WXPAY_TEST_MYSQL_HOST", "WXPAY_TEST_MYSQL_PORT", "WXPAY_TEST_MYSQL_USER",
                         "WXPAY_TEST_MYSQL_PASSWORD", "WXPAY_TEST_MYSQL_DB"};
  std::string* fields[] = {&s.host, nullptr, &s.user, &s.password, &s.db};
  for (int i = 0; i < 5; ++i) {
    const char* v = std::getenv(names[i]);
    if (!v || !*v) {
      return Fail(std::string(names[i]) +
                  " is not set: this test needs a MariaDB server; run it through "
                  "scripts/run-tests.sh (which starts one with scripts/start-mariadb.sh DIR and "
                  "sources DIR/env), or start one yourself and `source DIR/env`");
    }
    if (fields[i]) {
      *fields[i] = v;
    } else {
      s.port = std::atoi(v);
    }
  }
  return s;
}

// A plain libmariadb session (text protocol), the way the shop talks to its
// database in these tests.
class MysqlTestSession final : public TestSession {
 public:
  static Result<std::unique_ptr<MysqlTestSession>> Open(const MysqlServer& s,
                                                        const std::string& db) {
    std::unique_ptr<MYSQL, void (*)(MYSQL*)> m(mysql_init(nullptr), &mysql_close);
    if (!m) return Fail("mysql_init failed");
    const unsigned int timeout = 30;
    mysql_optionsv(m.get(), MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_optionsv(m.get(), MYSQL_OPT_READ_TIMEOUT, &timeout);
    if (!mysql_real_connect(m.get(), s.host.c_str(), s.user.c_str(), s.password.c_str(),
                            db.empty() ? nullptr : db.c_str(), static_cast<unsigned>(s.port),
                            nullptr, 0)) {
      return Fail("connect to MariaDB at " + s.host + ":" + std::to_string(s.port) + ": " +
                  mysql_error(m.get()));
    }
    return std::make_unique<MysqlTestSession>(std::move(m));
  }
  explicit MysqlTestSession(std::unique_ptr<MYSQL, void (*)(MYSQL*)> m) : m_(std::move(m)) {}

  Result<int64_t> Exec(const std::string& sql) override {
    if (mysql_real_query(m_.get(), sql.data(), sql.size()) != 0) {
      return Fail(sql + ": " + mysql_error(m_.get()));
    }
    if (MYSQL_RES* r = mysql_store_result(m_.get())) mysql_free_result(r);
    const my_ulonglong n = mysql_affected_rows(m_.get());
    return n == static_cast<my_ulonglong>(-1) ? int64_t{0} : static_cast<int64_t>(n);
  }

  Result<std::vector<SqlRow>> Query(const std::string& sql) override {
    if (mysql_real_query(m_.get(), sql.data(), sql.size()) != 0) {
      return Fail(sql + ": " + mysql_error(m_.get()));
    }
    std::unique_ptr<MYSQL_RES, void (*)(MYSQL_RES*)> r(mysql_store_result(m_.get()),
                                                       &mysql_free_result);
    if (!r) return Fail(sql + ": no result set: " + mysql_error(m_.get()));
    std::vector<SqlRow> rows;
    const unsigned int n = mysql_num_fields(r.get());
    while (MYSQL_ROW row = mysql_fetch_row(r.get())) {
      const unsigned long* lengths = mysql_fetch_lengths(r.get());
      SqlRow out(n);
      for (unsigned int i = 0; i < n; ++i) {
        if (row[i]) out[i] = std::string(row[i], lengths[i]);
      }
      rows.push_back(std::move(out));
    }
    return rows;
  }

 private:
  std::unique_ptr<MYSQL, void (*)(MYSQL*)> m_;
};

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

std::string UniqueDatabaseName() {
  static std::atomic<int> counter{0};
  std::random_device random;
  return "shop_t" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "_" +
         std::to_string(random() % 100000);
}

class MysqlFixture final : public StoreFixture {
 public:
  Dialect dialect() const override { return Dialect::kMysql; }

  Status SetUp() override {
    auto server = ServerFromEnvironment();
    if (!server.ok()) return server.error();
    server_ = *server;
    auto admin = MysqlTestSession::Open(server_, server_.db);
    if (!admin.ok()) return admin.error();
    admin_ = std::move(*admin);
    database_ = UniqueDatabaseName();
    auto created = admin_->Exec("CREATE DATABASE " + database_ + " CHARACTER SET utf8mb4");
    if (!created.ok()) {
      database_.clear();
      return created.error();
    }
    return Status::Ok();
  }

  void TearDown() override {
    admin_.reset();
    if (database_.empty()) return;
    // A new session: a test may have restarted the server.
    auto admin = MysqlTestSession::Open(server_, server_.db);
    ASSERT_TRUE(admin.ok()) << admin.error().message;
    auto dropped = (*admin)->Exec("DROP DATABASE IF EXISTS " + database_);
    EXPECT_TRUE(dropped.ok()) << dropped.error().message;
  }

  DatabaseConfig BaseConfig() const override {
    DatabaseConfig db;
    db.driver = DatabaseConfig::Driver::kMysql;
    db.host = server_.host;
    db.port = server_.port;
    db.name = database_;
    db.user = server_.user;
    db.password = server_.password;
    return db;
  }

  Result<std::unique_ptr<SqlShopStore>> Open(const DatabaseConfig& db, int pool_size,
                                             const Clock& clock, Logger& log) override {
    return OpenMysqlStore(db, pool_size, clock, log);
  }

  Result<std::unique_ptr<TestSession>> Connect() override {
    auto session = MysqlTestSession::Open(server_, database_);
    if (!session.ok()) return session.error();
    return std::unique_ptr<TestSession>(std::move(*session));
  }

  TestSession& admin() { return *admin_; }
  const std::string& database() const { return database_; }

 private:
  MysqlServer server_;
  std::unique_ptr<MysqlTestSession> admin_;
  std::string database_;
};

INSTANTIATE_TEST_SUITE_P(
    Mariadb, StoreConformance,
    ::testing::Values(StoreBackend{"mariadb", [] { return std::make_unique<MysqlFixture>(); }}),
    StoreBackendName);

// ------------------------------------------------------------ MariaDB only

ShopOrder Unpaid(const std::string& order_no) {
  ShopOrder o;
  o.order_no = order_no;
  o.out_trade_no = order_no;
  o.state = ShopState::kUnpaid;
  o.amount_fen = 1230;
  return o;
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

class MysqlOnly : public ::testing::Test {
 protected:
  void SetUp() override {
    Status up = fixture_.SetUp();
    ASSERT_TRUE(up.ok()) << up.message();
  }
  void TearDown() override {
    store_.reset();
    fixture_.TearDown();
  }

  // Creates the test tables in the fixture's database, with one unpaid order.
  void CreateTables(const TestSchema& schema) {
    schema_ = schema;
    auto session = fixture_.Connect();
    ASSERT_TRUE(session.ok()) << session.error().message;
    for (const auto& sql : CreateSchemaSql(Dialect::kMysql, schema)) {
      auto done = (*session)->Exec(sql);
      ASSERT_TRUE(done.ok()) << done.error().message;
    }
    auto inserted = (*session)->Exec(InsertOrderSql(
        Dialect::kMysql, schema, {"ORD000001", StoredStatus(schema, ShopState::kUnpaid), "1230",
                                  "2024-03-01 08:00:00"}));
    ASSERT_TRUE(inserted.ok()) << inserted.error().message;
  }

  Result<std::unique_ptr<SqlShopStore>> Open(const DatabaseConfig& db, int pool_size = 2) {
    return OpenMysqlStore(db, pool_size, clock_, log_);
  }

  // Kills every session of the test database except the admin's own, and
  // waits until the server has let them go.
  void KillStoreSessions() {
    const std::string others =
        "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '" + fixture_.database() +
        "' AND ID <> CONNECTION_ID()";
    auto ids = fixture_.admin().Query(others);
    ASSERT_TRUE(ids.ok()) << ids.error().message;
    ASSERT_FALSE(ids->empty()) << "the store holds no session to kill";
    for (const auto& row : *ids) {
      auto killed = fixture_.admin().Exec("KILL CONNECTION " + row[0].value_or("0"));
      ASSERT_TRUE(killed.ok()) << killed.error().message;
    }
    const auto deadline = std::chrono::steady_clock::now() + seconds(10);
    for (;;) {
      auto left = fixture_.admin().Query(others);
      ASSERT_TRUE(left.ok()) << left.error().message;
      if (left->empty()) break;
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "killed sessions did not go away";
      std::this_thread::sleep_for(milliseconds(20));
    }
  }

  MysqlFixture fixture_;
  TestSchema schema_;
  ManualClock clock_{TimePoint{}};
  CapturingLogger log_;
  std::unique_ptr<SqlShopStore> store_;
};

TEST_F(MysqlOnly, ReadsAndWritesAgainAfterTheServerKillsEverySession) {
  CreateTables(TestSchema{});
  auto store = Open(MappedConfig(fixture_.BaseConfig(), schema_), 3);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto before = (*store)->LoadOrder("ORD000001");
  ASSERT_TRUE(before.ok()) << before.error().message;

  KillStoreSessions();
  // The dead session is detected, closed, and the read runs on a new one.
  auto after = (*store)->LoadOrder("ORD000001");
  ASSERT_TRUE(after.ok()) << after.error().message;
  ASSERT_TRUE(after->has_value());
  EXPECT_TRUE(log_.Contains("retrying once on a new connection"));

  // A transaction that finds its session dead before COMMIT is safe to redo.
  KillStoreSessions();
  auto cancelled = (*store)->MarkCancelled(Unpaid("ORD000001"));
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  EXPECT_TRUE(cancelled->applied);
  auto again = (*store)->MarkCancelled(Unpaid("ORD000001"));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(again->applied);
  EXPECT_EQ(again->current, ShopState::kCancelled);
}

TEST_F(MysqlOnly, ReadsAndWritesAgainAfterTheServerRestarts) {
  const char* restart = std::getenv("WXPAY_TEST_MYSQL_RESTART");
  ASSERT_TRUE(restart && *restart)
      << "WXPAY_TEST_MYSQL_RESTART is not set: run the tests through scripts/run-tests.sh (the "
         "DIR/env written by scripts/start-mariadb.sh DIR sets it)";
  CreateTables(TestSchema{});
  auto store = Open(MappedConfig(fixture_.BaseConfig(), schema_), 3);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto before = (*store)->LoadOrder("ORD000001");
  ASSERT_TRUE(before.ok()) << before.error().message;

  ASSERT_EQ(std::system((std::string(restart) + " >/dev/null 2>&1").c_str()), 0) << restart;
  auto cancelled = (*store)->MarkCancelled(Unpaid("ORD000001"));
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  EXPECT_TRUE(cancelled->applied);
  EXPECT_TRUE(log_.Contains("retrying once on a new connection"));
}

TEST_F(MysqlOnly, ZoneWithoutServerTablesFallsBackToItsCurrentOffset) {
  // scripts/start-mariadb.sh loads Asia/Shanghai only.
  TestSchema schema;
  schema.timezone = "America/New_York";
  CreateTables(schema);
  auto store = Open(MappedConfig(fixture_.BaseConfig(), schema_));
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_TRUE(log_.Contains("no time zone tables")) << "expected the fallback warning";
  EXPECT_TRUE(log_.Contains("mariadb-tzinfo-to-sql"));

  auto loaded = (*store)->LoadOrder("ORD000001");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  // 08:00 EST (UTC-5; DST starts on 10 March 2024) is 13:00Z.
  const TimePoint expected{date::sys_days{date::year{2024} / 3 / 1}.time_since_epoch() +
                           std::chrono::hours{13}};
  EXPECT_EQ((*loaded)->created_at, expected);

  auto now = (*store)->DatabaseNow();
  ASSERT_TRUE(now.ok()) << now.error().message;
  EXPECT_LT(std::chrono::abs(*now - std::chrono::system_clock::now()), seconds(60));
}

TEST_F(MysqlOnly, NamedZoneIsUsedWhenTheServerKnowsIt) {
  CreateTables(TestSchema{});  // Asia/Shanghai
  auto store = Open(MappedConfig(fixture_.BaseConfig(), schema_));
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_FALSE(log_.Contains("no time zone tables"));
  EXPECT_FALSE(log_.Contains("no statement time limit"));
  auto now = (*store)->DatabaseNow();
  ASSERT_TRUE(now.ok()) << now.error().message;
  EXPECT_LT(std::chrono::abs(*now - std::chrono::system_clock::now()), seconds(60));
}

TEST_F(MysqlOnly, RequiredTlsAgainstAServerWithoutTlsIsRefused) {
  CreateTables(TestSchema{});
  DatabaseConfig db = MappedConfig(fixture_.BaseConfig(), schema_);
  db.tls.mode = DatabaseTls::Mode::kRequire;
  auto store = Open(db);
  ASSERT_FALSE(store.ok()) << "connected without TLS although database.tls.mode is require";
  EXPECT_NE(store.error().message.find("mysql: connecting to"), std::string::npos)
      << store.error().message;

  db.tls.mode = DatabaseTls::Mode::kDisable;
  auto plain = Open(db);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
}

TEST_F(MysqlOnly, WrongPasswordSaysWhatToCheckAndNeverShowsIt) {
  CreateTables(TestSchema{});
  DatabaseConfig db = MappedConfig(fixture_.BaseConfig(), schema_);
  db.password = "Wrong-Secret-4711";
  auto store = Open(db);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("database.password_file"), std::string::npos)
      << store.error().message;
  EXPECT_EQ(store.error().message.find("Wrong-Secret-4711"), std::string::npos);
  EXPECT_FALSE(log_.Contains("Wrong-Secret-4711"));
}

TEST_F(MysqlOnly, NoServerOnThePortFailsFastSayingWhatToCheck) {
  CreateTables(TestSchema{});
  DatabaseConfig db = MappedConfig(fixture_.BaseConfig(), schema_);
  db.port = UnusedPort();
  ASSERT_NE(db.port, 0);
  const auto start = std::chrono::steady_clock::now();
  auto store = Open(db);
  ASSERT_FALSE(store.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
  EXPECT_NE(store.error().message.find("database.host"), std::string::npos)
      << store.error().message;
}

TEST_F(MysqlOnly, ReadCommittedViewAfterALostRaceInsideTheTransaction) {
  // The shop pays the order between the store's load and its cancel: the
  // cancel does not apply and reports the status the shop wrote.
  CreateTables(TestSchema{});
  auto store = Open(MappedConfig(fixture_.BaseConfig(), schema_));
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto loaded = (*store)->LoadOrder("ORD000001");
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  auto shop = fixture_.Connect();
  ASSERT_TRUE(shop.ok()) << shop.error().message;
  auto paid = (*shop)->Exec("UPDATE wx_orders SET status = 2 WHERE number = 'ORD000001' AND status = 1");
  ASSERT_TRUE(paid.ok()) << paid.error().message;
  ASSERT_EQ(*paid, 1);
  auto cancelled = (*store)->MarkCancelled(**loaded);
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  EXPECT_FALSE(cancelled->applied);
  EXPECT_EQ(cancelled->current, ShopState::kPaid);
  EXPECT_EQ(cancelled->raw_status, "2");
}

TEST_F(MysqlOnly, ServerThatNeverAnswersFailsWithinTheTimeout) {
  CreateTables(TestSchema{});
  SilentServer silent;
  ASSERT_NE(silent.port(), 0);
  DatabaseConfig db = MappedConfig(fixture_.BaseConfig(), schema_);
  db.port = silent.port();
  db.timeout = seconds(1);
  const auto start = std::chrono::steady_clock::now();
  auto store = Open(db);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().message.rfind("mysql: connecting to", 0), 0u)
      << store.error().message;
  EXPECT_LT(took, seconds(6)) << "a hung server must not hang the daemon";
}

}  // namespace
}  // namespace wxpay
