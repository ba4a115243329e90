// Shared set-up for the engine's tests: a shop with a 15-minute payment
// window, a direct merchant, a manual clock 20 minutes after the orders were
// created, and the fakes.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "core/engine.h"
#include "core/fakes.h"

namespace wxpay::testing {

using namespace std::chrono_literals;

inline constexpr char kMchid[] = "1900000001";
inline constexpr char kAppid[] = "wxd678efh567hg6787";

class EngineTest : public ::testing::Test {
 protected:
  // 2024-05-01T04:00:00Z, an arbitrary fixed instant.
  const TimePoint created_ = TimePoint(std::chrono::seconds(1714536000));
  ManualClock clock_{created_ + 20min};
  FakeShopStore store_;
  FakePaymentGateway wechat_;
  EngineOptions options_ = DefaultOptions();

  static EngineOptions DefaultOptions() {
    EngineOptions o;
    o.order_ttl = 15min;
    o.userpaying_recheck = 60s;
    o.mchid = kMchid;
    o.retry = BackoffPolicy{10s, 10min, 2.0, 5};
    return o;
  }

  Engine& engine() {
    if (!engine_) engine_ = std::make_unique<Engine>(store_, wechat_, clock_, options_);
    return *engine_;
  }

  ShopOrder AddOrder(const std::string& no, ShopState state = ShopState::kUnpaid, int64_t amount = 100) {
    ShopOrder o;
    o.order_no = no;
    o.out_trade_no = no;
    o.state = state;
    o.amount_fen = amount;
    o.created_at = created_;
    store_.Put(o);
    return *store_.Get(no);
  }

  // An unpaid order that WeChat Pay knows in `trade_state`, matching it.
  ShopOrder AddUnpaidWithTrade(const std::string& no, const std::string& trade_state) {
    ShopOrder o = AddOrder(no);
    wechat_.SetTrade(MakeTrade(o, trade_state, kMchid, kAppid));
    return o;
  }

  Decision Process(const std::string& no, int attempt = 1) { return engine().Process(no, attempt); }

  ShopState StateOf(const std::string& no) { return store_.Get(no)->state; }

 private:
  std::unique_ptr<Engine> engine_;
};

}  // namespace wxpay::testing
