// The fixture of the commands that work on the shop's database (reconcile,
// sweep): one simulator per test suite, the shop's tables recreated for every
// test on the backend under test, a config file and state_dir per test.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "cli/cli_config.h"
#include "cli/cli_runner.h"
#include "cli/sim_control.h"
#include "cli/shop_db.h"
#include "wechatpay/sim_fixture.h"
#include "wechatpay/test_data.h"

namespace wxpay::clitest {

// Long past: every payment window (order_ttl 1s) is over.
inline constexpr const char* kLongAgo = "2024-01-01 10:00:00";

class ShopCommandTest : public ::testing::TestWithParam<Backend> {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;

  // An order number unique in this test binary, e.g. "M7_notpay".
  std::string No(const std::string& tag) const;

  // The simulator's order (replaces it).
  void SimOrder(const std::string& no, const std::string& trade_state, int fen = 100,
                const std::string& extra_json = "") const;
  std::string SimTradeState(const std::string& no) const;
  void Fault(const std::string& fault, const std::string& no, const std::string& endpoint = "",
             const std::string& extra_json = "") const;
  // Exactly these many WeChat Pay calls were made for the order.
  void ExpectCalls(const std::string& no, int queries, int closes) const;
  SimControl::Calls Calls(const std::string& no) const { return ctl_->GetStats().Of(no); }

  // Writes config_ to a fresh file and returns its path.
  std::string WriteConfig();
  // Runs `reconcile NO [extra...]` / `sweep [extra...]` with the current config.
  CliResult Reconcile(const std::string& no, const std::vector<std::string>& extra = {});
  CliResult Sweep(const std::vector<std::string>& extra = {});
  // `reconcile NO` for each order at once; results in the same order.
  std::vector<CliResult> ReconcileAll(const std::vector<std::string>& nos);

  static std::unique_ptr<testing::Simulator> sim_;
  static std::unique_ptr<SimControl> ctl_;
  ShopDb* db_ = nullptr;
  testing::TempDir dir_;
  CliConfig config_;

 private:
  int config_count_ = 0;
  int seq_ = 0;
};

// The beginning of a decision line as SPEC §7 writes it:
// "order=NO shop=S wechat=W action=A result=R attempt=1 took=".
std::string DecisionPrefix(const std::string& no, const std::string& shop, const std::string& wechat,
                           const std::string& action, const std::string& result);

std::string BackendParamName(const ::testing::TestParamInfo<Backend>& info);

}  // namespace wxpay::clitest
