#include "cli/shop_fixture.h"

#include <atomic>

namespace wxpay::clitest {

std::unique_ptr<testing::Simulator> ShopCommandTest::sim_;
std::unique_ptr<SimControl> ShopCommandTest::ctl_;

namespace {

std::atomic<int> g_test_seq{0};

char BackendLetter(Backend b) {
  switch (b) {
    case Backend::kSqlite: return 'S';
    case Backend::kMariadb: return 'M';
    case Backend::kPostgresql: return 'P';
  }
  return 'X';
}

}  // namespace

void ShopCommandTest::SetUpTestSuite() {
  sim_ = testing::Simulator::Start();
  if (sim_) ctl_ = std::make_unique<SimControl>(sim_->base_url());
}

void ShopCommandTest::TearDownTestSuite() {
  ctl_.reset();
  sim_.reset();
}

void ShopCommandTest::SetUp() {
  ASSERT_NE(ctl_, nullptr) << "the simulator did not start";
  ctl_->ClearFaults();  // order numbers are never reused, so their stats need no reset
  seq_ = ++g_test_seq;

  db_ = ShopDb::Shared(GetParam());
  ASSERT_NE(db_, nullptr);
  TestSchema schema;
  schema.paid_at = true;
  schema.updated_at = true;
  schema.payments = true;
  db_->Reset(schema);

  config_ = CliConfig{};
  config_.database_yaml = db_->Yaml(dir_.path());
  config_.wechat_base_url = sim_->base_url();
  config_.state_dir = dir_.path() + "/state";
}

std::string ShopCommandTest::No(const std::string& tag) const {
  return std::string(1, BackendLetter(GetParam())) + std::to_string(seq_) + "_" + tag;
}

void ShopCommandTest::SimOrder(const std::string& no, const std::string& trade_state, int fen,
                               const std::string& extra_json) const {
  ctl_->PutOrder(no, R"({"trade_state":")" + trade_state + R"(","amount":)" + std::to_string(fen) +
                         (extra_json.empty() ? "" : "," + extra_json) + "}");
}

std::string ShopCommandTest::SimTradeState(const std::string& no) const { return ctl_->TradeState(no); }

void ShopCommandTest::Fault(const std::string& fault, const std::string& no, const std::string& endpoint,
                            const std::string& extra_json) const {
  std::string body = R"({"fault":")" + fault + R"(","order":")" + no + "\"";
  if (!endpoint.empty()) body += R"(,"endpoint":")" + endpoint + "\"";
  if (!extra_json.empty()) body += "," + extra_json;
  ctl_->AddFault(body + "}");
}

void ShopCommandTest::ExpectCalls(const std::string& no, int queries, int closes) const {
  const SimControl::Calls calls = Calls(no);
  EXPECT_EQ(calls.query, queries) << "queries of " << no;
  EXPECT_EQ(calls.close, closes) << "closes of " << no;
}

std::string ShopCommandTest::WriteConfig() {
  return dir_.Write("config" + std::to_string(++config_count_) + ".yaml", config_.Render());
}

CliResult ShopCommandTest::Reconcile(const std::string& no, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"-c", WriteConfig(), "reconcile", no};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunCli(args);
}

std::vector<CliResult> ShopCommandTest::ReconcileAll(const std::vector<std::string>& nos) {
  const std::string config = WriteConfig();
  std::vector<std::vector<std::string>> commands;
  for (const std::string& no : nos) commands.push_back({"-c", config, "reconcile", no});
  return RunCliAll(commands);
}

CliResult ShopCommandTest::Sweep(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"-c", WriteConfig(), "sweep"};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunCli(args);
}

std::string DecisionPrefix(const std::string& no, const std::string& shop, const std::string& wechat,
                           const std::string& action, const std::string& result) {
  return "order=" + no + " shop=" + shop + " wechat=" + wechat + " action=" + action +
         " result=" + result + " attempt=1 took=";
}

std::string BackendParamName(const ::testing::TestParamInfo<Backend>& info) {
  return BackendName(info.param);
}

}  // namespace wxpay::clitest
