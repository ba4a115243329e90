// `query ORDER_NO` end to end: the real binary against the simulator over
// HTTPS (ca_file = the test CA), in WeChat Pay public-key mode and in
// platform-certificate mode. A verified answer is printed as one JSON object
// (exit 0), a 404 as {"out_trade_no","exists":false,"code"}; an answer that
// cannot be verified is refused with exit 69 (SPEC §4).
#include <cjson/cJSON.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "cli/cli_config.h"
#include "cli/cli_runner.h"
#include "cli/sim_control.h"
#include "wechatpay/sim_fixture.h"
#include "wechatpay/test_data.h"

namespace wxpay::clitest {
namespace {

using ::testing::HasSubstr;
using JsonPtr = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;

enum class KeyMode { kPublicKey, kPlatformCertificates };

class CliQuery : public ::testing::TestWithParam<KeyMode> {
 protected:
  static void SetUpTestSuite() {
    sim_ = testing::Simulator::Start();
    if (sim_) ctl_ = std::make_unique<SimControl>(sim_->base_url());
  }
  static void TearDownTestSuite() {
    ctl_.reset();
    sim_.reset();
  }

  void SetUp() override {
    ASSERT_NE(ctl_, nullptr) << "the simulator did not start";
    ctl_->ClearFaults();
    ctl_->Configure(R"({"clock_offset_s":0})");
    static int seq = 0;
    prefix_ = std::string(GetParam() == KeyMode::kPublicKey ? "K" : "C") + std::to_string(++seq) + "_";
    CliConfig config;
    config.database_yaml = UnusedSqliteYaml(dir_.path() + "/shop.db");
    config.wechat_base_url = sim_->base_url();
    config.platform_certificates = GetParam() == KeyMode::kPlatformCertificates;
    config.state_dir = dir_.path() + "/state";
    config_file_ = dir_.Write("config.yaml", config.Render());
  }

  std::string No(const std::string& tag) const { return prefix_ + tag; }
  CliResult Query(const std::string& no) { return RunCli({"-c", config_file_, "query", no}); }

  // stdout as one JSON object on one line; null (and a failure) otherwise.
  static JsonPtr OneObject(const CliResult& r) {
    EXPECT_EQ(r.OutLines().size(), 1u) << r.Describe();
    JsonPtr json(cJSON_Parse(r.out.c_str()), cJSON_Delete);
    EXPECT_TRUE(cJSON_IsObject(json.get())) << r.Describe();
    return cJSON_IsObject(json.get()) ? std::move(json) : JsonPtr(nullptr, cJSON_Delete);
  }
  static std::string Str(const cJSON* object, const char* key) {
    const cJSON* v = cJSON_GetObjectItemCaseSensitive(object, key);
    return cJSON_IsString(v) ? v->valuestring : "<not a string>";
  }

  static std::unique_ptr<testing::Simulator> sim_;
  static std::unique_ptr<SimControl> ctl_;
  testing::TempDir dir_;
  std::string prefix_;
  std::string config_file_;
};

std::unique_ptr<testing::Simulator> CliQuery::sim_;
std::unique_ptr<SimControl> CliQuery::ctl_;

TEST_P(CliQuery, PrintsTheVerifiedAnswerForEveryStateAsOneJsonObject) {
  const std::string paid = No("success"), unpaid = No("notpay"), closed = No("closed");
  ctl_->PutOrder(paid, R"({"trade_state":"SUCCESS","amount":1234,"transaction_id":"4200000001202401010000000007"})");
  ctl_->PutOrder(unpaid, R"({"trade_state":"NOTPAY","amount":250})");
  ctl_->PutOrder(closed, R"({"trade_state":"CLOSED","amount":99})");
  struct Case {
    std::string no, state;
    int fen;
  };
  for (const Case& c : {Case{paid, "SUCCESS", 1234}, Case{unpaid, "NOTPAY", 250}, Case{closed, "CLOSED", 99}}) {
    CliResult r = Query(c.no);
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    JsonPtr json = OneObject(r);
    if (!json) continue;
    EXPECT_EQ(Str(json.get(), "out_trade_no"), c.no);
    EXPECT_EQ(Str(json.get(), "trade_state"), c.state);
    EXPECT_EQ(Str(json.get(), "mchid"), kMchid);
    EXPECT_EQ(Str(json.get(), "appid"), kAppid);
    EXPECT_TRUE(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(json.get(), "trade_state_desc")))
        << "WeChat Pay's fields are kept as received";
    const cJSON* amount = cJSON_GetObjectItemCaseSensitive(json.get(), "amount");
    const cJSON* total = cJSON_GetObjectItemCaseSensitive(amount, "total");
    EXPECT_TRUE(cJSON_IsNumber(total) && total->valueint == c.fen) << r.out;
    EXPECT_TRUE(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(json.get(), "verified"))) << r.out;
  }
  CliResult again = Query(paid);
  JsonPtr json = OneObject(again);
  if (json) {
    EXPECT_EQ(Str(json.get(), "transaction_id"), "4200000001202401010000000007");
  }

  // One request per command, and a query changes nothing.
  const SimControl::Stats stats = ctl_->GetStats();
  EXPECT_EQ(stats.Of(paid).query, 2);
  EXPECT_EQ(stats.Of(unpaid).query, 1);
  EXPECT_EQ(stats.Of(closed).query, 1);
  EXPECT_EQ(stats.Of(unpaid).close, 0);
  EXPECT_EQ(ctl_->TradeState(unpaid), "NOTPAY");
}

TEST_P(CliQuery, UnknownOrderPrintsExistsFalseAndExitsZero) {
  const std::string no = No("absent");
  CliResult r = Query(no);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  JsonPtr json = OneObject(r);
  ASSERT_TRUE(json);
  EXPECT_EQ(cJSON_GetArraySize(json.get()), 3) << r.out;
  EXPECT_EQ(Str(json.get(), "out_trade_no"), no);
  EXPECT_TRUE(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(json.get(), "exists"))) << r.out;
  EXPECT_EQ(Str(json.get(), "code"), "ORDER_NOT_EXIST");
  EXPECT_EQ(ctl_->GetStats().Of(no).query, 1);
}

TEST_P(CliQuery, AnswerThatCannotBeVerifiedIsRefused) {
  struct Case {
    std::string fault, says;
  };
  const Case cases[] = {{"tamper_signature", "signature"},
                        {"stale_timestamp", "timestamp"},
                        {"unknown_serial", "serial"},
                        {"signtest", "SIGNTEST"}};
  for (const Case& c : cases) {
    const std::string no = No(c.fault);
    ctl_->PutOrder(no, R"({"trade_state":"SUCCESS","amount":100})");
    ctl_->AddFault(R"({"fault":")" + c.fault + R"(","order":")" + no + R"("})");
    CliResult r = Query(no);
    EXPECT_EQ(r.exit_code, 69) << c.fault << "\n" << r.Describe();
    EXPECT_EQ(r.out, "") << c.fault << ": nothing unverified is printed";
    EXPECT_THAT(r.err, HasSubstr("wxpay-reconciler: query " + no + ": ")) << c.fault;
    EXPECT_THAT(r.err, HasSubstr(c.says)) << c.fault;
    EXPECT_EQ(ctl_->GetStats().Of(no).query, 1) << c.fault << ": a signed request is sent once";
  }
}

TEST_P(CliQuery, WechatPayFailuresAreUnavailable) {
  const std::string failing = No("http500"), dropped = No("drop");
  ctl_->PutOrder(failing, R"({"trade_state":"SUCCESS","amount":100})");
  ctl_->PutOrder(dropped, R"({"trade_state":"SUCCESS","amount":100})");
  ctl_->AddFault(R"({"fault":"http500","order":")" + failing + R"("})");
  ctl_->AddFault(R"({"fault":"drop","order":")" + dropped + R"("})");
  for (const std::string& no : {failing, dropped}) {
    CliResult r = Query(no);
    EXPECT_EQ(r.exit_code, 69) << r.Describe();
    EXPECT_EQ(r.out, "");
    EXPECT_THAT(r.err, HasSubstr("wxpay-reconciler: query " + no + ": "));
    EXPECT_EQ(ctl_->GetStats().Of(no).query, 1) << no << ": no transport-level resend";
  }
}

TEST_P(CliQuery, ClockSkewIsRefusedSayingSo) {
  const std::string no = No("skew");
  ctl_->PutOrder(no, R"({"trade_state":"SUCCESS","amount":100})");
  ctl_->Configure(R"({"clock_offset_s":400})");
  CliResult r = Query(no);
  ctl_->Configure(R"({"clock_offset_s":0})");
  EXPECT_EQ(r.exit_code, 69) << r.Describe();
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("wxpay-reconciler: query " + no + ": "));
  EXPECT_THAT(r.err, ::testing::AnyOf(HasSubstr("clock"), HasSubstr("SIGN_ERROR"))) << r.err;
}

TEST_P(CliQuery, InvalidOrderNumberIsBadDataWithoutRequest) {
  const int before = ctl_->GetStats().total.query;
  for (const std::string bad : {"12345", "ORD 000001", "ORD/../000001", "ORD%2F00001",
                                "ORD000000000000000000000000000001", "ORD000001\nwxpay-reconciler: forged",
                                "ORD000001\x1b[2J"}) {
    CliResult r = Query(bad);
    EXPECT_EQ(r.exit_code, 65) << bad << "\n" << r.Describe();
    EXPECT_EQ(r.out, "") << bad;
    EXPECT_THAT(r.err, HasSubstr("not a valid order number")) << bad;
    // One line, with the input escaped: it can forge no log line.
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
  }
  EXPECT_EQ(ctl_->GetStats().total.query, before);
}

std::string ModeName(const ::testing::TestParamInfo<KeyMode>& mode) {
  return mode.param == KeyMode::kPublicKey ? "public_key" : "platform_certificates";
}

INSTANTIATE_TEST_SUITE_P(Modes, CliQuery,
                         ::testing::Values(KeyMode::kPublicKey, KeyMode::kPlatformCertificates), ModeName);

}  // namespace
}  // namespace wxpay::clitest
