// The daemon's configuration: SPEC §5, loaded once from one YAML file into an
// immutable, typed value. The loader (config/loader.h) fills it from the
// declaration table (config/keys.cc); nothing else constructs it from YAML.
// Secrets read from password files are held here and never logged.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace wxpay {

using Duration = std::chrono::milliseconds;

struct RabbitTls {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool verify_peer = true;
};

struct ShopDelay {  // optional: present when `exchange` is non-empty
  std::string exchange;
  std::string queue;
  Duration ttl{0};
};

struct RabbitConfig {
  std::string url;            // as written (may contain a password: never log it)
  std::string password;       // from password_file when set, else from url; empty if none
  std::string password_file;
  RabbitTls tls;
  std::string queue;
  int prefetch = 64;
  Duration heartbeat = std::chrono::seconds(30);
  std::string retry_exchange = "wxpay-reconciler.retry";
  std::string dead_letter_queue;
  std::string events_exchange;  // empty = no outcome events
  enum class MessageFormat { kText, kJson };
  MessageFormat message_format = MessageFormat::kText;
  std::string json_field = "orderNo";
  ShopDelay shop_delay;
};

struct DatabaseTls {
  enum class Mode { kDisable, kPrefer, kRequire, kVerifyCa, kVerifyFull };
  Mode mode = Mode::kPrefer;
  std::string ca_file;
};

struct StatusValues {  // compared as text; integer columns are compared by their text form
  std::string unpaid;
  std::string paid;
  std::string cancelled;
};

struct OrderFilter {  // optional: column empty = no filter
  std::string column;
  std::vector<std::string> values;
};

struct OrdersMapping {
  std::string table = "orders";
  std::string order_no;
  std::string out_trade_no;  // empty: out_trade_no == order_no
  std::string status;
  std::string amount;
  enum class AmountUnit { kFen, kYuan };
  AmountUnit amount_unit = AmountUnit::kFen;
  std::string created_at;
  enum class TimeFormat { kDatetime, kEpochS, kEpochMs };
  TimeFormat created_at_format = TimeFormat::kDatetime;
  std::string timezone = "Asia/Shanghai";
  StatusValues status_values;
  OrderFilter filter;
  std::string paid_at;     // optional columns: empty = not written
  std::string updated_at;
  std::string version;
  std::string sub_mchid;
};

struct PaymentsColumns {
  std::string order_no = "order_no";
  std::string transaction_id = "transaction_id";
  std::string trade_state = "trade_state";
  std::string amount = "amount";
  std::string success_time = "success_time";
  std::string raw = "content";
};

struct PaymentsMapping {
  std::string table;  // empty = disabled
  PaymentsColumns columns;
};

struct DatabaseConfig {
  enum class Driver { kSqlite, kMysql, kPostgresql };
  Driver driver = Driver::kSqlite;
  std::string path;
  std::string host = "127.0.0.1";
  int port = 0;  // 0 = driver default
  std::string name;
  std::string user;
  std::string password_file;
  std::string password;  // read from password_file; never log it
  DatabaseTls tls;
  Duration timeout = std::chrono::seconds(5);
  OrdersMapping orders;
  PaymentsMapping payments;
};

struct WechatPayConfig {
  std::string base_url = "https://api.mch.weixin.qq.com";
  std::string backup_base_url;
  enum class Mode { kDirect, kPartner };
  Mode mode = Mode::kDirect;
  std::string mchid;
  std::string sp_mchid;
  std::string sub_mchid;
  std::vector<std::string> appid;  // (R) empty = not checked
  std::string merchant_serial_no;
  std::string private_key_file;                    // (R)
  std::string public_key_file;                     // (R)
  std::string public_key_id;
  std::vector<std::string> platform_certificates;  // (R)
  std::string apiv3_key_file;
  std::string ca_file;
  Duration timeout = std::chrono::seconds(5);
  int max_requests_per_second = 100;  // (R)
  bool allow_plain_http = false;

  // The merchant that signs requests: mchid (direct) or sp_mchid (partner).
  const std::string& signing_mchid() const { return mode == Mode::kPartner ? sp_mchid : mchid; }
};

struct RetryPolicy {
  Duration initial = std::chrono::seconds(10);
  Duration max = std::chrono::minutes(10);
  double multiplier = 2.0;
  int max_attempts = 20;
};

struct PolicyConfig {
  Duration order_ttl{0};  // required
  Duration userpaying_recheck = std::chrono::seconds(60);
  enum class NotFoundAction { kCancel, kPark };
  NotFoundAction not_found_action = NotFoundAction::kCancel;
  int not_found_breaker = 50;
  enum class RefundAction { kPark, kMarkPaid };
  RefundAction refund_action = RefundAction::kPark;
  RetryPolicy retry;
  int concurrency = 8;
  Duration drain_timeout = std::chrono::seconds(10);
  Duration start_timeout = std::chrono::minutes(5);
  bool dry_run = false;
};

struct SweeperConfig {
  bool enabled = true;
  Duration interval = std::chrono::minutes(10);
  Duration grace = std::chrono::minutes(10);
  Duration max_pass = std::chrono::seconds(60);
};

struct MetricsConfig {
  std::string textfile;
};

struct LogConfig {
  enum class Level { kDebug, kInfo, kWarning, kError };
  Level level = Level::kInfo;
};

struct Config {
  std::string source_file;  // the file it was loaded from
  RabbitConfig rabbitmq;
  DatabaseConfig database;
  WechatPayConfig wechatpay;
  PolicyConfig policy;
  SweeperConfig sweeper;
  std::string state_dir;
  MetricsConfig metrics;
  LogConfig log;
};

}  // namespace wxpay
