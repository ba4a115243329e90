#include "service/service_fixture.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <sstream>

#include "broker/delay_tiers.h"
#include "broker/message.h"
#include "config/loader.h"

namespace wxpay::testing {

using broker_test::LoadRabbitEnv;
using broker_test::TestConnectOptions;
using broker_test::UniqueName;

std::unique_ptr<Simulator> ServiceIt::sim_;

int64_t NowEpochSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void ServiceIt::SetUpTestSuite() {
  // The daemon must see only what each test gives it: not the journal, the
  // service manager or the watchdog of whatever started the tests.
  for (const char* name : {"JOURNAL_STREAM", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
                           "WXPAY_RECONCILER_CONFIG"}) {
    ::unsetenv(name);
  }
  sim_ = Simulator::Start();
}

void ServiceIt::TearDownTestSuite() { sim_.reset(); }

void ServiceIt::SetUp() {
  ASSERT_NE(sim_, nullptr) << "the WeChat Pay simulator did not start";
  bin_ = RequireItEnv("WXPAY_TEST_BIN");
  pki_ = RequireItEnv("WXPAY_TEST_PKI");
  ASSERT_FALSE(bin_.empty() || pki_.empty());
  Result<broker_test::RabbitEnv> env = LoadRabbitEnv();
  ASSERT_TRUE(env.ok()) << env.error().message;
  rabbit_ = *env;
  queue_ = UniqueName("svc");
  dlq_ = queue_ + ".dead";
  retry_exchange_ = UniqueName("svc-retry");
  db_ = std::make_unique<ShopDb>(dir_.path() + "/shop.db");
  config_ = WriteConfig("config.yaml", ServiceConfig{});
}

void ServiceIt::TearDown() {
  daemon_.reset();  // SIGKILL if a test left it running
  notify_.reset();
  if (sim_) sim_->ClearFaults();
  if (rabbit_.url.empty() || queue_.empty()) return;  // SetUp failed
  std::vector<std::string> queues = {queue_, dlq_};
  Result<LoadedConfig, std::vector<std::string>> loaded = LoadConfigFile(config_, ProcessEnv());
  if (loaded.ok()) {
    for (Millis tier : ComputeDelayTiers(loaded->config)) queues.push_back(RetryQueueName(queue_, tier));
  }
  BrokerSession& admin = Admin();
  for (const std::string& q : queues) (void)admin.DeleteQueue(q);
  (void)admin.DeleteExchange(retry_exchange_);
}

BrokerSession& ServiceIt::Admin() {
  if (!admin_ || admin_->closed()) {
    Result<std::unique_ptr<BrokerSession>> s = BrokerSession::Open(TestConnectOptions(rabbit_), 1, log_);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    if (s.ok()) admin_ = std::move(s).value();
  }
  return *admin_;
}

std::string ServiceIt::WriteConfig(const std::string& name, const ServiceConfig& c) {
  std::ostringstream y;
  y << "rabbitmq:\n"
    << "  url: " << (c.amqp_url.empty() ? rabbit_.url : c.amqp_url) << "\n"
    << "  queue: " << queue_ << "\n"
    << "  dead_letter_queue: " << dlq_ << "\n"
    << "  retry_exchange: " << retry_exchange_ << "\n"
    << "  heartbeat: 5s\n"
    << "  prefetch: 16\n"
    << "database:\n"
    << "  driver: sqlite\n"
    << "  path: " << (c.database_path.empty() ? db_->path() : c.database_path) << "\n"
    << "  timeout: 1s\n"
    << "  orders:\n"
    << "    order_no: order_no\n    status: status\n    amount: amount\n"
    << "    created_at: created_at\n    created_at_format: epoch_s\n    version: version\n"
    << "    status_values: {unpaid: \"1\", paid: \"2\", cancelled: \"5\"}\n"
    << "wechatpay:\n"
    << "  base_url: " << sim_->base_url() << "\n"
    << "  ca_file: " << pki_ << "/ca.pem\n"
    << "  mchid: \"1900000001\"\n"
    << "  merchant_serial_no: " << PkiLine("merchant_serial") << "\n"
    << "  private_key_file: " << pki_ << "/merchant_key.pem\n"
    << "  public_key_file: " << pki_ << "/pub_key.pem\n"
    << "  public_key_id: " << PkiLine("pub_key_id") << "\n"
    << "  timeout: " << c.wechat_timeout << "\n"
    << "policy:\n"
    << "  order_ttl: 1s\n  userpaying_recheck: 1s\n"
    << "  retry: {initial: 1s, max: 2s}\n"
    << "  concurrency: 2\n  drain_timeout: 8s\n"
    << "  start_timeout: " << c.start_timeout << "\n"
    << "sweeper:\n  enabled: false\n"
    << "state_dir: " << dir_.path() << "/state\n";
  if (!c.metrics_textfile.empty()) y << "metrics:\n  textfile: " << c.metrics_textfile << "\n";
  y << "log:\n  level: " << c.log_level << "\n";
  y << c.extra_yaml;
  return dir_.Write(name, y.str());
}

ChildProcess* ServiceIt::StartDaemon(const std::string& config_path, std::chrono::microseconds watchdog,
                                     const std::vector<std::string>& env) {
  daemon_.reset();
  ++starts_;
  notify_ = std::make_unique<NotifyLog>(dir_.path() + "/notify" + std::to_string(starts_));
  std::vector<std::string> full_env = {"NOTIFY_SOCKET=" + notify_->path()};
  if (watchdog.count() > 0) full_env.push_back("WATCHDOG_USEC=" + std::to_string(watchdog.count()));
  full_env.insert(full_env.end(), env.begin(), env.end());
  daemon_ = ChildProcess::Spawn({bin_, "-c", config_path, "run"},
                                dir_.path() + "/daemon" + std::to_string(starts_) + ".log", full_env);
  return daemon_.get();
}

ChildProcess* ServiceIt::StartReady(const std::string& config_path, std::chrono::microseconds watchdog,
                                    const std::vector<std::string>& env) {
  ChildProcess* child = StartDaemon(config_path, watchdog, env);
  if (child == nullptr) return nullptr;
  if (!notify_->WaitForLine("READY=1", std::chrono::seconds(30))) {
    ADD_FAILURE() << "no READY=1 within 30 s\n" << Describe();
    return nullptr;
  }
  return child;
}

int ServiceIt::StopDaemon() {
  daemon_->Signal(SIGTERM);
  std::optional<int> code = daemon_->Wait(std::chrono::seconds(30));
  EXPECT_TRUE(code.has_value()) << "did not exit within 30 s of SIGTERM\n" << Describe();
  return code.value_or(-1);
}

std::string ServiceIt::Describe() const {
  return "daemon output:\n" + Output() + (notify_ ? notify_->Dump() : std::string("no notify socket\n"));
}

std::string ServiceIt::NewOrder(const std::string& tag, const std::string& trade_json) {
  static std::atomic<int> counter{0};
  const std::string order_no = "SV" + std::to_string(getpid()) + "_" + std::to_string(++counter) + tag;
  db_->AddUnpaid(order_no, 100, NowEpochSeconds() - 100);
  sim_->PutOrder(order_no, trade_json);
  return order_no;
}

void ServiceIt::Publish(const std::string& order_no) {
  OutgoingMessage m;
  m.routing_key = queue_;
  m.body = order_no;
  m.properties.delivery_mode = kPersistentDeliveryMode;
  Status s = Admin().PublishAndWait(m, std::chrono::seconds(10));
  EXPECT_TRUE(s.ok()) << "publishing " << order_no << ": " << s.message();
}

uint32_t ServiceIt::Depth(const std::string& queue) {
  Result<QueueInfo, AmqpFailure> info = Admin().InspectQueue(queue);
  EXPECT_TRUE(info.ok()) << (info.ok() ? "" : info.error().message);
  return info.ok() ? info->message_count : 0;
}

}  // namespace wxpay::testing
