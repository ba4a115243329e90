// Shared set-up for the delivery loop's tests: the core fakes behind a gate,
// a FakeBroker, a real StateStore in a temporary directory, short timers, and
// a loop driven from the test thread with deadlines (no sleeps).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/engine.h"
#include "core/fakes.h"
#include "core/wechat_breaker.h"
#include "daemon/delivery_loop.h"
#include "daemon/fake_broker.h"
#include "daemon/gated_gateway.h"
#include "daemon/order_claims.h"
#include "daemon/worker_pool.h"
#include "ops/health.h"
#include "ops/log.h"
#include "ops/metrics.h"
#include "ops/temp_dir.h"
#include "store/state_store.h"

namespace wxpay::testing {

using namespace std::chrono_literals;

inline constexpr char kQueue[] = "order.expired";
inline constexpr char kDeadLetters[] = "order.expired.dead";
inline constexpr char kRetryExchange[] = "wxpay-reconciler.retry";

class LoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = StateStore::Open(dir_.path() + "/state", clock_);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    state_ = std::move(opened).value();
    options_.rabbit.queue = kQueue;
    options_.rabbit.dead_letter_queue = kDeadLetters;
    options_.rabbit.retry_exchange = kRetryExchange;
    options_.tiers = {1s, 10s, 60s, 600s};
    options_.concurrency = 4;
    options_.database_probe = ReconnectPolicy{20ms, 100ms, 2.0};
    options_.publish_retry = ReconnectPolicy{20ms, 100ms, 2.0};
    engine_options_.order_ttl = 15min;
    engine_options_.userpaying_recheck = 60s;
    engine_options_.mchid = "1900000001";
    engine_options_.retry = BackoffPolicy{10s, 10min, 2.0, 5};
  }

  void TearDown() override {
    if (workers_) workers_->Shutdown();
  }

  // Builds the loop with the options as they are now.
  DeliveryLoop& loop() {
    if (!loop_) {
      engine_ = std::make_unique<Engine>(store_, gateway_, clock_, engine_options_);
      breaker_ = std::make_unique<WechatBreaker>(breaker_options_);
      workers_ = std::make_unique<WorkerPool>(options_.concurrency + 2);
      loop_ = std::make_unique<DeliveryLoop>(
          DeliveryLoopDeps{broker_, *engine_, store_, gateway_, *state_, *breaker_, claims_, *workers_, health_,
                           metrics_, log_, clock_},
          options_);
    }
    return *loop_;
  }

  // An unpaid order created an hour ago (its payment window is over), known
  // to WeChat Pay in `trade_state` ("" = unknown there: 404).
  ShopOrder AddUnpaid(const std::string& no, const std::string& trade_state, int64_t amount = 100) {
    ShopOrder o;
    o.order_no = no;
    o.out_trade_no = no;
    o.state = ShopState::kUnpaid;
    o.amount_fen = amount;
    o.created_at = clock_.Now() - 1h;
    store_.Put(o);
    if (!trade_state.empty()) wechat_.SetTrade(MakeTrade(o, trade_state));
    return o;
  }

  // Steps the loop until `done` holds; false after `timeout`.
  bool RunUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      loop().Step(5ms);
    }
    return true;
  }
  // Steps the loop for a while (to show that something does NOT happen).
  void RunFor(std::chrono::milliseconds period) {
    const auto until = std::chrono::steady_clock::now() + period;
    while (std::chrono::steady_clock::now() < until) loop().Step(5ms);
  }

  ShopState StateOf(const std::string& no) const { return store_.Get(no)->state; }

  SystemClock clock_;
  TempDir dir_;
  FakeShopStore store_;
  FakePaymentGateway wechat_;
  GatedGateway gateway_{wechat_};
  FakeBroker broker_;
  OrderClaims claims_;
  Health health_{clock_};
  Metrics metrics_;
  CapturingLogger log_;
  std::unique_ptr<StateStore> state_;
  EngineOptions engine_options_;
  WechatBreakerOptions breaker_options_;
  DeliveryLoopOptions options_;

  std::unique_ptr<Engine> engine_;
  std::unique_ptr<WechatBreaker> breaker_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<DeliveryLoop> loop_;
};

}  // namespace wxpay::testing
