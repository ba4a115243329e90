// In-memory fakes of the core's ports, for the engine's tests and anyone
// else's (daemon, sweeper, CLI). Both record every call and can be scripted;
// both are thread-safe like the real adapters must be.
#pragma once

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/order.h"
#include "core/ports.h"
#include "core/result.h"
#include "core/trade.h"

namespace wxpay::testing {

// ------------------------------------------------------------------ store

// Rows keyed by order_no. MarkPaid/MarkCancelled behave like the real
// conditional update: applied iff the row is unpaid at that moment; otherwise
// the row's current status is reported.
class FakeShopStore final : public ShopStore {
 public:
  enum class Op { kLoad, kMarkPaid, kMarkCancelled, kListUnpaid, kDatabaseNow };

  struct Write {
    Op op;
    std::string order_no;
    std::optional<Trade> trade;  // kMarkPaid
    bool applied = false;
  };

  // Raw status text written for each state (database.orders.status_values).
  std::string unpaid_status = "1", paid_status = "2", cancelled_status = "5";

  void Put(ShopOrder order) {
    std::lock_guard<std::mutex> lock(mu_);
    if (order.raw_status.empty()) order.raw_status = RawFor(order.state);
    std::string key = order.order_no;
    rows_[key] = std::move(order);
  }

  std::optional<ShopOrder> Get(std::string_view order_no) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = rows_.find(std::string(order_no));
    if (it == rows_.end()) return std::nullopt;
    return it->second;
  }

  // The next call of `op` fails with `error` (queued: several calls in order).
  void FailNext(Op op, StoreError error) {
    std::lock_guard<std::mutex> lock(mu_);
    failures_[op].push_back(std::move(error));
  }

  // Runs inside MarkPaid/MarkCancelled just before the conditional update,
  // with the stored row: a test can flip it to play a racing payment callback.
  void SetBeforeUpdate(std::function<void(ShopOrder& row)> hook) {
    std::lock_guard<std::mutex> lock(mu_);
    before_update_ = std::move(hook);
  }

  void SetDatabaseNow(TimePoint t) {
    std::lock_guard<std::mutex> lock(mu_);
    database_now_ = t;
  }

  int Count(Op op) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = counts_.find(op);
    return it == counts_.end() ? 0 : it->second;
  }
  int WriteCount() const { return Count(Op::kMarkPaid) + Count(Op::kMarkCancelled); }
  std::vector<Write> Writes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return writes_;
  }

  // ShopStore:
  StoreResult<std::optional<ShopOrder>> LoadOrder(std::string_view order_no) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[Op::kLoad];
    if (auto e = TakeFailure(Op::kLoad)) return *e;
    auto it = rows_.find(std::string(order_no));
    if (it == rows_.end()) return std::optional<ShopOrder>();
    return std::optional<ShopOrder>(it->second);
  }

  StoreResult<Transition> MarkPaid(const ShopOrder& order, const Trade& trade) override {
    return Update(Op::kMarkPaid, order, ShopState::kPaid, trade);
  }

  StoreResult<Transition> MarkCancelled(const ShopOrder& order) override {
    return Update(Op::kMarkCancelled, order, ShopState::kCancelled, std::nullopt);
  }

  StoreResult<std::vector<SweepItem>> ListUnpaid(TimePoint created_before, const SweepCursor& after,
                                                 int limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[Op::kListUnpaid];
    if (auto e = TakeFailure(Op::kListUnpaid)) return *e;
    std::vector<const ShopOrder*> unpaid;
    for (const auto& [no, row] : rows_) {
      if (row.state != ShopState::kUnpaid || row.created_at >= created_before) continue;
      if (!after.order_no.empty() || after.created_at != TimePoint{}) {
        if (std::pair(row.created_at, row.order_no) <= std::pair(after.created_at, after.order_no)) continue;
      }
      unpaid.push_back(&row);
    }
    std::sort(unpaid.begin(), unpaid.end(), [](const ShopOrder* a, const ShopOrder* b) {
      return std::pair(a->created_at, a->order_no) < std::pair(b->created_at, b->order_no);
    });
    std::vector<SweepItem> out;
    for (const ShopOrder* row : unpaid) {
      if (static_cast<int>(out.size()) >= limit) break;
      out.push_back(SweepItem{row->order_no, row->created_at});
    }
    return out;
  }

  StoreResult<TimePoint> DatabaseNow() override {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[Op::kDatabaseNow];
    if (auto e = TakeFailure(Op::kDatabaseNow)) return *e;
    return database_now_;
  }

 private:
  std::string RawFor(ShopState s) const {
    switch (s) {
      case ShopState::kUnpaid: return unpaid_status;
      case ShopState::kPaid: return paid_status;
      case ShopState::kCancelled: return cancelled_status;
      case ShopState::kOther: return "9";
    }
    return "9";
  }

  std::optional<StoreError> TakeFailure(Op op) {  // REQUIRES: mu_ held
    auto it = failures_.find(op);
    if (it == failures_.end() || it->second.empty()) return std::nullopt;
    StoreError e = std::move(it->second.front());
    it->second.pop_front();
    return e;
  }

  StoreResult<Transition> Update(Op op, const ShopOrder& order, ShopState target,
                                 std::optional<Trade> trade) {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[op];
    if (auto e = TakeFailure(op)) return *e;
    Transition t;
    auto it = rows_.find(order.order_no);
    if (it == rows_.end()) {
      writes_.push_back(Write{op, order.order_no, std::move(trade), false});
      return t;
    }
    if (before_update_) before_update_(it->second);
    if (it->second.state == ShopState::kUnpaid) {
      it->second.state = target;
      it->second.raw_status = RawFor(target);
      t.applied = true;
    }
    t.current = it->second.state;
    t.raw_status = it->second.raw_status;
    writes_.push_back(Write{op, order.order_no, std::move(trade), t.applied});
    return t;
  }

  mutable std::mutex mu_;
  std::map<std::string, ShopOrder> rows_;
  std::map<Op, std::deque<StoreError>> failures_;
  std::map<Op, int> counts_;
  std::vector<Write> writes_;
  std::function<void(ShopOrder&)> before_update_;
  TimePoint database_now_{};
};

// ---------------------------------------------------------------- gateway

// A small model of WeChat Pay: one trade per out_trade_no (absent = 404).
// Close moves NOTPAY/PAYERROR to CLOSED (204), answers ORDER_PAID for
// SUCCESS/REFUND, ORDER_CLOSED for CLOSED/REVOKED, USER_PAYING for USERPAYING
// and, like the real API, 204 for an order it does not know.
// Scripted answers (PushQuery/PushClose) take precedence, in order.
class FakePaymentGateway final : public PaymentGateway {
 public:
  enum class Endpoint { kQuery, kClose };
  struct Call {
    Endpoint endpoint;
    PaymentRef ref;
  };

  void SetTrade(Trade trade) {
    std::lock_guard<std::mutex> lock(mu_);
    trade.state = ParseTradeState(trade.trade_state);
    std::string key = trade.out_trade_no;
    trades_[key] = std::move(trade);
  }
  void SetTradeState(const std::string& out_trade_no, std::string trade_state) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& t = trades_[out_trade_no];
    t.out_trade_no = out_trade_no;
    t.trade_state = std::move(trade_state);
    t.state = ParseTradeState(t.trade_state);
  }
  void Remove(const std::string& out_trade_no) {
    std::lock_guard<std::mutex> lock(mu_);
    trades_.erase(out_trade_no);
  }
  std::optional<Trade> GetTrade(const std::string& out_trade_no) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = trades_.find(out_trade_no);
    if (it == trades_.end()) return std::nullopt;
    return it->second;
  }

  void PushQuery(const std::string& out_trade_no, Result<Trade, PayError> answer) {
    std::lock_guard<std::mutex> lock(mu_);
    query_script_[out_trade_no].push_back(std::move(answer));
  }
  void PushClose(const std::string& out_trade_no, Result<CloseAccepted, PayError> answer) {
    std::lock_guard<std::mutex> lock(mu_);
    close_script_[out_trade_no].push_back(std::move(answer));
  }
  // Runs at the start of every close, with the model's trades (e.g. the buyer
  // pays at the instant the close arrives).
  void SetOnClose(std::function<void(const PaymentRef&, std::map<std::string, Trade>& trades)> hook) {
    std::lock_guard<std::mutex> lock(mu_);
    on_close_ = std::move(hook);
  }

  std::vector<Call> Calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  int Count(Endpoint endpoint) const {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const Call& c : calls_) n += c.endpoint == endpoint;
    return n;
  }
  int QueryCount() const { return Count(Endpoint::kQuery); }
  int CloseCount() const { return Count(Endpoint::kClose); }
  int CallCount() const {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(calls_.size());
  }

  // PaymentGateway:
  Result<Trade, PayError> Query(const PaymentRef& ref) override {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back(Call{Endpoint::kQuery, ref});
    auto& script = query_script_[ref.out_trade_no];
    if (!script.empty()) {
      auto answer = std::move(script.front());
      script.pop_front();
      return answer;
    }
    auto it = trades_.find(ref.out_trade_no);
    if (it == trades_.end()) {
      return PayError{PayErrorKind::kNotFound, 404, "ORDER_NOT_EXIST", "order does not exist", "", false};
    }
    return it->second;
  }

  Result<CloseAccepted, PayError> Close(const PaymentRef& ref) override {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back(Call{Endpoint::kClose, ref});
    if (on_close_) on_close_(ref, trades_);
    auto& script = close_script_[ref.out_trade_no];
    if (!script.empty()) {
      auto answer = std::move(script.front());
      script.pop_front();
      return answer;
    }
    auto it = trades_.find(ref.out_trade_no);
    if (it == trades_.end()) return CloseAccepted{};
    Trade& t = it->second;
    switch (t.state) {
      case TradeState::kNotPay:
      case TradeState::kPayError:
        t.trade_state = "CLOSED";
        t.state = TradeState::kClosed;
        return CloseAccepted{};
      case TradeState::kSuccess:
      case TradeState::kRefund:
        return PayError{PayErrorKind::kPaid, 400, "ORDER_PAID", "order paid", "", false};
      case TradeState::kClosed:
      case TradeState::kRevoked:
        return PayError{PayErrorKind::kClosed, 400, "ORDER_CLOSED", "order closed", "", false};
      case TradeState::kUserPaying:
        return PayError{PayErrorKind::kUserPaying, 202, "USER_PAYING", "user paying", "", false};
      case TradeState::kUnknown:
        break;
    }
    return PayError{PayErrorKind::kTransient, 500, "SYSTEM_ERROR", "system error", "", true};
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, Trade> trades_;
  std::map<std::string, std::deque<Result<Trade, PayError>>> query_script_;
  std::map<std::string, std::deque<Result<CloseAccepted, PayError>>> close_script_;
  std::function<void(const PaymentRef&, std::map<std::string, Trade>&)> on_close_;
  std::vector<Call> calls_;
};

// ---------------------------------------------------------------- helpers

inline PayError MakePayError(PayErrorKind kind, int http_status, std::string code, bool system_wide) {
  PayError e;
  e.kind = kind;
  e.http_status = http_status;
  e.code = std::move(code);
  e.message = "simulated";
  e.system_wide = system_wide;
  return e;
}

// A verified trade that matches `order` for a direct merchant `mchid`.
inline Trade MakeTrade(const ShopOrder& order, std::string trade_state, std::string mchid = "1900000001",
                       std::string appid = "wxd678efh567hg6787") {
  Trade t;
  t.trade_state = std::move(trade_state);
  t.state = ParseTradeState(t.trade_state);
  t.amount_total = order.amount_fen;
  t.mchid = std::move(mchid);
  t.appid = std::move(appid);
  t.out_trade_no = order.out_trade_no;
  if (t.state == TradeState::kSuccess || t.state == TradeState::kRefund) {
    t.transaction_id = "4200000000" + order.out_trade_no;
    t.success_time = "2024-05-01T12:05:00+08:00";
  }
  t.raw_json = "{}";
  t.request_id = "REQ-" + order.out_trade_no;
  return t;
}

}  // namespace wxpay::testing
