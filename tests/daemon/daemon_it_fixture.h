// What the daemon's two integration tests (daemon_it, daemon_batch_it) set up
// the same way: the environment they need (WXPAY_TEST_BIN, WXPAY_TEST_PKI,
// WXPAY_TEST_SIM, the RabbitMQ server), one simulator for the suite, the
// test's queue names, SQLite shop database and state directory, an admin
// broker session, and the sections of the daemon's config that point at them.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "broker/broker_session.h"
#include "broker/rabbit_fixture.h"
#include "daemon/it_support.h"
#include "ops/log.h"
#include "wechatpay/sim_fixture.h"

namespace wxpay::testing {

int64_t NowEpoch();
// How often `needle` occurs in `text`.
size_t Count(const std::string& text, const std::string& needle);
// "<prefix><pid>_<n><tag>": unique across the tests of this process (they
// share one simulator).
std::string UniqueOrderNo(const std::string& prefix, const std::string& tag);

class DaemonItFixture : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { sim_.reset(); }

  // Fails the test (never skips) with how to run it when a piece is missing;
  // the caller's SetUp returns on HasFatalFailure(). Starts the simulator
  // with `sim_options` on first use; names the queue "<queue_tag>-..." and the
  // retry exchange "<retry_tag>-...".
  void SetUpDaemonTest(const SimOptions& sim_options, const std::string& queue_tag,
                       const std::string& retry_tag);

  // A broker session for checks and cleanup, opened again when closed.
  BrokerSession& Admin();
  // Takes up to `count` messages from `queue` (acked), waiting at most `timeout`.
  std::vector<Delivery> Take(const std::string& queue, size_t count, std::chrono::milliseconds timeout);

  // Config sections. rabbitmq: `queue`, its dead letters in "<queue>.dead",
  // the test's retry exchange.
  std::string RabbitmqYaml(const std::string& url, const std::string& queue, const std::string& heartbeat,
                           int prefetch) const;
  // database: the shop's SQLite orders table (ShopDb in it_support.h).
  std::string DatabaseYaml() const;
  // wechatpay: the simulator, merchant 1900000001 with the test PKI, verified
  // with WeChat Pay's public key; over plain HTTP or TLS trusting the test CA.
  std::string WechatpayYaml(bool plain_http) const;

  static std::unique_ptr<Simulator> sim_;
  TempDir dir_;
  std::string bin_, pki_;
  broker_test::RabbitEnv rabbit_;
  CapturingLogger log_;
  std::unique_ptr<BrokerSession> admin_;
  std::string queue_, dlq_, retry_exchange_, state_dir_;
  std::unique_ptr<ShopDb> db_;
  int starts_ = 0;  // daemon starts, for unique notify socket names
};

}  // namespace wxpay::testing
