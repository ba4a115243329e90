#include "config/keys.h"

#include <stdexcept>
#include <type_traits>

#include "config/convert.h"
#include "config/duration.h"
#include "config/yaml_tree.h"

namespace wxpay {
namespace {

template <typename T>
KeyValue ToKeyValue(const T& field) {
  if constexpr (std::is_enum_v<T> || std::is_same_v<T, int>) {
    return static_cast<std::int64_t>(field);
  } else {
    return field;
  }
}

template <typename T>
void FromKeyValue(T& field, const KeyValue& value) {
  if constexpr (std::is_enum_v<T> || std::is_same_v<T, int>) {
    field = static_cast<T>(std::get<std::int64_t>(value));
  } else {
    field = std::get<T>(value);
  }
}

// Builds one KeyDecl; reads like a row of the table below.
class Declare {
 public:
  Declare(std::string name, KeyType type, std::string doc) {
    decl_.name = std::move(name);
    decl_.type = type;
    decl_.doc = std::move(doc);
    if (type == KeyType::kDuration) decl_.min = 0;
  }

  // `field` maps a Config (const or not) to the member holding the value.
  template <typename Field>
  Declare& Bind(Field field) {
    decl_.store = [field](Config& config, const KeyValue& value) { FromKeyValue(field(config), value); };
    decl_.load = [field](const Config& config) -> KeyValue { return ToKeyValue(field(config)); };
    return *this;
  }
  Declare& Default(std::string yaml) {
    decl_.default_doc = yaml;
    decl_.default_yaml = std::move(yaml);
    return *this;
  }
  Declare& Required(std::string hint) {
    decl_.required = true;
    decl_.required_hint = std::move(hint);
    return *this;
  }
  Declare& Reloadable() {
    decl_.reloadable = true;
    return *this;
  }
  Declare& Secret() {
    decl_.secret = true;
    return *this;
  }
  Declare& Allowed(std::vector<std::string> values) {
    decl_.allowed = std::move(values);
    return *this;
  }
  Declare& Range(std::int64_t min, std::int64_t max) {
    decl_.min = min;
    decl_.max = max;
    return *this;
  }
  Declare& AtLeast(std::int64_t min) {
    decl_.min = min;
    return *this;
  }
  Declare& Positive() { return AtLeast(1); }  // durations: more than 0
  Declare& DocDefault(std::string text) {     // a default computed at load time
    decl_.default_doc = std::move(text);
    return *this;
  }

  operator KeyDecl() const { return decl_; }  // NOLINT(google-explicit-constructor): a table row

 private:
  KeyDecl decl_;
};

#define WXPAY_FIELD(member) [](auto& c) -> auto& { return c.member; }

using T = KeyType;

std::vector<KeyDecl> DeclareKeys() {
  std::vector<KeyDecl> k;
  // rabbitmq ------------------------------------------------------------------
  k.push_back(Declare("rabbitmq", T::kSection, "the broker: where due order numbers arrive and follow-ups go"));
  k.push_back(Declare("rabbitmq.url", T::kString, "amqp:// or amqps:// URL of the broker (the password may be given here or in password_file)")
                  .Required("the broker, e.g. amqp://wxpay@127.0.0.1:5672/%2f").Secret().Bind(WXPAY_FIELD(rabbitmq.url)));
  k.push_back(Declare("rabbitmq.password_file", T::kString, "file holding the broker password; overrides the password in url")
                  .Default("\"\"").Bind(WXPAY_FIELD(rabbitmq.password_file)));
  k.push_back(Declare("rabbitmq.tls", T::kSection, "TLS settings for amqps:// URLs"));
  k.push_back(Declare("rabbitmq.tls.ca_file", T::kString, "CA bundle that signed the broker's certificate (empty: the system's)")
                  .Default("\"\"").Bind(WXPAY_FIELD(rabbitmq.tls.ca_file)));
  k.push_back(Declare("rabbitmq.tls.cert_file", T::kString, "client certificate, for brokers that authenticate clients by certificate")
                  .Default("\"\"").Bind(WXPAY_FIELD(rabbitmq.tls.cert_file)));
  k.push_back(Declare("rabbitmq.tls.key_file", T::kString, "private key of cert_file")
                  .Default("\"\"").Bind(WXPAY_FIELD(rabbitmq.tls.key_file)));
  k.push_back(Declare("rabbitmq.tls.verify_peer", T::kBool, "verify the broker's certificate and host name")
                  .Default("true").Bind(WXPAY_FIELD(rabbitmq.tls.verify_peer)));
  k.push_back(Declare("rabbitmq.queue", T::kString, "the queue where due order numbers arrive (the shop's delay queue target)")
                  .Required("the queue the shop's delayed order numbers arrive on, e.g. order.expired").Bind(WXPAY_FIELD(rabbitmq.queue)));
  k.push_back(Declare("rabbitmq.prefetch", T::kInt, "unacknowledged messages the broker may hand the daemon at once")
                  .Default("64").Range(1, 65535).Bind(WXPAY_FIELD(rabbitmq.prefetch)));
  k.push_back(Declare("rabbitmq.heartbeat", T::kDuration, "AMQP heartbeat interval, whole seconds (0s disables heartbeats)")
                  .Default("30s").Range(0, 65535 * 1000LL).Bind(WXPAY_FIELD(rabbitmq.heartbeat)));
  k.push_back(Declare("rabbitmq.retry_exchange", T::kString, "the daemon's own exchange for reschedules")
                  .Default("wxpay-reconciler.retry").Bind(WXPAY_FIELD(rabbitmq.retry_exchange)));
  k.push_back(Declare("rabbitmq.dead_letter_queue", T::kString, "where orders that need a person go, with x-wxpay-reason")
                  .Required("where orders needing a person go, e.g. order.expired.dead").Bind(WXPAY_FIELD(rabbitmq.dead_letter_queue)));
  k.push_back(Declare("rabbitmq.events_exchange", T::kString, "optional exchange for an outcome event per state change (empty: none)")
                  .Default("\"\"").Bind(WXPAY_FIELD(rabbitmq.events_exchange)));
  k.push_back(Declare("rabbitmq.message", T::kSection, "how the order number is carried in a message body"));
  k.push_back(Declare("rabbitmq.message.format", T::kEnum, "text: the body is the order number; json: body[json_field] is")
                  .Default("text").Allowed({"text", "json"}).Bind(WXPAY_FIELD(rabbitmq.message_format)));
  k.push_back(Declare("rabbitmq.message.json_field", T::kString, "the JSON member holding the order number (format json)")
                  .Default("orderNo").Bind(WXPAY_FIELD(rabbitmq.json_field)));
  k.push_back(Declare("rabbitmq.shop_delay", T::kSection, "optional TTL delay queue for shops without the delayed-message plugin"));
  k.push_back(Declare("rabbitmq.shop_delay.exchange", T::kString, "exchange the shop publishes new order numbers to (empty: no delay queue)")
                  .Default("\"\"").Bind(WXPAY_FIELD(rabbitmq.shop_delay.exchange)));
  k.push_back(Declare("rabbitmq.shop_delay.queue", T::kString, "the TTL queue that dead-letters into queue")
                  .Default("\"\"").Bind(WXPAY_FIELD(rabbitmq.shop_delay.queue)));
  k.push_back(Declare("rabbitmq.shop_delay.ttl", T::kDuration, "how long order numbers wait; at least policy.order_ttl")
                  .Default("0s").Bind(WXPAY_FIELD(rabbitmq.shop_delay.ttl)));

  // database ------------------------------------------------------------------
  k.push_back(Declare("database", T::kSection, "the shop's database and how its orders are mapped"));
  k.push_back(Declare("database.driver", T::kEnum, "the shop's database engine")
                  .Required("sqlite, mysql or postgresql").Allowed({"sqlite", "mysql", "postgresql"}).Bind(WXPAY_FIELD(database.driver)));
  k.push_back(Declare("database.path", T::kString, "sqlite: the database file")
                  .Default("\"\"").Bind(WXPAY_FIELD(database.path)));
  k.push_back(Declare("database.host", T::kString, "mysql/postgresql: server host name or address")
                  .Default("127.0.0.1").Bind(WXPAY_FIELD(database.host)));
  k.push_back(Declare("database.port", T::kInt, "mysql/postgresql: server port (0: the driver's default)")
                  .Default("0").Range(0, 65535).Bind(WXPAY_FIELD(database.port)));
  k.push_back(Declare("database.name", T::kString, "mysql/postgresql: database name")
                  .Default("\"\"").Bind(WXPAY_FIELD(database.name)));
  k.push_back(Declare("database.user", T::kString, "mysql/postgresql: user name")
                  .Default("\"\"").Bind(WXPAY_FIELD(database.user)));
  k.push_back(Declare("database.password_file", T::kString, "mysql/postgresql: file holding the password")
                  .Default("\"\"").Bind(WXPAY_FIELD(database.password_file)));
  k.push_back(Declare("database.tls", T::kSection, "mysql/postgresql: TLS to the database server"));
  k.push_back(Declare("database.tls.mode", T::kEnum, "disable, prefer, require, verify-ca or verify-full")
                  .Default("prefer").Allowed({"disable", "prefer", "require", "verify-ca", "verify-full"}).Bind(WXPAY_FIELD(database.tls.mode)));
  k.push_back(Declare("database.tls.ca_file", T::kString, "CA bundle for verify-ca/verify-full (empty: the system's)")
                  .Default("\"\"").Bind(WXPAY_FIELD(database.tls.ca_file)));
  k.push_back(Declare("database.timeout", T::kDuration, "per statement: busy timeout, lock wait, read/write timeouts")
                  .Default("5s").Positive().Bind(WXPAY_FIELD(database.timeout)));
  k.push_back(Declare("database.orders", T::kSection, "the shop's orders table"));
  k.push_back(Declare("database.orders.table", T::kString, "table name (may be schema.table)")
                  .Default("orders").Bind(WXPAY_FIELD(database.orders.table)));
  k.push_back(Declare("database.orders.order_no", T::kString, "column holding the order number the queue carries")
                  .Required("the column holding the order number, e.g. order_no").Bind(WXPAY_FIELD(database.orders.order_no)));
  k.push_back(Declare("database.orders.out_trade_no", T::kString, "column sent to WeChat Pay as out_trade_no when it differs from order_no")
                  .Default("\"\"").Bind(WXPAY_FIELD(database.orders.out_trade_no)));
  k.push_back(Declare("database.orders.status", T::kString, "column holding the order status")
                  .Required("the order status column, e.g. status").Bind(WXPAY_FIELD(database.orders.status)));
  k.push_back(Declare("database.orders.amount", T::kString, "column holding the amount due")
                  .Required("the amount column, e.g. amount").Bind(WXPAY_FIELD(database.orders.amount)));
  k.push_back(Declare("database.orders.amount_unit", T::kEnum, "fen: integer cents; yuan: DECIMAL with 2 places")
                  .Default("fen").Allowed({"fen", "yuan"}).Bind(WXPAY_FIELD(database.orders.amount_unit)));
  k.push_back(Declare("database.orders.created_at", T::kString, "column holding the order's creation time")
                  .Required("the creation time column, e.g. created_at").Bind(WXPAY_FIELD(database.orders.created_at)));
  k.push_back(Declare("database.orders.created_at_format", T::kEnum, "datetime, epoch_s or epoch_ms")
                  .Default("datetime").Allowed({"datetime", "epoch_s", "epoch_ms"}).Bind(WXPAY_FIELD(database.orders.created_at_format)));
  k.push_back(Declare("database.orders.timezone", T::kString, "IANA zone of datetime values")
                  .Default("Asia/Shanghai").Bind(WXPAY_FIELD(database.orders.timezone)));
  k.push_back(Declare("database.orders.status_values", T::kSection, "the status column's values (compared as text)"));
  k.push_back(Declare("database.orders.status_values.unpaid", T::kString, "status of an order waiting for payment")
                  .Required("the status value of an unpaid order, e.g. \"1\"").Bind(WXPAY_FIELD(database.orders.status_values.unpaid)));
  k.push_back(Declare("database.orders.status_values.paid", T::kString, "status the daemon sets when WeChat Pay confirms the payment")
                  .Required("the status value of a paid order, e.g. \"2\"").Bind(WXPAY_FIELD(database.orders.status_values.paid)));
  k.push_back(Declare("database.orders.status_values.cancelled", T::kString, "status the daemon sets when it cancels")
                  .Required("the status value of a cancelled order, e.g. \"5\"").Bind(WXPAY_FIELD(database.orders.status_values.cancelled)));
  k.push_back(Declare("database.orders.filter", T::kSection, "optional: only orders whose column holds one of values"));
  k.push_back(Declare("database.orders.filter.column", T::kString, "the column to filter on (empty: no filter)")
                  .Default("\"\"").Bind(WXPAY_FIELD(database.orders.filter.column)));
  k.push_back(Declare("database.orders.filter.values", T::kStringList, "accepted values of column")
                  .Default("[]").Bind(WXPAY_FIELD(database.orders.filter.values)));
  k.push_back(Declare("database.orders.paid_at", T::kString, "optional column set to WeChat Pay's success_time")
                  .Default("\"\"").Bind(WXPAY_FIELD(database.orders.paid_at)));
  k.push_back(Declare("database.orders.updated_at", T::kString, "optional column set to now on every change")
                  .Default("\"\"").Bind(WXPAY_FIELD(database.orders.updated_at)));
  k.push_back(Declare("database.orders.version", T::kString, "optional optimistic-lock column incremented on every change")
                  .Default("\"\"").Bind(WXPAY_FIELD(database.orders.version)));
  k.push_back(Declare("database.orders.sub_mchid", T::kString, "optional column holding each order's sub-merchant (partner mode)")
                  .Default("\"\"").Bind(WXPAY_FIELD(database.orders.sub_mchid)));
  k.push_back(Declare("database.payments", T::kSection, "optional: one row per confirmed payment, written with the paid update"));
  k.push_back(Declare("database.payments.table", T::kString, "payments table (empty: not written)")
                  .Default("\"\"").Bind(WXPAY_FIELD(database.payments.table)));
  k.push_back(Declare("database.payments.columns", T::kSection, "the payments table's columns"));
  k.push_back(Declare("database.payments.columns.order_no", T::kString, "column for the order number")
                  .Default("order_no").Bind(WXPAY_FIELD(database.payments.columns.order_no)));
  k.push_back(Declare("database.payments.columns.transaction_id", T::kString, "column for WeChat Pay's transaction_id")
                  .Default("transaction_id").Bind(WXPAY_FIELD(database.payments.columns.transaction_id)));
  k.push_back(Declare("database.payments.columns.trade_state", T::kString, "column for the trade_state")
                  .Default("trade_state").Bind(WXPAY_FIELD(database.payments.columns.trade_state)));
  k.push_back(Declare("database.payments.columns.amount", T::kString, "column for amount.total (fen)")
                  .Default("amount").Bind(WXPAY_FIELD(database.payments.columns.amount)));
  k.push_back(Declare("database.payments.columns.success_time", T::kString, "column for success_time")
                  .Default("success_time").Bind(WXPAY_FIELD(database.payments.columns.success_time)));
  k.push_back(Declare("database.payments.columns.raw", T::kString, "column for WeChat Pay's verified answer as JSON")
                  .Default("content").Bind(WXPAY_FIELD(database.payments.columns.raw)));

  // wechatpay -----------------------------------------------------------------
  k.push_back(Declare("wechatpay", T::kSection, "WeChat Pay API v3: merchant, keys and endpoints"));
  k.push_back(Declare("wechatpay.base_url", T::kString, "API endpoint (https; a trailing / is ignored)")
                  .Default("https://api.mch.weixin.qq.com").Bind(WXPAY_FIELD(wechatpay.base_url)));
  k.push_back(Declare("wechatpay.backup_base_url", T::kString, "endpoint tried after connection failures (empty: none)")
                  .Default("\"\"").Bind(WXPAY_FIELD(wechatpay.backup_base_url)));
  k.push_back(Declare("wechatpay.mode", T::kEnum, "direct merchant, or partner (service provider for sub-merchants)")
                  .Default("direct").Allowed({"direct", "partner"}).Bind(WXPAY_FIELD(wechatpay.mode)));
  k.push_back(Declare("wechatpay.mchid", T::kString, "direct mode: the merchant number")
                  .Default("\"\"").Bind(WXPAY_FIELD(wechatpay.mchid)));
  k.push_back(Declare("wechatpay.sp_mchid", T::kString, "partner mode: the service provider's merchant number (signs requests)")
                  .Default("\"\"").Bind(WXPAY_FIELD(wechatpay.sp_mchid)));
  k.push_back(Declare("wechatpay.sub_mchid", T::kString, "partner mode: fixed sub-merchant, unless database.orders.sub_mchid maps a column")
                  .Default("\"\"").Bind(WXPAY_FIELD(wechatpay.sub_mchid)));
  k.push_back(Declare("wechatpay.appid", T::kStringOrList, "accepted app ids (appid or sub_appid), a string or a list; empty: not checked")
                  .Default("[]").Reloadable().Bind(WXPAY_FIELD(wechatpay.appid)));
  k.push_back(Declare("wechatpay.merchant_serial_no", T::kString, "serial number of the merchant API certificate (hex)")
                  .Required("the serial number of your merchant API certificate, in hex").Bind(WXPAY_FIELD(wechatpay.merchant_serial_no)));
  k.push_back(Declare("wechatpay.private_key_file", T::kString, "merchant API private key (apiclient_key.pem); re-read on SIGHUP")
                  .Required("the merchant API private key, e.g. ${CREDENTIALS_DIRECTORY}/apiclient_key.pem").Reloadable().Bind(WXPAY_FIELD(wechatpay.private_key_file)));
  k.push_back(Declare("wechatpay.public_key_file", T::kString, "WeChat Pay public key (public-key mode)")
                  .Default("\"\"").Reloadable().Bind(WXPAY_FIELD(wechatpay.public_key_file)));
  k.push_back(Declare("wechatpay.public_key_id", T::kString, "the public key's id, PUB_KEY_ID_...")
                  .Default("\"\"").Bind(WXPAY_FIELD(wechatpay.public_key_id)));
  k.push_back(Declare("wechatpay.platform_certificates", T::kStringList, "older mode: platform certificate PEM files (several during rotation)")
                  .Default("[]").Reloadable().Bind(WXPAY_FIELD(wechatpay.platform_certificates)));
  k.push_back(Declare("wechatpay.apiv3_key_file", T::kString, "APIv3 key file, only needed to download platform certificates")
                  .Default("\"\"").Bind(WXPAY_FIELD(wechatpay.apiv3_key_file)));
  k.push_back(Declare("wechatpay.ca_file", T::kString, "extra CA bundle for HTTPS (tests, proxies)")
                  .Default("\"\"").Bind(WXPAY_FIELD(wechatpay.ca_file)));
  k.push_back(Declare("wechatpay.timeout", T::kDuration, "per request")
                  .Default("5s").Positive().Bind(WXPAY_FIELD(wechatpay.timeout)));
  k.push_back(Declare("wechatpay.max_requests_per_second", T::kInt, "signed requests per second, shared by all workers")
                  .Default("100").Range(1, 100000).Reloadable().Bind(WXPAY_FIELD(wechatpay.max_requests_per_second)));
  k.push_back(Declare("wechatpay.allow_plain_http", T::kBool, "allow http:// base URLs to loopback hosts (tests only)")
                  .Default("false").Bind(WXPAY_FIELD(wechatpay.allow_plain_http)));

  // policy --------------------------------------------------------------------
  k.push_back(Declare("policy", T::kSection, "decisions, retries and concurrency"));
  k.push_back(Declare("policy.order_ttl", T::kDuration, "the shop's payment window: never close before created_at + order_ttl")
                  .Required("the shop's payment window, e.g. 15m").Positive().Bind(WXPAY_FIELD(policy.order_ttl)));
  k.push_back(Declare("policy.userpaying_recheck", T::kDuration, "when to look again at an order the buyer is paying")
                  .Default("60s").Positive().Reloadable().Bind(WXPAY_FIELD(policy.userpaying_recheck)));
  k.push_back(Declare("policy.not_found_action", T::kEnum, "an order WeChat Pay never heard of: cancel or park")
                  .Default("cancel").Allowed({"cancel", "park"}).Reloadable().Bind(WXPAY_FIELD(policy.not_found_action)));
  k.push_back(Declare("policy.not_found_breaker", T::kInt, "park 404s after this many consecutive first queries answered 404")
                  .Default("50").Range(1, 1000000).Reloadable().Bind(WXPAY_FIELD(policy.not_found_breaker)));
  k.push_back(Declare("policy.refund_action", T::kEnum, "an unpaid order WeChat Pay reports as REFUND: park or mark_paid")
                  .Default("park").Allowed({"park", "mark_paid"}).Reloadable().Bind(WXPAY_FIELD(policy.refund_action)));
  k.push_back(Declare("policy.retry", T::kSection, "exponential backoff of transient failures"));
  k.push_back(Declare("policy.retry.initial", T::kDuration, "first retry delay")
                  .Default("10s").Positive().Reloadable().Bind(WXPAY_FIELD(policy.retry.initial)));
  k.push_back(Declare("policy.retry.max", T::kDuration, "longest retry delay")
                  .Default("10m").Positive().Reloadable().Bind(WXPAY_FIELD(policy.retry.max)));
  k.push_back(Declare("policy.retry.multiplier", T::kDouble, "growth factor of the delay, at least 1")
                  .Default("2").Reloadable().Bind(WXPAY_FIELD(policy.retry.multiplier)));
  k.push_back(Declare("policy.retry.max_attempts", T::kInt, "attempts before an order is dead-lettered retries_exhausted")
                  .Default("20").Range(1, 1000000).Reloadable().Bind(WXPAY_FIELD(policy.retry.max_attempts)));
  k.push_back(Declare("policy.concurrency", T::kInt, "orders processed in parallel")
                  .Default("8").Range(1, 1024).Bind(WXPAY_FIELD(policy.concurrency)));
  k.push_back(Declare("policy.drain_timeout", T::kDuration, "on SIGTERM, time to finish in-flight orders")
                  .Default("10s").Bind(WXPAY_FIELD(policy.drain_timeout)));
  k.push_back(Declare("policy.start_timeout", T::kDuration, "how long to wait for dependencies at start before exiting 69")
                  .Default("5m").Positive().Bind(WXPAY_FIELD(policy.start_timeout)));
  k.push_back(Declare("policy.dry_run", T::kBool, "one-shot commands only: decide but change nothing; run refuses it")
                  .Default("false").Bind(WXPAY_FIELD(policy.dry_run)));

  // sweeper -------------------------------------------------------------------
  k.push_back(Declare("sweeper", T::kSection, "the safety net: finds unpaid orders whose message was lost"));
  k.push_back(Declare("sweeper.enabled", T::kBool, "run the sweeper")
                  .Default("true").Reloadable().Bind(WXPAY_FIELD(sweeper.enabled)));
  k.push_back(Declare("sweeper.interval", T::kDuration, "time between passes")
                  .Default("10m").Positive().Reloadable().Bind(WXPAY_FIELD(sweeper.interval)));
  k.push_back(Declare("sweeper.grace", T::kDuration, "only orders older than order_ttl + grace")
                  .Default("10m").Reloadable().Bind(WXPAY_FIELD(sweeper.grace)));
  k.push_back(Declare("sweeper.max_pass", T::kDuration, "time limit of one pass; the next continues where it stopped")
                  .Default("60s").Positive().Reloadable().Bind(WXPAY_FIELD(sweeper.max_pass)));

  // the rest ------------------------------------------------------------------
  k.push_back(Declare("state_dir", T::kString, "the daemon's own SQLite state (parked orders, sweeper cursor, poison counts)")
                  .DocDefault("${STATE_DIRECTORY}, else /var/lib/wxpay-reconciler").Bind(WXPAY_FIELD(state_dir)));
  k.push_back(Declare("metrics", T::kSection, "Prometheus metrics"));
  k.push_back(Declare("metrics.textfile", T::kString, "node-exporter textfile, replaced atomically (empty: none)")
                  .Default("\"\"").Reloadable().Bind(WXPAY_FIELD(metrics.textfile)));
  k.push_back(Declare("log", T::kSection, "logging to stderr (journald)"));
  k.push_back(Declare("log.level", T::kEnum, "debug, info, warning or error")
                  .Default("info").Allowed({"debug", "info", "warning", "error"}).Reloadable().Bind(WXPAY_FIELD(log.level)));
  return k;
}

#undef WXPAY_FIELD

std::vector<KeyDecl> BuildTable() {
  std::vector<KeyDecl> keys = DeclareKeys();
  const EnvLookup no_env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  for (KeyDecl& decl : keys) {
    if (!decl.HasStaticDefault()) continue;
    Result<YamlNode, YamlSyntaxError> node = ParseYaml(decl.default_yaml);
    if (!node) throw std::logic_error("config key " + decl.name + ": default does not parse");
    if (std::optional<ValueError> problem = ConvertValue(decl, *node, no_env, decl.default_value)) {
      throw std::logic_error("config key " + decl.name + ": bad default: " + problem->message);
    }
  }
  return keys;
}

}  // namespace

const std::vector<KeyDecl>& ConfigKeys() {
  static const std::vector<KeyDecl> keys = BuildTable();
  return keys;
}

const KeyDecl* FindKey(std::string_view name) {
  for (const KeyDecl& decl : ConfigKeys()) {
    if (decl.name == name) return &decl;
  }
  return nullptr;
}

std::string_view ParentKey(std::string_view name) {
  const std::size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : name.substr(0, dot);
}

std::vector<const KeyDecl*> ChildKeys(std::string_view section) {
  std::vector<const KeyDecl*> children;
  for (const KeyDecl& decl : ConfigKeys()) {
    if (ParentKey(decl.name) == section) children.push_back(&decl);
  }
  return children;
}

std::string FormatKeyValue(const KeyDecl& decl, const KeyValue& value) {
  if (const auto* text = std::get_if<std::string>(&value)) {
    return text->empty() ? "\"\"" : *text;
  }
  if (const auto* number = std::get_if<std::int64_t>(&value)) {
    if (decl.type == KeyType::kEnum && *number >= 0 && static_cast<std::size_t>(*number) < decl.allowed.size()) {
      return decl.allowed[static_cast<std::size_t>(*number)];
    }
    return std::to_string(*number);
  }
  if (const auto* flag = std::get_if<bool>(&value)) return *flag ? "true" : "false";
  if (const auto* duration = std::get_if<Duration>(&value)) return FormatDuration(*duration);
  if (const auto* real = std::get_if<double>(&value)) {
    std::string text = std::to_string(*real);
    text.erase(text.find_last_not_of('0') + 1);
    if (!text.empty() && text.back() == '.') text.pop_back();
    return text;
  }
  const auto& list = std::get<std::vector<std::string>>(value);
  std::string out = "[";
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out += ", ";
    out += list[i];
  }
  return out + "]";
}

std::string DescribeKeyType(const KeyDecl& decl) {
  switch (decl.type) {
    case KeyType::kSection: return "a mapping";
    case KeyType::kString: return "a text value";
    case KeyType::kInt: return "an integer";
    case KeyType::kBool: return "true or false";
    case KeyType::kDuration: return "a duration such as 500ms, 30s, 5m or 1h";
    case KeyType::kDouble: return "a number";
    case KeyType::kEnum: {
      std::string choices;
      for (std::size_t i = 0; i < decl.allowed.size(); ++i) {
        if (i > 0) choices += i + 1 == decl.allowed.size() ? " or " : ", ";
        choices += decl.allowed[i];
      }
      return choices;
    }
    case KeyType::kStringOrList: return "a text value or a list of them";
    case KeyType::kStringList: return "a list";
  }
  return "a value";
}

}  // namespace wxpay
