// Configuration files for the CLI tests: the YAML an operator would write,
// pointing at the simulator, the test PKI and a test database.
#pragma once

#include <string>
#include <vector>

namespace wxpay::clitest {

// The direct merchant and app id the simulator knows.
inline constexpr const char* kMchid = "1900000001";
inline constexpr const char* kAppid = "wxd678efh567hg6787";

struct CliConfig {
  std::string rabbitmq_url;   // "" = a loopback port nobody listens on
  std::string database_yaml;  // the whole `database:` section
  std::string wechat_base_url;
  bool platform_certificates = false;  // else WeChat Pay public-key mode
  std::vector<std::string> appids = {kAppid};
  std::string order_ttl = "1s";
  std::vector<std::string> policy;   // more lines under policy:, e.g. "not_found_action: park"
  std::vector<std::string> sweeper;  // lines under sweeper:, e.g. "grace: 10m"
  std::string state_dir;             // required

  // The YAML text. Paths come from $WXPAY_TEST_PKI.
  std::string Render() const;
};

// A SQLite `database:` section for a file that commands which never touch
// the database (query, check-config without --connect) need not find.
std::string UnusedSqliteYaml(const std::string& path);

}  // namespace wxpay::clitest
