// The command line and the configuration file, end to end through the real
// binary: the shipped samples pass check-config, a broken file lists every
// error as FILE:LINE: KEY: ... (exit 78), usage errors exit 64, --help and
// --version exit 0, and check-config --connect reaches the database, WeChat
// Pay (the simulator) and RabbitMQ, refusing floating-point money columns.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "cli/cli_config.h"
#include "cli/cli_runner.h"
#include "cli/shop_db.h"
#include "wechatpay/sim_fixture.h"
#include "wechatpay/test_data.h"

namespace wxpay::clitest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The repository's etc/ directory: beside tests/sim/ ($WXPAY_TEST_SIM),
// else beside the binary's build directory, else ./etc.
std::string EtcDir() {
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates;
  if (const char* sim = std::getenv("WXPAY_TEST_SIM"); sim && *sim) {
    candidates.push_back(fs::path(sim).parent_path().parent_path().parent_path() / "etc");
  }
  if (const char* bin = std::getenv("WXPAY_TEST_BIN"); bin && *bin) {
    candidates.push_back(fs::path(bin).parent_path().parent_path() / "etc");
  }
  candidates.push_back(fs::current_path() / "etc");
  for (const fs::path& c : candidates) {
    if (fs::exists(c / "minimal.yaml")) return c.string();
  }
  ADD_FAILURE() << "cannot find the repository's etc/ (looked beside $WXPAY_TEST_SIM, $WXPAY_TEST_BIN "
                   "and in the current directory); run the tests through scripts/run-tests.sh";
  return "etc";
}

// What systemd's LoadCredential= would provide for a sample: every
// ${CREDENTIALS_DIRECTORY}/NAME it names, PEM files taken from the test PKI
// (the merchant key, the WeChat Pay public key or a platform certificate),
// anything else a dummy secret. Mode 0600, as the daemon expects.
void ProvideCredentials(const std::string& sample_text, const std::string& dir) {
  const std::string reference = "${CREDENTIALS_DIRECTORY}/";
  for (size_t at = sample_text.find(reference); at != std::string::npos;
       at = sample_text.find(reference, at + 1)) {
    size_t end = at + reference.size();
    while (end < sample_text.size() && (std::isalnum(static_cast<unsigned char>(sample_text[end])) ||
                                        std::strchr("_.-", sample_text[end]) != nullptr)) {
      ++end;
    }
    const std::string name = sample_text.substr(at + reference.size(), end - at - reference.size());
    const std::string file = dir + "/" + name;
    std::string content = "dummy-secret-for-tests\n";
    if (name.size() > 4 && name.substr(name.size() - 4) == ".pem") {
      const std::string source = name.find("pub") != std::string::npos    ? "pub_key.pem"
                                 : name.find("cert") != std::string::npos ? "platform_cert.pem"
                                                                          : "merchant_key.pem";
      content = ReadText(testing::PkiFile(source));
    }
    std::ofstream(file, std::ios::trunc) << content;
    ::chmod(file.c_str(), 0600);
  }
}

// Lines of stderr of the form "wxpay-reconciler: FILE:LINE: KEY: ...".
std::set<std::pair<int, std::string>> ErrorLocations(const CliResult& r, const std::string& file) {
  std::set<std::pair<int, std::string>> out;
  const std::string prefix = "wxpay-reconciler: " + file + ":";
  std::istringstream in(r.err);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) != 0) continue;
    size_t i = prefix.size();
    const size_t digits = i;
    while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i]))) ++i;
    if (i == digits || line.compare(i, 2, ": ") != 0) continue;
    const int number = std::stoi(line.substr(digits, i - digits));
    const size_t key = i + 2;
    const size_t key_end = line.find(": ", key);
    if (key_end == std::string::npos || key_end == key || key_end + 2 >= line.size()) continue;
    const std::string name = line.substr(key, key_end - key);
    if (name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_.") != std::string::npos) continue;
    out.insert({number, name});
  }
  return out;
}

class CliCommandLine : public ::testing::Test {
 protected:
  // A valid file for commands that need no server.
  std::string GoodConfig() {
    CliConfig c;
    c.database_yaml = UnusedSqliteYaml(dir_.path() + "/shop.db");
    c.wechat_base_url = "https://127.0.0.1:9";
    c.state_dir = dir_.path() + "/state";
    return dir_.Write("good.yaml", c.Render());
  }
  testing::TempDir dir_;
};

TEST_F(CliCommandLine, ShippedSamplesPassCheckConfig) {
  const std::string etc = EtcDir();
  for (const char* name : {"wxpay-reconciler.yaml", "minimal.yaml"}) {
    const std::string sample = etc + "/" + name;
    testing::TempDir credentials;
    ProvideCredentials(ReadText(sample), credentials.path());
    CliResult r = RunCli({"-c", sample, "check-config"},
                         CliEnv{{"CREDENTIALS_DIRECTORY=" + credentials.path()}, {"STATE_DIRECTORY"}});
    EXPECT_EQ(r.exit_code, 0) << name << "\n" << r.Describe();
    EXPECT_EQ(r.out, "configuration OK: " + sample + "\n") << name;

    // Without systemd's credentials directory every reference is an error
    // that names the file, the line and the key.
    CliResult bare = RunCli({"-c", sample, "check-config"}, CliEnv{{}, {"CREDENTIALS_DIRECTORY"}});
    EXPECT_EQ(bare.exit_code, 78) << name << "\n" << bare.Describe();
    EXPECT_FALSE(ErrorLocations(bare, sample).empty()) << bare.Describe();
    EXPECT_THAT(bare.err, HasSubstr("CREDENTIALS_DIRECTORY")) << name;
  }
}

TEST_F(CliCommandLine, BrokenFileListsEveryErrorWithFileLineAndKey) {
  const std::string broken = dir_.Write("broken.yaml", R"(rabbitmq:
  url: amqp://guest:guest@127.0.0.1:5672/%2f
  queue: order.expired
  dead_letter_queue: order.expired.dead
  prefetch: many
database:
  driver: sqlite
  path: /tmp/shop.db
  bogus_key: 1
  orders:
    order_no: number
    status: status
    amount: amount
    created_at: order_time
    status_values: {unpaid: "1", paid: "2", cancelled: "5"}
wechatpay:
  mchid: "1900000001"
  mchid: "1900000002"
  merchant_serial_no: 5157F09EFDC096DE15EBE81A47057A7232F1B8E1
  private_key_file: /nonexistent/apiclient_key.pem
  public_key_file: )" + testing::PkiFile("pub_key.pem") + R"(
  public_key_id: PUB_KEY_ID_0114232134912410000000000000000001
policy:
  userpaying_recheck: 10 parsecs
)");
  CliResult r = RunCli({"-c", broken, "check-config"});
  EXPECT_EQ(r.exit_code, 78) << r.Describe();
  EXPECT_EQ(r.out, "");
  const std::set<std::pair<int, std::string>> want = {
      {5, "rabbitmq.prefetch"},           {9, "database.bogus_key"},
      {18, "wechatpay.mchid"},            {20, "wechatpay.private_key_file"},
      {23, "policy.order_ttl"},           {24, "policy.userpaying_recheck"}};
  EXPECT_EQ(ErrorLocations(r, broken), want) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr(broken + ": configuration has 6 error(s)")) << r.Describe();

  // Every command reads the file first: none of them runs on a broken one.
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"query", "ORD000001"}, {"reconcile", "ORD000001"}, {"sweep"}}) {
    std::vector<std::string> args = {"-c", broken};
    args.insert(args.end(), command.begin(), command.end());
    CliResult c = RunCli(args);
    EXPECT_EQ(c.exit_code, 78) << command[0] << "\n" << c.Describe();
  }
}

TEST_F(CliCommandLine, UsageErrorsExit64BeforeReadingTheFile) {
  const std::vector<std::vector<std::string>> usages = {
      {"frobnicate"},
      {"query"},
      {"reconcile"},
      {"query", "ORD000001", "ORD000002"},
      {"--frobnicate"},
      {"query", "ORD000001", "--dry-run"},
      {"sweep", "--json"},
      {"check-config", "--dry-run"},
      {"reconcile", "ORD000001", "--connect"},
      {"-c"},
      {"enqueue", "ORD000001", "--delay", "soon"},
      {"redrive", "--limit", "0"},
  };
  for (const auto& usage : usages) {
    std::vector<std::string> args = {"-c", dir_.path() + "/no-such-file.yaml"};
    if (usage.front() == "-c") args.clear();
    args.insert(args.end(), usage.begin(), usage.end());
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 64) << ::testing::PrintToString(usage) << "\n" << r.Describe();
    EXPECT_EQ(r.out, "") << ::testing::PrintToString(usage);
    EXPECT_THAT(r.err, StartsWith("wxpay-reconciler: ")) << ::testing::PrintToString(usage);
    EXPECT_THAT(r.err, HasSubstr("--help")) << ::testing::PrintToString(usage);
  }
}

TEST_F(CliCommandLine, HelpAndVersionExitZeroWithoutAConfigFile) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--help"}, {"-h"}, {"-c", "/nonexistent/config.yaml", "query", "--help"}}) {
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    EXPECT_EQ(r.err, "");
    for (const char* word : {"usage:", " run ", "check-config [--connect]", "query ORDER_NO",
                             "reconcile ORDER_NO [--dry-run] [--json]", "sweep [--dry-run]", "setup-topology",
                             "enqueue ORDER_NO [--delay DURATION]", "redrive [--reason R] [--limit N]",
                             "--version", "WXPAY_RECONCILER_CONFIG", "/etc/wxpay-reconciler/config.yaml"}) {
      EXPECT_THAT(r.out, HasSubstr(word)) << ::testing::PrintToString(args);
    }
  }
  CliResult v = RunCli({"--version"});
  EXPECT_EQ(v.exit_code, 0) << v.Describe();
  const std::string prefix = "wxpay-reconciler ";
  ASSERT_THAT(v.out, StartsWith(prefix));
  const std::string version = v.out.substr(prefix.size());
  EXPECT_EQ(version.find_first_not_of("0123456789."), version.size() - 1) << v.out;
  EXPECT_EQ(std::count(version.begin(), version.end(), '.'), 2) << v.out;
  EXPECT_EQ(version.back(), '\n') << v.out;
  EXPECT_EQ(v.err, "");
}

TEST_F(CliCommandLine, ConfigFileComesFromDashCThenEnvironmentThenDefault) {
  const std::string good = GoodConfig();
  const std::string broken = dir_.Write("broken.yaml", "rabbitmq: [\n");

  CliResult from_env = RunCli({"check-config"}, CliEnv{{"WXPAY_RECONCILER_CONFIG=" + good}, {}});
  EXPECT_EQ(from_env.exit_code, 0) << from_env.Describe();
  EXPECT_EQ(from_env.out, "configuration OK: " + good + "\n");

  CliResult flag_wins = RunCli({"-c", good, "check-config"}, CliEnv{{"WXPAY_RECONCILER_CONFIG=" + broken}, {}});
  EXPECT_EQ(flag_wins.exit_code, 0) << flag_wins.Describe();
  EXPECT_EQ(flag_wins.out, "configuration OK: " + good + "\n");

  CliResult env_broken = RunCli({"check-config"}, CliEnv{{"WXPAY_RECONCILER_CONFIG=" + broken}, {}});
  EXPECT_EQ(env_broken.exit_code, 78) << env_broken.Describe();
  EXPECT_THAT(env_broken.err, HasSubstr(broken));

  CliResult fallback = RunCli({"check-config"});
  EXPECT_THAT(fallback.out + fallback.err, HasSubstr("/etc/wxpay-reconciler/config.yaml")) << fallback.Describe();
}

// ------------------------------------------------------------ --connect

class CliConnect : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { sim_ = testing::Simulator::Start(); }
  static void TearDownTestSuite() { sim_.reset(); }

  void SetUp() override {
    ASSERT_NE(sim_, nullptr) << "the simulator did not start";
    db_ = ShopDb::Shared(Backend::kSqlite);
    ASSERT_NE(db_, nullptr);
    TestSchema schema;
    schema.payments = true;
    db_->Reset(schema);
    config_.rabbitmq_url = testing::RequireEnv("WXPAY_TEST_AMQP_URL");
    config_.database_yaml = db_->Yaml(dir_.path());
    config_.wechat_base_url = sim_->base_url();
    config_.state_dir = dir_.path() + "/state";
  }

  std::string Write(const std::string& yaml) { return dir_.Write("config" + std::to_string(++n_) + ".yaml", yaml); }
  CliResult CheckConnect(const std::string& yaml) {
    const std::string file = Write(yaml);
    file_ = file;
    return RunCli({"-c", file, "check-config", "--connect"});
  }

  static std::unique_ptr<testing::Simulator> sim_;
  ShopDb* db_ = nullptr;
  testing::TempDir dir_;
  CliConfig config_;
  std::string file_;
  int n_ = 0;
};

std::unique_ptr<testing::Simulator> CliConnect::sim_;

TEST_F(CliConnect, ReachesDatabaseWechatPayAndBrokerAndSaysSo) {
  CliResult r = CheckConnect(config_.Render());
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("database: reachable, orders table and mapped columns OK\n"));
  EXPECT_THAT(r.out, HasSubstr("wechatpay: reachable, request signature accepted\n"));
  EXPECT_THAT(r.out, HasSubstr("broker: reachable"));
  EXPECT_THAT(r.out, ::testing::EndsWith("configuration OK: " + file_ + "\n"));
}

TEST_F(CliConnect, FloatingPointMoneyColumnIsRefused) {
  for (const char* type : {"FLOAT", "REAL", "DOUBLE"}) {
    TestSchema schema;
    schema.amount_unit = OrdersMapping::AmountUnit::kYuan;
    schema.amount_type = type;
    schema.payments = false;
    db_->Reset(schema);
    db_->InsertUnpaid("ORD000001", 100, "2024-01-01 10:00:00");
    config_.database_yaml = db_->Yaml(dir_.path());
    CliResult r = CheckConnect(config_.Render());
    EXPECT_EQ(r.exit_code, 78) << type << "\n" << r.Describe();
    EXPECT_THAT(r.err, HasSubstr("database.orders.amount: column 'amount' is " + std::string(type))) << r.err;
    EXPECT_THAT(r.err, HasSubstr("floating-point money is refused")) << r.err;
    EXPECT_THAT(r.out, Not(HasSubstr("configuration OK")));

    // The commands that would read the amount refuse the column too.
    for (const std::vector<std::string>& command :
         {std::vector<std::string>{"reconcile", "ORD000001"}, {"sweep"}}) {
      std::vector<std::string> args = {"-c", file_};
      args.insert(args.end(), command.begin(), command.end());
      CliResult c = RunCli(args);
      EXPECT_EQ(c.exit_code, 78) << type << " " << command[0] << "\n" << c.Describe();
      EXPECT_THAT(c.err, HasSubstr("floating-point money is refused")) << command[0];
    }
    EXPECT_EQ(db_->Status("ORD000001"), "1") << type;
  }
}

TEST_F(CliConnect, UnreachableDependenciesExit69AndEachIsReported) {
  // The shop's database file is missing: the other dependencies are still checked.
  config_.database_yaml = db_->Yaml(dir_.path(), "2s", 1);
  CliResult no_db = CheckConnect(config_.Render());
  EXPECT_EQ(no_db.exit_code, 69) << no_db.Describe();
  EXPECT_THAT(no_db.err, HasSubstr("cannot open"));
  EXPECT_THAT(no_db.out, HasSubstr("wechatpay: reachable"));
  EXPECT_THAT(no_db.out, HasSubstr("broker: reachable"));

  config_.database_yaml = db_->Yaml(dir_.path());
  config_.rabbitmq_url.clear();  // a port nobody listens on
  CliResult no_broker = CheckConnect(config_.Render());
  EXPECT_EQ(no_broker.exit_code, 69) << no_broker.Describe();
  EXPECT_THAT(no_broker.err, HasSubstr("broker: "));
  EXPECT_THAT(no_broker.out, HasSubstr("database: reachable"));

  // WeChat Pay refuses a request signed with the wrong key (401 SIGN_ERROR).
  config_.rabbitmq_url = testing::RequireEnv("WXPAY_TEST_AMQP_URL");
  std::string yaml = config_.Render();
  const std::string right_key = testing::PkiFile("merchant_key.pem");
  yaml.replace(yaml.find(right_key), right_key.size(), testing::PkiFile("other_key.pem"));
  CliResult wrong_key = CheckConnect(yaml);
  EXPECT_EQ(wrong_key.exit_code, 69) << wrong_key.Describe();
  EXPECT_THAT(wrong_key.err, HasSubstr("wechatpay: "));
  EXPECT_THAT(wrong_key.err, HasSubstr("SIGN_ERROR"));
}

}  // namespace
}  // namespace wxpay::clitest
