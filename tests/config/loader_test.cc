// The tree walk: defaults, unknown/duplicate keys, types, required keys,
// ${ENV} expansion, line numbers, and all errors at once.
#include "config/loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/test_support.h"

namespace wxpay {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::ConfigFixture;
using testing::Edit;
using testing::kBaseConfig;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

class LoaderTest : public ::testing::Test, public ConfigFixture {
 protected:
  std::string With(const std::string& section, const std::string& lines) {
    return Edit(kBaseConfig, section, section + lines);
  }
};

TEST_F(LoaderTest, BaseConfigLoadsWithDefaults) {
  auto loaded = Load(kBaseConfig);
  ASSERT_TRUE(loaded.ok()) << ::testing::PrintToString(loaded.error());
  EXPECT_THAT(loaded->warnings, IsEmpty());
  const Config& c = loaded->config;
  EXPECT_EQ(c.source_file, "test.yaml");
  EXPECT_EQ(c.rabbitmq.url, "amqp://wxpay:secret@127.0.0.1:5672/%2f");
  EXPECT_EQ(c.rabbitmq.password, "secret");
  EXPECT_EQ(c.rabbitmq.queue, "order.expired");
  EXPECT_EQ(c.rabbitmq.prefetch, 64);
  EXPECT_EQ(c.rabbitmq.heartbeat, seconds(30));
  EXPECT_EQ(c.rabbitmq.retry_exchange, "wxpay-reconciler.retry");
  EXPECT_EQ(c.rabbitmq.events_exchange, "");
  EXPECT_EQ(c.rabbitmq.message_format, RabbitConfig::MessageFormat::kText);
  EXPECT_EQ(c.rabbitmq.json_field, "orderNo");
  EXPECT_TRUE(c.rabbitmq.tls.verify_peer);
  EXPECT_EQ(c.rabbitmq.shop_delay.exchange, "");
  EXPECT_EQ(c.database.driver, DatabaseConfig::Driver::kSqlite);
  EXPECT_EQ(c.database.path, "/var/lib/shop/shop.db");
  EXPECT_EQ(c.database.host, "127.0.0.1");
  EXPECT_EQ(c.database.port, 0);
  EXPECT_EQ(c.database.tls.mode, DatabaseTls::Mode::kPrefer);
  EXPECT_EQ(c.database.timeout, seconds(5));
  EXPECT_EQ(c.database.orders.table, "orders");
  EXPECT_EQ(c.database.orders.amount_unit, OrdersMapping::AmountUnit::kFen);
  EXPECT_EQ(c.database.orders.created_at_format, OrdersMapping::TimeFormat::kDatetime);
  EXPECT_EQ(c.database.orders.timezone, "Asia/Shanghai");
  EXPECT_EQ(c.database.orders.status_values.unpaid, "1");
  EXPECT_EQ(c.database.orders.status_values.paid, "2");
  EXPECT_EQ(c.database.orders.status_values.cancelled, "5");
  EXPECT_EQ(c.database.payments.table, "");
  EXPECT_EQ(c.database.payments.columns.raw, "content");
  EXPECT_EQ(c.wechatpay.base_url, "https://api.mch.weixin.qq.com");
  EXPECT_EQ(c.wechatpay.mode, WechatPayConfig::Mode::kDirect);
  EXPECT_EQ(c.wechatpay.signing_mchid(), "1900000001");
  EXPECT_THAT(c.wechatpay.appid, IsEmpty());
  EXPECT_EQ(c.wechatpay.private_key_file, dir().path() + "/apiclient_key.pem");
  EXPECT_EQ(c.wechatpay.timeout, seconds(5));
  EXPECT_EQ(c.wechatpay.max_requests_per_second, 100);
  EXPECT_FALSE(c.wechatpay.allow_plain_http);
  EXPECT_EQ(c.policy.order_ttl, minutes(15));
  EXPECT_EQ(c.policy.userpaying_recheck, seconds(60));
  EXPECT_EQ(c.policy.not_found_action, PolicyConfig::NotFoundAction::kCancel);
  EXPECT_EQ(c.policy.not_found_breaker, 50);
  EXPECT_EQ(c.policy.refund_action, PolicyConfig::RefundAction::kPark);
  EXPECT_EQ(c.policy.retry.initial, seconds(10));
  EXPECT_EQ(c.policy.retry.max, minutes(10));
  EXPECT_EQ(c.policy.retry.multiplier, 2.0);
  EXPECT_EQ(c.policy.retry.max_attempts, 20);
  EXPECT_EQ(c.policy.concurrency, 8);
  EXPECT_EQ(c.policy.drain_timeout, seconds(10));
  EXPECT_EQ(c.policy.start_timeout, minutes(5));
  EXPECT_FALSE(c.policy.dry_run);
  EXPECT_TRUE(c.sweeper.enabled);
  EXPECT_EQ(c.sweeper.interval, minutes(10));
  EXPECT_EQ(c.sweeper.grace, minutes(10));
  EXPECT_EQ(c.sweeper.max_pass, seconds(60));
  EXPECT_EQ(c.state_dir, "/var/lib/wxpay-reconciler");
  EXPECT_EQ(c.metrics.textfile, "");
  EXPECT_EQ(c.log.level, LogConfig::Level::kInfo);
}

TEST_F(LoaderTest, ValuesOfEveryTypeAreStored) {
  const std::string text = Edit(Edit(Edit(kBaseConfig,
      "  queue: order.expired\n",
      "  queue: order.expired\n"
      "  prefetch: \"16\"\n"
      "  heartbeat: 1m\n"
      "  message: {format: json, json_field: order_id}\n"),
      "  order_ttl: 15m\n",
      "  order_ttl: 1h30m\n"
      "  retry: {initial: 500ms, max: 2m, multiplier: 1.5, max_attempts: 3}\n"
      "  dry_run: TRUE\n"
      "sweeper:\n"
      "  enabled: false\n"
      "log: {level: debug}\n"),
      "  mchid: \"1900000001\"\n",
      "  mchid: 1900000001\n"
      "  appid: wx1234\n");
  auto loaded = Load(text);
  ASSERT_TRUE(loaded.ok()) << ::testing::PrintToString(loaded.error());
  const Config& c = loaded->config;
  EXPECT_EQ(c.rabbitmq.prefetch, 16);
  EXPECT_EQ(c.rabbitmq.heartbeat, minutes(1));
  EXPECT_EQ(c.rabbitmq.message_format, RabbitConfig::MessageFormat::kJson);
  EXPECT_EQ(c.rabbitmq.json_field, "order_id");
  EXPECT_EQ(c.policy.order_ttl, minutes(90));
  EXPECT_EQ(c.policy.retry.initial, milliseconds(500));
  EXPECT_EQ(c.policy.retry.max, minutes(2));
  EXPECT_EQ(c.policy.retry.multiplier, 1.5);
  EXPECT_EQ(c.policy.retry.max_attempts, 3);
  EXPECT_TRUE(c.policy.dry_run);
  EXPECT_FALSE(c.sweeper.enabled);
  EXPECT_EQ(c.log.level, LogConfig::Level::kDebug);
  EXPECT_EQ(c.wechatpay.mchid, "1900000001");  // an unquoted number is fine for a text key
  EXPECT_EQ(c.wechatpay.appid, std::vector<std::string>{"wx1234"});
}

TEST_F(LoaderTest, AppidTakesAListAndEmptySectionsAreAllowed) {
  const std::string text = Edit(Edit(kBaseConfig, "  mchid: \"1900000001\"\n",
                                     "  mchid: \"1900000001\"\n  appid:\n    - wx1\n    - wx2\n"),
                                "policy:\n", "sweeper:\nmetrics:\npolicy:\n");
  auto loaded = Load(text);
  ASSERT_TRUE(loaded.ok()) << ::testing::PrintToString(loaded.error());
  EXPECT_EQ(loaded->config.wechatpay.appid, (std::vector<std::string>{"wx1", "wx2"}));
  EXPECT_TRUE(loaded->config.sweeper.enabled);
}

TEST_F(LoaderTest, AnchorsAndAliasesWork) {
  const std::string text = Edit(kBaseConfig, "  order_ttl: 15m\n",
                                "  order_ttl: &window 15m\n  userpaying_recheck: *window\n");
  auto loaded = Load(text);
  ASSERT_TRUE(loaded.ok()) << ::testing::PrintToString(loaded.error());
  EXPECT_EQ(loaded->config.policy.userpaying_recheck, minutes(15));
}

TEST_F(LoaderTest, StateDirDefaultsToStateDirectory) {
  env()["STATE_DIRECTORY"] = "/var/lib/wxpay-reconciler-a:/var/lib/other";
  auto loaded = Load(kBaseConfig);
  ASSERT_TRUE(loaded.ok()) << ::testing::PrintToString(loaded.error());
  EXPECT_EQ(loaded->config.state_dir, "/var/lib/wxpay-reconciler-a");

  auto written = Load(std::string(kBaseConfig) + "state_dir: /srv/state\n");
  ASSERT_TRUE(written.ok()) << ::testing::PrintToString(written.error());
  EXPECT_EQ(written->config.state_dir, "/srv/state");
}

// --- unknown keys -----------------------------------------------------------

TEST_F(LoaderTest, UnknownTopLevelKey) {
  EXPECT_THAT(Errors(std::string(kBaseConfig) + "polcy:\n  x: 1\n"),
              ElementsAre("test.yaml:25: polcy: unknown key (did you mean policy?)"));
  EXPECT_THAT(Errors(std::string(kBaseConfig) + "prefetch: 5\n"),
              ElementsAre("test.yaml:25: prefetch: unknown key (did you mean rabbitmq.prefetch?)"));
  EXPECT_THAT(Errors(std::string(kBaseConfig) + "timeout: 5s\n"),
              ElementsAre("test.yaml:25: timeout: unknown key (did you mean database.timeout or wechatpay.timeout?)"));
  EXPECT_THAT(Errors(std::string(kBaseConfig) + "zzz: 1\n"),
              ElementsAre("test.yaml:25: zzz: unknown key (known keys here: rabbitmq, database, wechatpay, policy, "
                          "sweeper, state_dir, metrics, log)"));
}

TEST_F(LoaderTest, UnknownKeysAtEveryNestingLevel) {
  const std::string text = Edit(Edit(Edit(Edit(kBaseConfig,
      "  queue: order.expired\n", "  queue: order.expired\n  prefech: 10\n"),           // line 4
      "  path: /var/lib/shop/shop.db\n", "  path: /var/lib/shop/shop.db\n  tls: {mod: require}\n"),  // line 9
      "      cancelled: \"5\"\n", "      cancelled: \"5\"\n      refunded: \"7\"\n"),  // line 19
      "  order_ttl: 15m\n", "  order_ttl: 15m\n  retry:\n    initail: 1s\n");          // line 29
  EXPECT_THAT(Errors(text),
              ElementsAre("test.yaml:4: rabbitmq.prefech: unknown key (did you mean prefetch?)",
                          "test.yaml:9: database.tls.mod: unknown key (did you mean mode?)",
                          "test.yaml:19: database.orders.status_values.refunded: unknown key (known keys here: "
                          "unpaid, paid, cancelled)",
                          "test.yaml:29: policy.retry.initail: unknown key (did you mean initial?)"));
}

// --- duplicate keys ---------------------------------------------------------

TEST_F(LoaderTest, DuplicateKeysAreErrorsAtEveryLevel) {
  const std::string text = Edit(Edit(kBaseConfig,
      "  dead_letter_queue: order.expired.dead\n",
      "  dead_letter_queue: order.expired.dead\n  queue: other\n"),        // line 5
      "      cancelled: \"5\"\n", "      cancelled: \"5\"\n      paid: \"3\"\n") +  // line 18
      "policy:\n  order_ttl: 20m\n";                                          // line 27
  EXPECT_THAT(Errors(text),
              ElementsAre("test.yaml:5: rabbitmq.queue: duplicate key (first set on line 3); keep one",
                          "test.yaml:18: database.orders.status_values.paid: duplicate key (first set on line 16); keep one",
                          "test.yaml:27: policy: duplicate key (first set on line 25); keep one"));
}

// --- wrong types ------------------------------------------------------------

TEST_F(LoaderTest, WrongTypes) {
  const std::string text = Edit(Edit(Edit(Edit(Edit(kBaseConfig,
      "  queue: order.expired\n",
      "  queue: order.expired\n"                 // 3
      "  prefetch: many\n"                       // 4
      "  heartbeat: 30\n"                        // 5
      "  tls:\n"                                 // 6
      "    verify_peer: yes\n"                   // 7
      "  message:\n"                             // 8
      "    format: xml\n"),                      // 9
      "  path: /var/lib/shop/shop.db\n",
      "  path: [/var/lib/shop/shop.db]\n"),       // 13
      "  mchid: \"1900000001\"\n",
      "  mchid: \"1900000001\"\n"                 // 24
      "  appid: {wx: 1}\n"                       // 25
      "  platform_certificates: /etc/cert.pem\n"),  // 26
      "  order_ttl: 15m\n",
      "  order_ttl: 15m\n"                        // 33
      "  retry:\n"                               // 34
      "    multiplier: fast\n"),                 // 35
      "policy:\n", "sweeper: true\npolicy:\n");  // sweeper 31; policy, and all below, one line down
  EXPECT_THAT(Errors(text),
              ElementsAre("test.yaml:4: rabbitmq.prefetch: expected an integer, got \"many\"",
                          "test.yaml:5: rabbitmq.heartbeat: \"30\" has no unit; write e.g. 30s (units: ms, s, m, h)",
                          "test.yaml:7: rabbitmq.tls.verify_peer: expected true or false, got \"yes\"",
                          "test.yaml:9: rabbitmq.message.format: expected text or json, got \"xml\"",
                          "test.yaml:13: database.path: expected a text value, got a list",
                          "test.yaml:25: wechatpay.appid: expected a text value or a list of them, got a mapping",
                          "test.yaml:26: wechatpay.platform_certificates: expected a list, got \"/etc/cert.pem\" "
                          "(write [/etc/cert.pem] for a list of one)",
                          "test.yaml:31: sweeper: expected a section of keys (enabled, interval, grace, max_pass), "
                          "got \"true\"",
                          "test.yaml:35: policy.retry.multiplier: expected a number, got \"fast\""));
}

TEST_F(LoaderTest, ListShapes) {
  EXPECT_THAT(Errors(With("wechatpay:\n", "  platform_certificates: \"\"\n")),
              ElementsAre("test.yaml:18: wechatpay.platform_certificates: expected a list, got \"\" (write [] for an "
                          "empty list)"));
  EXPECT_THAT(Errors(With("wechatpay:\n", "  platform_certificates: {a: b}\n")),
              ElementsAre("test.yaml:18: wechatpay.platform_certificates: expected a list, got a mapping"));
  auto empty = Load(With("wechatpay:\n", "  appid: \"\"\n  platform_certificates:\n"));
  ASSERT_TRUE(empty.ok()) << ::testing::PrintToString(empty.error());
  EXPECT_THAT(empty->config.wechatpay.appid, IsEmpty());
  EXPECT_THAT(empty->config.wechatpay.platform_certificates, IsEmpty());
}

TEST_F(LoaderTest, DurationUpperBound) {
  EXPECT_THAT(Errors(With("rabbitmq:\n", "  heartbeat: 20h\n")),
              ElementsAre("test.yaml:2: rabbitmq.heartbeat: must be at most 18h12m15s, got 20h"));
}

TEST_F(LoaderTest, ListItemErrorsPointAtTheItem) {
  const std::string text = Edit(kBaseConfig, "  mchid: \"1900000001\"\n",
                                "  mchid: \"1900000001\"\n"   // 18
                                "  appid:\n"                  // 19
                                "    - wx1\n"                 // 20
                                "    - [wx2]\n"               // 21
                                "    - ${NOPE}\n");           // 22
  // Conversion stops at the first bad item of a key.
  EXPECT_THAT(Errors(text), ElementsAre("test.yaml:21: wechatpay.appid: expected a list of text values, but an item "
                                        "is a list"));
  const std::string unset = Edit(kBaseConfig, "  mchid: \"1900000001\"\n",
                                 "  mchid: \"1900000001\"\n  appid:\n    - wx1\n    - ${NOPE}\n");
  EXPECT_THAT(Errors(unset), ElementsAre("test.yaml:21: wechatpay.appid: environment variable NOPE is not set"));
}

TEST_F(LoaderTest, RangesOfNumbersAndDurations) {
  const std::string text = Edit(Edit(kBaseConfig,
      "  queue: order.expired\n", "  queue: order.expired\n  prefetch: 0\n"),   // 4
      "  order_ttl: 15m\n",
      "  order_ttl: 0s\n"                      // 25
      "  not_found_breaker: 0\n"               // 26
      "  concurrency: 5000\n"                  // 27
      "  userpaying_recheck: -1s\n");          // 28
  EXPECT_THAT(Errors(text),
              ElementsAre("test.yaml:4: rabbitmq.prefetch: must be between 1 and 65535, got 0",
                          "test.yaml:25: policy.order_ttl: must be more than 0, got 0s",
                          "test.yaml:26: policy.not_found_breaker: must be between 1 and 1000000, got 0",
                          "test.yaml:27: policy.concurrency: must be between 1 and 1024, got 5000",
                          "test.yaml:28: policy.userpaying_recheck: \"-1s\" is negative; a duration must be 0 or more"));
}

// --- required keys ----------------------------------------------------------

TEST_F(LoaderTest, MissingRequiredKeyIsReportedAtItsSection) {
  EXPECT_THAT(Errors(Edit(kBaseConfig, "  order_ttl: 15m\n", "  concurrency: 4\n")),
              ElementsAre("test.yaml:23: policy.order_ttl: required key is missing (the shop's payment window, "
                          "e.g. 15m)"));
  EXPECT_THAT(Errors(Edit(kBaseConfig, "  queue: order.expired\n", "")),
              ElementsAre("test.yaml:1: rabbitmq.queue: required key is missing (the queue the shop's delayed order "
                          "numbers arrive on, e.g. order.expired)"));
}

TEST_F(LoaderTest, MissingSectionIsReportedOnce) {
  EXPECT_THAT(Errors(Edit(kBaseConfig, "policy:\n  order_ttl: 15m\n", "")),
              ElementsAre("test.yaml:1: policy: required section is missing (it needs order_ttl)"));
  const std::string no_status_values = Edit(kBaseConfig,
      "    status_values:\n      unpaid: \"1\"\n      paid: \"2\"\n      cancelled: \"5\"\n", "");
  EXPECT_THAT(Errors(no_status_values),
              ElementsAre("test.yaml:8: database.orders.status_values: required section is missing (it needs "
                          "unpaid, paid, cancelled)"));
}

TEST_F(LoaderTest, EmptyFileListsEveryRequiredSection) {
  EXPECT_THAT(Errors(""),
              ElementsAre("test.yaml:1: rabbitmq: required section is missing (it needs url, queue, dead_letter_queue)",
                          "test.yaml:1: database: required section is missing (it needs driver, orders.order_no, "
                          "orders.status, orders.amount, orders.created_at, orders.status_values.unpaid, "
                          "orders.status_values.paid, orders.status_values.cancelled)",
                          "test.yaml:1: wechatpay: required section is missing (it needs merchant_serial_no, "
                          "private_key_file)",
                          "test.yaml:1: policy: required section is missing (it needs order_ttl)"));
}

TEST_F(LoaderTest, RequiredKeyWithEmptyValue) {
  EXPECT_THAT(Errors(Edit(kBaseConfig, "  queue: order.expired\n", "  queue: \"\"\n")),
              ElementsAre("test.yaml:3: rabbitmq.queue: must not be empty (the queue the shop's delayed order numbers "
                          "arrive on, e.g. order.expired)"));
  EXPECT_THAT(Errors(Edit(kBaseConfig, "  order_ttl: 15m\n", "  order_ttl:\n")),
              ElementsAre("test.yaml:24: policy.order_ttl: expected a duration such as 500ms, 30s, 5m or 1h, got an "
                          "empty value"));
}

// --- ${ENV} -----------------------------------------------------------------

TEST_F(LoaderTest, EnvironmentVariablesAreExpandedInValues) {
  env()["QUEUE_SUFFIX"] = "prod";
  env()["PREFETCH"] = "32";
  env()["TRICKY"] = "a: [b";  // YAML syntax in a value stays text
  const std::string text = Edit(Edit(kBaseConfig,
      "  queue: order.expired\n", "  queue: order.expired.${QUEUE_SUFFIX}\n  prefetch: ${PREFETCH}\n"),
      "  dead_letter_queue: order.expired.dead\n", "  dead_letter_queue: \"${TRICKY}\"\n");
  auto loaded = Load(text);
  ASSERT_TRUE(loaded.ok()) << ::testing::PrintToString(loaded.error());
  EXPECT_EQ(loaded->config.rabbitmq.queue, "order.expired.prod");
  EXPECT_EQ(loaded->config.rabbitmq.prefetch, 32);
  EXPECT_EQ(loaded->config.rabbitmq.dead_letter_queue, "a: [b");
}

TEST_F(LoaderTest, UnsetVariableIsAnErrorNamingItAndTheKey) {
  const std::string text = Edit(Edit(kBaseConfig,
      "  queue: order.expired\n", "  queue: ${QUEUE}\n"),
      "  private_key_file: ${DIR}/apiclient_key.pem\n", "  private_key_file: ${CREDENTIALS_DIRECTORY}/key.pem\n");
  EXPECT_THAT(Errors(text),
              ElementsAre("test.yaml:3: rabbitmq.queue: environment variable QUEUE is not set",
                          "test.yaml:20: wechatpay.private_key_file: environment variable CREDENTIALS_DIRECTORY is "
                          "not set (systemd sets it when the unit has LoadCredential=)"));
}

TEST_F(LoaderTest, SecretUrlIsNeverQuoted) {
  const std::string text = Edit(kBaseConfig, "  url: amqp://wxpay:secret@127.0.0.1:5672/%2f\n",
                                "  url: [amqp://wxpay:secret@127.0.0.1:5672/%2f]\n");
  const std::vector<std::string> errors = Errors(text);
  EXPECT_THAT(errors, ElementsAre("test.yaml:2: rabbitmq.url: expected a text value, got a list"));
  const std::vector<std::string> bad = Errors(Edit(kBaseConfig, "amqp://wxpay:secret@", "amqpx://wxpay:secret@"));
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].find("secret"), std::string::npos) << bad[0];
}

// --- syntax and shape -------------------------------------------------------

TEST_F(LoaderTest, SyntaxErrorHasFileAndLine) {
  EXPECT_THAT(Errors("rabbitmq:\n  url: x\n queue: y\n"),
              ElementsAre("test.yaml:3: YAML syntax error: end of map not found"));
}

TEST_F(LoaderTest, TopLevelMustBeAMapping) {
  EXPECT_THAT(Errors("- rabbitmq\n"),
              ElementsAre("test.yaml:1: the file must be a mapping of sections (rabbitmq:, database:, wechatpay:, "
                          "policy:, ...), not a list"));
}

TEST_F(LoaderTest, KeysMustBeScalars) {
  EXPECT_THAT(Errors(std::string(kBaseConfig) + "? [a, b]\n: 1\n"),
              ElementsAre("test.yaml:25: (top level): a key must be a plain name, not a list"));
}

// --- many problems at once --------------------------------------------------

TEST_F(LoaderTest, AllErrorsAreReportedTogetherInLineOrder) {
  const std::string text = Edit(Edit(Edit(Edit(kBaseConfig,
      "  queue: order.expired\n", "  queue: order.expired\n  prefech: 10\n"),      // 4
      "  driver: sqlite\n", "  driver: oracle\n"),                                 // 7
      "  public_key_id: PUB_KEY_ID_0114232134912410000000000000000001\n",
      "  public_key_id: 0114232134912410000000000000000001\n"),                    // 23
      "  order_ttl: 15m\n", "  order_tll: 15m\n");                                 // 25
  EXPECT_THAT(Errors(text),
              ElementsAre("test.yaml:4: rabbitmq.prefech: unknown key (did you mean prefetch?)",
                          "test.yaml:7: database.driver: expected sqlite, mysql or postgresql, got \"oracle\"",
                          "test.yaml:23: wechatpay.public_key_id: \"0114232134912410000000000000000001\" does not "
                          "start with PUB_KEY_ID_ (copy the id shown next to the public key in the merchant platform)",
                          "test.yaml:24: policy.order_ttl: required key is missing (the shop's payment window, e.g. "
                          "15m)",
                          "test.yaml:25: policy.order_tll: unknown key (did you mean order_ttl?)"));
}

// --- files ------------------------------------------------------------------

TEST_F(LoaderTest, LoadConfigFileNamesThePath) {
  const std::string path = dir().Write("config.yaml", kBaseConfig, 0640);
  auto loaded = LoadConfigFile(path, testing::MapEnv(env()));
  ASSERT_TRUE(loaded.ok()) << ::testing::PrintToString(loaded.error());
  EXPECT_EQ(loaded->config.source_file, path);

  const std::string bad = dir().Write("bad.yaml", Edit(kBaseConfig, "  order_ttl: 15m\n", "  order_ttl: soon\n"));
  EXPECT_THAT(LoadConfigFile(bad, testing::MapEnv(env())).error(),
              ElementsAre(bad + ":24: policy.order_ttl: \"soon\" is not a duration; write e.g. 500ms, 30s, 5m, 1h "
                                "or 1h30m"));

  EXPECT_THAT(LoadConfigFile(dir().path() + "/missing.yaml", testing::MapEnv(env())).error(),
              ElementsAre("configuration file: cannot read " + dir().path() +
                          "/missing.yaml: No such file or directory (choose the file with -c FILE or "
                          "WXPAY_RECONCILER_CONFIG)"));
}

TEST_F(LoaderTest, OversizedFileIsRefused) {
  const std::string path = dir().Write("huge.yaml", std::string(1024 * 1024 + 1, '#'));
  EXPECT_THAT(LoadConfigFile(path, testing::MapEnv(env())).error(),
              ElementsAre("configuration file: " + path + " is larger than 1024 KiB (choose the file with -c FILE or "
                          "WXPAY_RECONCILER_CONFIG)"));
}

TEST(ProcessEnv, ReadsTheEnvironment) {
  const EnvLookup env = ProcessEnv();
  EXPECT_EQ(env("WXPAY_CONFIG_TEST_SURELY_UNSET_VARIABLE"), std::nullopt);
  const char* path = std::getenv("PATH");
  ASSERT_NE(path, nullptr);
  EXPECT_EQ(env("PATH"), std::optional<std::string>(path));
}

}  // namespace
}  // namespace wxpay
