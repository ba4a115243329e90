// A PaymentGateway wrapper for the daemon's tests: calls for out_trade_no
// values the test closed the gate for wait until it opens again, so a test
// can hold an order "in flight" on a worker; it also records how many calls
// ran at once per order.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "core/ports.h"

namespace wxpay::testing {

class GatedGateway final : public PaymentGateway {
 public:
  explicit GatedGateway(PaymentGateway& inner) : inner_(inner) {}

  void Close(const std::string& out_trade_no) {
    std::lock_guard<std::mutex> lock(mu_);
    closed_.insert(out_trade_no);
  }
  void Open(const std::string& out_trade_no) {
    std::lock_guard<std::mutex> lock(mu_);
    closed_.erase(out_trade_no);
    changed_.notify_all();
  }
  // Calls that have reached the gate (waiting or passed) for this order.
  int Entered(const std::string& out_trade_no) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entered_.find(out_trade_no);
    return it == entered_.end() ? 0 : it->second;
  }
  int MaxConcurrent(const std::string& out_trade_no) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = max_concurrent_.find(out_trade_no);
    return it == max_concurrent_.end() ? 0 : it->second;
  }
  bool WaitEntered(const std::string& out_trade_no, int count, std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, timeout, [&] {
      auto it = entered_.find(out_trade_no);
      return it != entered_.end() && it->second >= count;
    });
  }

  Result<Trade, PayError> Query(const PaymentRef& ref) override {
    Enter(ref.out_trade_no);
    auto answer = inner_.Query(ref);
    Leave(ref.out_trade_no);
    return answer;
  }
  Result<CloseAccepted, PayError> Close(const PaymentRef& ref) override {
    Enter(ref.out_trade_no);
    auto answer = inner_.Close(ref);
    Leave(ref.out_trade_no);
    return answer;
  }

 private:
  void Enter(const std::string& no) {
    std::unique_lock<std::mutex> lock(mu_);
    ++entered_[no];
    const int now_running = ++running_[no];
    max_concurrent_[no] = std::max(max_concurrent_[no], now_running);
    changed_.notify_all();
    changed_.wait(lock, [&] { return closed_.count(no) == 0; });
  }
  void Leave(const std::string& no) {
    std::lock_guard<std::mutex> lock(mu_);
    --running_[no];
  }

  PaymentGateway& inner_;
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::set<std::string> closed_;
  std::map<std::string, int> entered_;
  std::map<std::string, int> running_;
  std::map<std::string, int> max_concurrent_;
};

}  // namespace wxpay::testing
