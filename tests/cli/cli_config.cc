#include "cli/cli_config.h"

#include "wechatpay/sim_fixture.h"

namespace wxpay::clitest {
namespace {

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

void Section(std::string& out, const char* name, const std::vector<std::string>& lines) {
  if (lines.empty()) return;
  out += std::string(name) + ":\n";
  for (const std::string& l : lines) out += "  " + l + "\n";
}

}  // namespace

std::string CliConfig::Render() const {
  using testing::PkiFile;
  using testing::PkiLine;
  std::string y;
  y += "rabbitmq:\n";
  y += "  url: " +
       (rabbitmq_url.empty()
            ? "amqp://guest:guest@127.0.0.1:" + std::to_string(testing::ClosedLoopbackPort()) + "/%2f"
            : rabbitmq_url) +
       "\n";
  y += "  queue: order.expired\n";
  y += "  dead_letter_queue: order.expired.dead\n";
  y += database_yaml;
  y += "wechatpay:\n";
  y += "  base_url: " + wechat_base_url + "\n";
  y += "  mchid: " + Quoted(kMchid) + "\n";
  if (!appids.empty()) {
    y += "  appid:\n";
    for (const std::string& a : appids) y += "    - " + a + "\n";
  }
  y += "  merchant_serial_no: " + PkiLine("merchant_serial") + "\n";
  y += "  private_key_file: " + PkiFile("merchant_key.pem") + "\n";
  if (platform_certificates) {
    y += "  platform_certificates:\n";
    y += "    - " + PkiFile("platform_cert.pem") + "\n";
    y += "    - " + PkiFile("platform2_cert.pem") + "\n";
  } else {
    y += "  public_key_file: " + PkiFile("pub_key.pem") + "\n";
    y += "  public_key_id: " + PkiLine("pub_key_id") + "\n";
  }
  y += "  ca_file: " + PkiFile("ca.pem") + "\n";
  y += "  timeout: 5s\n";
  std::vector<std::string> policy_lines = {"order_ttl: " + order_ttl};
  policy_lines.insert(policy_lines.end(), policy.begin(), policy.end());
  Section(y, "policy", policy_lines);
  Section(y, "sweeper", sweeper);
  y += "state_dir: " + state_dir + "\n";
  return y;
}

std::string UnusedSqliteYaml(const std::string& path) {
  return "database:\n"
         "  driver: sqlite\n"
         "  path: " + path + "\n"
         "  orders:\n"
         "    table: wx_orders\n"
         "    order_no: number\n"
         "    status: status\n"
         "    amount: amount\n"
         "    created_at: order_time\n"
         "    status_values: {unpaid: \"1\", paid: \"2\", cancelled: \"5\"}\n";
}

}  // namespace wxpay::clitest
