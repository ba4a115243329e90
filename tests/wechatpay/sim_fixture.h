// The WeChat Pay simulator (tests/sim/wxpay_sim.py) as a child process for
// integration tests: started on a free port, driven through its /_sim/
// control API, killed by PID at teardown.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "wechatpay/test_data.h"

namespace wxpay::testing {

// The value of a required environment variable; fails the test (with how to
// run the integration tests) and returns "" when it is not set.
std::string RequireEnv(const char* name);

// A file of the test PKI ($WXPAY_TEST_PKI).
std::string PkiFile(std::string_view name);
std::string PkiLine(std::string_view name);  // e.g. "pub_key_id", trimmed

struct SimOptions {
  bool plain_http = false;
  std::string sign_with;      // "" = simulator default (platform)
  double idle_timeout_s = 0;  // 0 = simulator default (8 s)
};

struct ControlAnswer {
  long status = 0;
  std::string body;
};

class Simulator {
 public:
  // nullptr (with a test failure saying why) when it does not come up.
  static std::unique_ptr<Simulator> Start(const SimOptions& options = {});
  Simulator() = default;  // use Start()
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  int port() const { return port_; }
  std::string base_url() const;

  ControlAnswer Control(const std::string& method, const std::string& path,
                        const std::string& body = "") const;
  // Each fails the test if the simulator refuses.
  void PutOrder(const std::string& out_trade_no, const std::string& order_json) const;
  void AddFault(const std::string& fault_json) const;
  void ClearFaults() const;
  void ResetStats() const;
  void Configure(const std::string& settings_json) const;
  // From GET /_sim/stats: requests.<endpoint>, by_order.<no>.<endpoint>.
  int Requests(const std::string& endpoint) const;
  int OrderRequests(const std::string& out_trade_no, const std::string& endpoint) const;
  int Rejected(const std::string& code) const;
  std::string Log() const;

 private:
  bool WaitForPort();

  pid_t pid_ = -1;
  int port_ = 0;
  bool tls_ = true;
  TempDir dir_;
};

// A loopback port that nothing listens on (bound, then released).
int ClosedLoopbackPort();

}  // namespace wxpay::testing
