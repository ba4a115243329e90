// The fixture of the service tests (service_it): the real binary
// ($WXPAY_TEST_BIN) run as `run` the way systemd runs it — NOTIFY_SOCKET
// pointing at a NotifyLog, WATCHDOG_USEC set — against the test RabbitMQ
// (WXPAY_TEST_AMQP_URL), a SQLite shop database in a temporary directory and
// the WeChat Pay simulator (WXPAY_TEST_SIM, WXPAY_TEST_PKI). Every test has
// its own queues, database, state directory and notify socket; conditions
// are awaited with deadlines.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "broker/broker_session.h"
#include "broker/rabbit_fixture.h"
#include "daemon/it_support.h"
#include "ops/log.h"
#include "service/notify_log.h"
#include "wechatpay/sim_fixture.h"

namespace wxpay::testing {

inline constexpr int kUnpaid = 1, kPaid = 2, kCancelled = 5;

// What varies between the tests' configuration files.
struct ServiceConfig {
  std::string amqp_url;           // "" = the test broker
  std::string database_path;      // "" = the fixture's shop database
  std::string start_timeout = "20s";
  std::string wechat_timeout = "2s";
  std::string log_level = "info";
  std::string metrics_textfile;   // "" = none
  std::string extra_yaml;         // appended as is (e.g. a deliberate mistake)
};

class ServiceIt : public ::testing::Test {
 protected:
  using SteadyTime = std::chrono::steady_clock::time_point;

  // The simulator is shared by the tests of this process.
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;
  void TearDown() override;

  // Writes a config file into the test's directory; returns its path.
  std::string WriteConfig(const std::string& name, const ServiceConfig& config);

  // Starts `run` with NOTIFY_SOCKET (a fresh notify()) and, when non-zero,
  // WATCHDOG_USEC, plus `env` ("NAME=value"). nullptr on failure.
  ChildProcess* StartDaemon(const std::string& config_path, std::chrono::microseconds watchdog,
                            const std::vector<std::string>& env = {});
  // StartDaemon, then waits for READY=1; fails the test (with the daemon's
  // output) when it does not come.
  ChildProcess* StartReady(const std::string& config_path, std::chrono::microseconds watchdog,
                           const std::vector<std::string>& env = {});
  // SIGTERM, then the exit code (-1 if it did not exit within 30 s).
  int StopDaemon();

  NotifyLog& notify() { return *notify_; }
  ChildProcess& daemon() { return *daemon_; }
  std::string Output() const { return daemon_ ? daemon_->Output() : ""; }
  // For assertion messages: the daemon's output and the notifications.
  std::string Describe() const;

  // An unpaid shop order of 100 fen created long enough ago, and WeChat
  // Pay's view of it (`trade_json`, e.g. {"trade_state":"NOTPAY","amount":100}).
  std::string NewOrder(const std::string& tag, const std::string& trade_json);
  // Publishes an order number to the work queue (persistent, confirmed).
  void Publish(const std::string& order_no);
  // Ready messages in a queue.
  uint32_t Depth(const std::string& queue);

  static std::unique_ptr<Simulator> sim_;
  TempDir dir_;
  std::string bin_, pki_;
  broker_test::RabbitEnv rabbit_;
  std::string queue_, dlq_, retry_exchange_;
  std::string config_;  // the default config file (WriteConfig with defaults)
  std::unique_ptr<ShopDb> db_;

 private:
  BrokerSession& Admin();

  CapturingLogger log_;
  std::unique_ptr<BrokerSession> admin_;
  std::unique_ptr<NotifyLog> notify_;
  std::unique_ptr<ChildProcess> daemon_;
  int starts_ = 0;
};

// Seconds since the Unix epoch, now.
int64_t NowEpochSeconds();

}  // namespace wxpay::testing
