// The conformance suite against a real PostgreSQL server, plus PostgreSQL-
// only checks: reconnect after pg_terminate_backend, timestamptz columns,
// TLS and credential errors.
//
// Needs the server started by scripts/start-postgres.sh; scripts/run-tests.sh
// starts it and exports WXPAY_TEST_PG_{HOST,PORT,USER,PASSWORD,DB}. The tests
// of one process share one throwaway database shop_t<pid>_<random> (CREATE
// DATABASE costs about 0.4 s), dropped at the end; each test replaces the
// tables it uses.
#include <arpa/inet.h>
#include <date/date.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <random>
#include <thread>

#include "store/conformance.h"

namespace wxpay {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct PgServer {
  std::string host, user, password, db;
  int port = 0;
};

Result<PgServer> ServerFromEnvironment() {
  PgServer s;
  const char* names[] = {"WXPAY_TEST_PG_HOST", "WXPAY_TEST_PG_PORT", "WXPAY_TEST_PG_USER",
                         "WXPAY_TEST_PG_PASSWORD", "WXPAY_TEST_PG_DB"};
  std::string* fields[] = {&s.host, nullptr, &s.user, &s.password, &s.db};
  for (int i = 0; i < 5; ++i) {
    const char* v = std::getenv(names[i]);
    if (!v || !*v) {
      return Fail(std::string(names[i]) +
                  " is not set: this test needs a PostgreSQL server; run it through "
                  "scripts/run-tests.sh (which starts one with scripts/start-postgres.sh DIR and "
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

// A plain libpq session, the way the shop talks to its database in these tests.
class PgTestSession final : public TestSession {
 public:
  static Result<std::unique_ptr<PgTestSession>> Open(const PgServer& s, const std::string& db) {
    const std::string port = std::to_string(s.port);
    const char* keys[] = {"host", "port", "dbname", "user", "password", "connect_timeout",
                          "sslmode", nullptr};
    const char* values[] = {s.host.c_str(), port.c_str(), db.c_str(), s.user.c_str(),
                            s.password.c_str(), "10", "disable", nullptr};
    std::unique_ptr<PGconn, void (*)(PGconn*)> c(PQconnectdbParams(keys, values, 0), &PQfinish);
    if (!c || PQstatus(c.get()) != CONNECTION_OK) {
      return Fail("connect to PostgreSQL at " + s.host + ":" + port + ": " +
                  (c ? PQerrorMessage(c.get()) : "out of memory"));
    }
    PQsetNoticeProcessor(c.get(), [](void*, const char*) {}, nullptr);  // "... skipping"
    return std::make_unique<PgTestSession>(std::move(c));
  }
  explicit PgTestSession(std::unique_ptr<PGconn, void (*)(PGconn*)> c) : c_(std::move(c)) {}

  Result<int64_t> Exec(const std::string& sql) override {
    auto r = Run(sql);
    if (!r.ok()) return r.error();
    const char* n = PQcmdTuples(r->get());
    return static_cast<int64_t>(n && *n ? std::atoll(n) : 0);
  }

  Result<std::vector<SqlRow>> Query(const std::string& sql) override {
    auto r = Run(sql);
    if (!r.ok()) return r.error();
    const PGresult* res = r->get();
    std::vector<SqlRow> rows;
    for (int i = 0; i < PQntuples(res); ++i) {
      SqlRow row(static_cast<size_t>(PQnfields(res)));
      for (int j = 0; j < PQnfields(res); ++j) {
        if (!PQgetisnull(res, i, j)) row[static_cast<size_t>(j)] = PQgetvalue(res, i, j);
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

 private:
  using ResultPtr = std::unique_ptr<PGresult, void (*)(PGresult*)>;
  Result<ResultPtr> Run(const std::string& sql) {
    ResultPtr r(PQexec(c_.get(), sql.c_str()), &PQclear);
    const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      return Fail(sql + ": " + PQerrorMessage(c_.get()));
    }
    return r;
  }
  std::unique_ptr<PGconn, void (*)(PGconn*)> c_;
};

// The process's throwaway database: created by the first test that needs it,
// dropped when the test program ends. Owned by GoogleTest.
class PgDatabaseEnvironment final : public ::testing::Environment {
 public:
  Result<std::string> Database(const PgServer& server) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!name_.empty()) return name_;
    auto admin = PgTestSession::Open(server, server.db);
    if (!admin.ok()) return admin.error();
    std::random_device random;
    const std::string name = "shop_t" + std::to_string(::getpid()) + "_" +
                             std::to_string(random() % 100000);
    auto created = (*admin)->Exec("CREATE DATABASE " + name);
    if (!created.ok()) return created.error();
    server_ = server;
    name_ = name;
    return name_;
  }

  void TearDown() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (name_.empty()) return;
    auto admin = PgTestSession::Open(server_, server_.db);
    ASSERT_TRUE(admin.ok()) << admin.error().message;
    auto dropped = (*admin)->Exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    EXPECT_TRUE(dropped.ok()) << dropped.error().message;
    name_.clear();
  }

 private:
  std::mutex mu_;
  PgServer server_;
  std::string name_;
};

// GoogleTest takes ownership of registered environments.
PgDatabaseEnvironment* const g_database =
    static_cast<PgDatabaseEnvironment*>(::testing::AddGlobalTestEnvironment(new PgDatabaseEnvironment));

class PgFixture final : public StoreFixture {
 public:
  Dialect dialect() const override { return Dialect::kPostgres; }

  Status SetUp() override {
    auto server = ServerFromEnvironment();
    if (!server.ok()) return server.error();
    server_ = *server;
    auto name = g_database->Database(server_);
    if (!name.ok()) return name.error();
    database_ = *name;
    return Status::Ok();
  }

  DatabaseConfig BaseConfig() const override {
    DatabaseConfig db;
    db.driver = DatabaseConfig::Driver::kPostgresql;
    db.host = server_.host;
    db.port = server_.port;
    db.name = database_;
    db.user = server_.user;
    db.password = server_.password;
    return db;
  }

  Result<std::unique_ptr<SqlShopStore>> Open(const DatabaseConfig& db, int pool_size,
                                             const Clock& clock, Logger& log) override {
    return OpenPgStore(db, pool_size, clock, log);
  }

  Result<std::unique_ptr<TestSession>> Connect() override {
    auto session = PgTestSession::Open(server_, database_);
    if (!session.ok()) return session.error();
    return std::unique_ptr<TestSession>(std::move(*session));
  }

  const std::string& database() const { return database_; }

 private:
  PgServer server_;
  std::string database_;
};

INSTANTIATE_TEST_SUITE_P(
    Postgresql, StoreConformance,
    ::testing::Values(StoreBackend{"postgresql", [] { return std::make_unique<PgFixture>(); }}),
    StoreBackendName);

// ------------------------------------------------------------ PostgreSQL only

ShopOrder Unpaid(const std::string& order_no) {
  ShopOrder o;
  o.order_no = order_no;
  o.out_trade_no = order_no;
  o.state = ShopState::kUnpaid;
  o.amount_fen = 1230;
  return o;
}

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

class PgOnly : public ::testing::Test {
 protected:
  void SetUp() override {
    Status up = fixture_.SetUp();
    ASSERT_TRUE(up.ok()) << up.message();
    auto session = fixture_.Connect();
    ASSERT_TRUE(session.ok()) << session.error().message;
    session_ = std::move(*session);
  }
  void TearDown() override {
    session_.reset();
    fixture_.TearDown();
  }

  void Exec(const std::string& sql) {
    auto done = session_->Exec(sql);
    ASSERT_TRUE(done.ok()) << done.error().message;
  }

  // The test tables with one unpaid order.
  void CreateTables(const TestSchema& schema) {
    schema_ = schema;
    for (const auto& sql : CreateSchemaSql(Dialect::kPostgres, schema)) Exec(sql);
    Exec(InsertOrderSql(Dialect::kPostgres, schema,
                        {"ORD000001", StoredStatus(schema, ShopState::kUnpaid), "1230",
                         "2024-03-01 08:00:00"}));
  }

  Result<std::unique_ptr<SqlShopStore>> Open(const DatabaseConfig& db, int pool_size = 2) {
    return OpenPgStore(db, pool_size, clock_, log_);
  }

  // Terminates every session the store holds and waits until they are gone.
  void TerminateStoreSessions() {
    const std::string where = " FROM pg_stat_activity WHERE datname = current_database() AND "
                              "application_name = 'wxpay-reconciler' AND pid <> pg_backend_pid()";
    auto killed = session_->Query("SELECT pg_terminate_backend(pid)" + where);
    ASSERT_TRUE(killed.ok()) << killed.error().message;
    ASSERT_FALSE(killed->empty()) << "the store holds no session to terminate";
    const auto deadline = std::chrono::steady_clock::now() + seconds(10);
    for (;;) {
      auto left = session_->Query("SELECT pid" + where);
      ASSERT_TRUE(left.ok()) << left.error().message;
      if (left->empty()) break;
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "terminated sessions did not go away";
      std::this_thread::sleep_for(milliseconds(20));
    }
  }

  PgFixture fixture_;
  std::unique_ptr<TestSession> session_;
  TestSchema schema_;
  ManualClock clock_{TimePoint{}};
  CapturingLogger log_;
};

TEST_F(PgOnly, ReadsAndWritesAgainAfterTheServerTerminatesEverySession) {
  CreateTables(TestSchema{});
  auto store = Open(MappedConfig(fixture_.BaseConfig(), schema_), 3);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto before = (*store)->LoadOrder("ORD000001");
  ASSERT_TRUE(before.ok()) << before.error().message;

  TerminateStoreSessions();
  auto after = (*store)->LoadOrder("ORD000001");
  ASSERT_TRUE(after.ok()) << after.error().message;
  ASSERT_TRUE(after->has_value());
  EXPECT_TRUE(log_.Contains("retrying once on a new connection"));

  TerminateStoreSessions();
  auto cancelled = (*store)->MarkCancelled(Unpaid("ORD000001"));
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  EXPECT_TRUE(cancelled->applied);
  auto again = (*store)->MarkCancelled(Unpaid("ORD000001"));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(again->applied);
  EXPECT_EQ(again->current, ShopState::kCancelled);
}

TEST_F(PgOnly, ReadsAndWritesAgainAfterTheServerRestarts) {
  const char* restart = std::getenv("WXPAY_TEST_PG_RESTART");
  ASSERT_TRUE(restart && *restart)
      << "WXPAY_TEST_PG_RESTART is not set: run the tests through scripts/run-tests.sh (the "
         "DIR/env written by scripts/start-postgres.sh DIR sets it)";
  CreateTables(TestSchema{});
  auto store = Open(MappedConfig(fixture_.BaseConfig(), schema_), 3);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto before = (*store)->LoadOrder("ORD000001");
  ASSERT_TRUE(before.ok()) << before.error().message;

  session_.reset();  // the shop's session dies with the server
  ASSERT_EQ(std::system((std::string(restart) + " >/dev/null 2>&1").c_str()), 0) << restart;
  auto cancelled = (*store)->MarkCancelled(Unpaid("ORD000001"));
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  EXPECT_TRUE(cancelled->applied);
  EXPECT_TRUE(log_.Contains("retrying once on a new connection"));
}

TEST_F(PgOnly, TimestamptzColumnsAreReadAtTheirInstant) {
  Exec("DROP TABLE IF EXISTS wx_payments");
  Exec("DROP TABLE IF EXISTS wx_orders");
  Exec("CREATE TABLE wx_orders (number VARCHAR(32) PRIMARY KEY, status INTEGER NOT NULL, "
       "amount BIGINT, order_time TIMESTAMPTZ)");
  // The same instant written in two zones.
  Exec("INSERT INTO wx_orders VALUES ('ORD000001', 1, 100, '2024-03-01 08:00:00+08')");
  Exec("INSERT INTO wx_orders VALUES ('ORD000002', 1, 100, '2024-03-01 00:00:00Z')");
  TestSchema schema;
  schema.payments = false;
  auto store = Open(MappedConfig(fixture_.BaseConfig(), schema));
  ASSERT_TRUE(store.ok()) << store.error().message;
  const TimePoint expected{date::sys_days{date::year{2024} / 3 / 1}.time_since_epoch()};
  for (const char* no : {"ORD000001", "ORD000002"}) {
    auto loaded = (*store)->LoadOrder(no);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    ASSERT_TRUE(loaded->has_value()) << no;
    EXPECT_EQ((*loaded)->created_at, expected) << no;
  }
  // The sweep bound is compared as an instant too.
  auto swept = (*store)->ListUnpaid(expected + seconds(1), SweepCursor{}, 10);
  ASSERT_TRUE(swept.ok()) << swept.error().message;
  EXPECT_EQ(swept->size(), 2u);
  auto none = (*store)->ListUnpaid(expected, SweepCursor{}, 10);
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_TRUE(none->empty());
}

TEST_F(PgOnly, RequiredTlsAgainstAServerWithoutTlsIsRefused) {
  CreateTables(TestSchema{});
  DatabaseConfig db = MappedConfig(fixture_.BaseConfig(), schema_);
  db.tls.mode = DatabaseTls::Mode::kRequire;
  auto store = Open(db);
  ASSERT_FALSE(store.ok()) << "connected without TLS although database.tls.mode is require";
  EXPECT_NE(store.error().message.find("database.tls"), std::string::npos)
      << store.error().message;

  db.tls.mode = DatabaseTls::Mode::kDisable;
  auto plain = Open(db);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
}

TEST_F(PgOnly, WrongPasswordSaysWhatToCheckAndNeverShowsIt) {
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

TEST_F(PgOnly, NoServerOnThePortFailsFastSayingWhatToCheck) {
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

TEST_F(PgOnly, ServerThatNeverAnswersFailsWithinTheTimeout) {
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
  EXPECT_EQ(store.error().message.rfind("postgresql: connecting to", 0), 0u)
      << store.error().message;
  EXPECT_LT(took, seconds(6)) << "a hung server must not hang the daemon";
}

}  // namespace
}  // namespace wxpay
