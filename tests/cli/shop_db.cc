#include "cli/shop_db.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>

#include "cli/db_sessions.h"
#include "store/server_sessions.h"

// conformance.cc, linked for its schema helpers, brings the store suite's
// TEST_Ps along; they run in the store binaries, not here.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StoreConformance);

namespace wxpay::clitest {
namespace {

Result<TestServer> ServerFor(Backend b) {
  return ServerFromEnvironment(b == Backend::kMariadb ? MariadbServerKind() : PostgresServerKind());
}

Result<std::unique_ptr<TestSession>> OpenServerSession(Backend b, const TestServer& server,
                                                       const std::string& db) {
  return b == Backend::kMariadb ? OpenMysqlTestSession(server, db) : OpenPgTestSession(server, db);
}

Result<std::unique_ptr<TestSession>> OpenSession(Backend b, const std::string& name) {
  if (b == Backend::kSqlite) return OpenSqliteSession(name);
  auto server = ServerFor(b);
  if (!server) return server.error();
  return OpenServerSession(b, *server, name);
}

std::string TempBase() {
  const char* base = std::getenv("WXPAY_TEST_TMP");
  return base && *base ? base : std::filesystem::temp_directory_path().string();
}

// Creates the backend's throwaway database (or SQLite directory); returns
// the database name or file path.
Result<std::string> CreateDatabase(Backend b, std::string& sqlite_dir) {
  if (b == Backend::kSqlite) {
    std::string pattern = TempBase() + "/wxpay-cli-shop-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) return Fail("mkdtemp failed under " + TempBase());
    sqlite_dir = pattern;
    return pattern + "/shop.db";
  }
  auto server = ServerFor(b);
  if (!server) return server.error();
  auto admin = OpenServerSession(b, *server, server->db);
  if (!admin) return admin.error();
  std::random_device random;
  const std::string name =
      "shop_cli" + std::to_string(::getpid()) + "_" + std::to_string(random() % 100000);
  auto created = (*admin)->Exec("CREATE DATABASE " + name);
  if (!created) return created.error();
  return name;
}

// Owns the shared databases; drops them when the test program ends.
class SharedDatabases final : public ::testing::Environment {
 public:
  ShopDb* Get(Backend b) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = dbs_.find(b);
    if (it != dbs_.end()) return it->second.get();
    std::string sqlite_dir;
    auto name = CreateDatabase(b, sqlite_dir);
    if (!name) {
      ADD_FAILURE() << BackendName(b) << ": " << name.error().message;
      return nullptr;
    }
    auto db = std::make_unique<ShopDb>(b, *name);
    ShopDb* raw = db.get();
    dbs_[b] = std::move(db);
    return raw;
  }
  void TearDown() override {
    std::lock_guard<std::mutex> lock(mu_);
    dbs_.clear();
  }

 private:
  std::mutex mu_;
  std::map<Backend, std::unique_ptr<ShopDb>> dbs_;
};

// GoogleTest owns registered environments.
SharedDatabases* const g_databases =
    static_cast<SharedDatabases*>(::testing::AddGlobalTestEnvironment(new SharedDatabases));

std::string MappingYaml(const TestSchema& s) {
  std::string y;
  y += "  orders:\n";
  y += "    table: wx_orders\n";
  y += "    order_no: number\n";
  y += "    status: status\n";
  y += "    amount: amount\n";
  y += std::string("    amount_unit: ") +
       (s.amount_unit == OrdersMapping::AmountUnit::kYuan ? "yuan" : "fen") + "\n";
  y += "    created_at: order_time\n";
  y += "    timezone: " + s.timezone + "\n";
  if (s.status_integer) {
    y += "    status_values: {unpaid: \"1\", paid: \"2\", cancelled: \"5\"}\n";
  } else {
    y += "    status_values: {unpaid: unpaid, paid: paid, cancelled: cancelled}\n";
  }
  if (s.out_trade_no_column) y += "    out_trade_no: trade_no\n";
  if (s.filter) y += "    filter: {column: pay_method, values: [wxpay]}\n";
  if (s.paid_at) y += "    paid_at: paid_time\n";
  if (s.updated_at) y += "    updated_at: updated\n";
  if (s.version) y += "    version: ver\n";
  if (s.payments) y += "  payments:\n    table: wx_payments\n";
  return y;
}

// Everything CreateSchemaSql depends on.
std::string SchemaKey(const TestSchema& s) {
  return std::to_string(s.order_no_integer) + std::to_string(s.status_integer) +
         std::to_string(static_cast<int>(s.amount_unit)) + "|" + s.amount_type + "|" +
         std::to_string(static_cast<int>(s.time_format)) + std::to_string(s.payments);
}

std::string FirstValue(const std::vector<SqlRow>& rows) {
  if (rows.empty() || rows.front().empty()) return "<none>";
  return rows.front().front().value_or("NULL");
}

}  // namespace

std::string BackendName(Backend backend) {
  switch (backend) {
    case Backend::kSqlite: return "sqlite";
    case Backend::kMariadb: return "mariadb";
    case Backend::kPostgresql: return "postgresql";
  }
  return "?";
}

std::string ShanghaiDatetime(std::chrono::system_clock::time_point t) {
  const std::time_t shifted = std::chrono::system_clock::to_time_t(t) + 8 * 3600;
  std::tm tm{};
  ::gmtime_r(&shifted, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

ShopDb* ShopDb::Shared(Backend backend) { return g_databases->Get(backend); }

ShopDb::ShopDb(Backend backend, std::string name_or_path)
    : backend_(backend), name_(std::move(name_or_path)) {
  if (backend_ == Backend::kSqlite) {
    sqlite_dir_ = std::filesystem::path(name_).parent_path().string();
  }
  auto session = OpenSession(backend_, name_);
  if (!session) {
    ADD_FAILURE() << BackendName(backend_) << ": " << session.error().message;
    return;
  }
  session_ = std::move(*session);
}

ShopDb::~ShopDb() {
  session_.reset();
  if (backend_ == Backend::kSqlite) {
    std::error_code ignored;
    if (!sqlite_dir_.empty()) std::filesystem::remove_all(sqlite_dir_, ignored);
    return;
  }
  auto server = ServerFor(backend_);
  if (!server) return;
  auto admin = OpenServerSession(backend_, *server, server->db);
  if (!admin) return;
  (void)(*admin)->Exec("DROP DATABASE IF EXISTS " + name_ +
                       (backend_ == Backend::kPostgresql ? " WITH (FORCE)" : ""));
}

Dialect ShopDb::dialect() const {
  switch (backend_) {
    case Backend::kSqlite: return Dialect::kSqlite;
    case Backend::kMariadb: return Dialect::kMysql;
    case Backend::kPostgresql: return Dialect::kPostgres;
  }
  return Dialect::kSqlite;
}

void ShopDb::Reset(const TestSchema& schema) {
  schema_ = schema;
  const std::string key = SchemaKey(schema);
  if (key == tables_for_) {
    if (schema.payments) Exec("DELETE FROM wx_payments");
    Exec("DELETE FROM wx_orders");
    return;
  }
  tables_for_.clear();
  for (const std::string& sql : CreateSchemaSql(dialect(), schema)) {
    if (Exec(sql) < 0) return;
  }
  tables_for_ = key;
}

void ShopDb::Insert(const TestOrder& order) { Exec(InsertOrderSql(dialect(), schema_, order)); }

void ShopDb::InsertUnpaid(const std::string& order_no, int fen, const std::string& created_at) {
  InsertWithStatus(order_no, ShopState::kUnpaid, fen, created_at);
}

void ShopDb::InsertWithStatus(const std::string& order_no, ShopState state, int fen,
                              const std::string& created_at) {
  std::string amount = std::to_string(fen);
  if (schema_.amount_unit == OrdersMapping::AmountUnit::kYuan) {
    const std::string cents = (fen % 100 < 10 ? "0" : "") + std::to_string(fen % 100);
    amount = std::to_string(fen / 100) + "." + cents;
  }
  Insert(TestOrder{order_no, StoredStatus(state), amount, created_at});
}

int64_t ShopDb::Exec(const std::string& sql) {
  if (!session_) {
    ADD_FAILURE() << "no database session";
    return -1;
  }
  auto n = session_->Exec(sql);
  if (!n) {
    ADD_FAILURE() << n.error().message;
    return -1;
  }
  return *n;
}

std::vector<SqlRow> ShopDb::Query(const std::string& sql) {
  if (!session_) {
    ADD_FAILURE() << "no database session";
    return {};
  }
  auto rows = session_->Query(sql);
  if (!rows) {
    ADD_FAILURE() << rows.error().message;
    return {};
  }
  return std::move(*rows);
}

std::string ShopDb::Status(const std::string& order_no) { return Column(order_no, "status"); }

std::string ShopDb::Column(const std::string& order_no, const std::string& column) {
  return FirstValue(Query("SELECT " + column + " FROM wx_orders WHERE number = '" + order_no + "'"));
}

std::vector<SqlRow> ShopDb::Payments(const std::string& order_no) {
  return Query("SELECT transaction_id, trade_state, amount FROM wx_payments WHERE order_no = '" +
               order_no + "'");
}

std::unique_ptr<TestSession> ShopDb::Connect() {
  auto session = OpenSession(backend_, name_);
  if (!session) {
    ADD_FAILURE() << session.error().message;
    return nullptr;
  }
  return std::move(*session);
}

void ShopDb::LockOrder(TestSession& session, const std::string& order_no) {
  const bool sqlite = backend_ == Backend::kSqlite;
  auto begun = session.Exec(sqlite ? "BEGIN EXCLUSIVE" : "BEGIN");
  ASSERT_TRUE(begun.ok()) << begun.error().message;
  if (sqlite) return;
  auto locked = session.Query("SELECT status FROM wx_orders WHERE number = '" + order_no + "' FOR UPDATE");
  ASSERT_TRUE(locked.ok()) << locked.error().message;
  ASSERT_EQ(locked->size(), 1u) << "no row to lock for " << order_no;
}

std::string ShopDb::Yaml(const std::string& dir, const std::string& timeout, int port) const {
  std::string y = "database:\n";
  if (backend_ == Backend::kSqlite) {
    y += "  driver: sqlite\n";
    y += "  path: " + (port == 0 ? name_ : sqlite_dir_ + "/missing/shop.db") + "\n";
  } else {
    auto server = ServerFor(backend_);
    if (!server) {
      ADD_FAILURE() << server.error().message;
      return y;
    }
    const std::string password_file = dir + "/db_password";
    {
      std::ofstream out(password_file, std::ios::trunc);
      out << server->password << "\n";
    }
    ::chmod(password_file.c_str(), 0600);
    y += std::string("  driver: ") + (backend_ == Backend::kMariadb ? "mysql" : "postgresql") + "\n";
    y += "  host: " + server->host + "\n";
    y += "  port: " + std::to_string(port == 0 ? server->port : port) + "\n";
    y += "  name: " + name_ + "\n";
    y += "  user: " + server->user + "\n";
    y += "  password_file: " + password_file + "\n";
  }
  y += "  timeout: " + timeout + "\n";
  y += MappingYaml(schema_);
  return y;
}

}  // namespace wxpay::clitest
