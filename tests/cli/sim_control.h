// The simulator's control API (tests/sim/README.md) over one kept-alive
// HTTPS connection: the CLI tests make hundreds of control calls, and a TLS
// handshake for each would cost more than the commands under test.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

namespace wxpay::clitest {

class SimControl {
 public:
  // `base_url` of a running simulator; its CA is $WXPAY_TEST_PKI/ca.pem.
  explicit SimControl(std::string base_url);
  ~SimControl();
  SimControl(const SimControl&) = delete;
  SimControl& operator=(const SimControl&) = delete;

  // Each fails the test when the simulator refuses.
  void PutOrder(const std::string& out_trade_no, const std::string& order_json);
  void AddFault(const std::string& fault_json);
  void ClearFaults();
  void ResetStats();
  void Configure(const std::string& settings_json);
  // The order's trade_state as the simulator holds it ("<missing>" if none).
  std::string TradeState(const std::string& out_trade_no);

  struct Calls {
    int query = 0;
    int close = 0;
  };
  // From one GET /_sim/stats: requests.{query,close} and by_order.
  struct Stats {
    Calls total;
    std::map<std::string, Calls> by_order;
    Calls Of(const std::string& out_trade_no) const;
  };
  Stats GetStats();

  // One request; {status, body}. Fails the test on a transport error.
  std::pair<long, std::string> Call(const std::string& method, const std::string& path,
                                    const std::string& body = "");

 private:
  struct Handle;
  std::string base_url_;
  std::string ca_file_;
  std::unique_ptr<Handle> handle_;
};

}  // namespace wxpay::clitest
