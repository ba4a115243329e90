#include "daemon/daemon_it_fixture.h"

#include <unistd.h>

#include <atomic>

namespace wxpay::testing {

using broker_test::CollectDeliveries;
using broker_test::LoadRabbitEnv;
using broker_test::PollOf;
using broker_test::RabbitEnv;
using broker_test::TestConnectOptions;
using broker_test::UniqueName;

int64_t NowEpoch() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

std::string UniqueOrderNo(const std::string& prefix, const std::string& tag) {
  static std::atomic<int> counter{0};
  return prefix + std::to_string(getpid()) + "_" + std::to_string(++counter) + tag;
}

std::unique_ptr<Simulator> DaemonItFixture::sim_;

void DaemonItFixture::SetUpDaemonTest(const SimOptions& sim_options, const std::string& queue_tag,
                                      const std::string& retry_tag) {
  bin_ = RequireItEnv("WXPAY_TEST_BIN");
  pki_ = RequireItEnv("WXPAY_TEST_PKI");
  const std::string sim_path = RequireItEnv("WXPAY_TEST_SIM");
  ASSERT_FALSE(bin_.empty() || pki_.empty() || sim_path.empty());
  Result<RabbitEnv> env = LoadRabbitEnv();
  ASSERT_TRUE(env.ok()) << env.error().message;
  rabbit_ = *env;
  if (!sim_) sim_ = Simulator::Start(sim_options);  // one for the whole suite
  ASSERT_NE(sim_, nullptr) << "the WeChat Pay simulator did not start";
  queue_ = UniqueName(queue_tag);
  dlq_ = queue_ + ".dead";
  retry_exchange_ = UniqueName(retry_tag);
  db_ = std::make_unique<ShopDb>(dir_.path() + "/shop.db");
  state_dir_ = dir_.path() + "/state";
}

BrokerSession& DaemonItFixture::Admin() {
  if (!admin_ || admin_->closed()) {
    Result<std::unique_ptr<BrokerSession>> s = BrokerSession::Open(TestConnectOptions(rabbit_), 1, log_);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    if (s.ok()) admin_ = std::move(s).value();
  }
  return *admin_;
}

std::vector<Delivery> DaemonItFixture::Take(const std::string& queue, size_t count,
                                            std::chrono::milliseconds timeout) {
  Result<std::unique_ptr<BrokerSession>> s = BrokerSession::Open(TestConnectOptions(rabbit_), 1, log_);
  EXPECT_TRUE(s.ok());
  if (!s.ok()) return {};
  BrokerSession& session = **s;
  EXPECT_TRUE(session.StartConsuming(queue, 100).ok());
  std::vector<Delivery> got = CollectDeliveries(PollOf(session), count, timeout);
  for (const Delivery& d : got) EXPECT_TRUE(session.Ack(d.ref()).ok());
  return got;
}

std::string DaemonItFixture::RabbitmqYaml(const std::string& url, const std::string& queue,
                                          const std::string& heartbeat, int prefetch) const {
  std::string yaml;
  yaml += "rabbitmq:\n";
  yaml += "  url: " + url + "\n";
  yaml += "  queue: " + queue + "\n";
  yaml += "  dead_letter_queue: " + queue + ".dead\n";
  yaml += "  retry_exchange: " + retry_exchange_ + "\n";
  yaml += "  heartbeat: " + heartbeat + "\n";
  yaml += "  prefetch: " + std::to_string(prefetch) + "\n";
  return yaml;
}

std::string DaemonItFixture::DatabaseYaml() const {
  std::string yaml;
  yaml += "database:\n";
  yaml += "  driver: sqlite\n";
  yaml += "  path: " + db_->path() + "\n";
  yaml += "  orders:\n";
  yaml += "    order_no: order_no\n    status: status\n    amount: amount\n";
  yaml += "    created_at: created_at\n    created_at_format: epoch_s\n    version: version\n";
  yaml += "    status_values: {unpaid: \"1\", paid: \"2\", cancelled: \"5\"}\n";
  return yaml;
}

std::string DaemonItFixture::WechatpayYaml(bool plain_http) const {
  std::string yaml;
  yaml += "wechatpay:\n";
  yaml += "  base_url: " + sim_->base_url() + "\n";
  yaml += plain_http ? "  allow_plain_http: true\n" : "  ca_file: " + pki_ + "/ca.pem\n";
  yaml += "  mchid: \"1900000001\"\n";
  yaml += "  merchant_serial_no: " + PkiLine("merchant_serial") + "\n";
  yaml += "  private_key_file: " + pki_ + "/merchant_key.pem\n";
  yaml += "  public_key_file: " + pki_ + "/pub_key.pem\n";
  yaml += "  public_key_id: " + PkiLine("pub_key_id") + "\n";
  return yaml;
}

}  // namespace wxpay::testing
