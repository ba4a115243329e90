// Cross-checks: every error path of config/checks*.cc with its exact message.
#include "config/checks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/loader.h"
#include "config/test_support.h"

namespace wxpay {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::ConfigFixture;
using testing::Edit;
using testing::kBaseConfig;

class ChecksTest : public ::testing::Test, public ConfigFixture {
 protected:
  // The base config with `line` added under the section starting with `section` (e.g. "policy:\n").
  std::string With(const std::string& section, const std::string& lines) {
    return Edit(kBaseConfig, section, section + lines);
  }
};

// --- policy -----------------------------------------------------------------

TEST_F(ChecksTest, RetryInitialLongerThanMax) {
  EXPECT_THAT(Errors(With("policy:\n", "  retry:\n    initial: 20m\n    max: 10m\n")),
              ElementsAre("test.yaml:25: policy.retry.initial: 20m is longer than policy.retry.max (10m); make "
                          "initial the shorter one"));
  // Against the default max, the line is the key's own.
  EXPECT_THAT(Errors(With("policy:\n", "  retry: {initial: 1h}\n")),
              ElementsAre("test.yaml:24: policy.retry.initial: 1h is longer than policy.retry.max (10m); make "
                          "initial the shorter one"));
}

TEST_F(ChecksTest, RetryMultiplierBelowOneOrHuge) {
  EXPECT_THAT(Errors(With("policy:\n", "  retry: {multiplier: 0.5}\n")),
              ElementsAre("test.yaml:24: policy.retry.multiplier: must be at least 1 (1 retries at a fixed "
                          "interval), got 0.5"));
  EXPECT_THAT(Errors(With("policy:\n", "  retry: {multiplier: 1000}\n")),
              ElementsAre("test.yaml:24: policy.retry.multiplier: must be at most 100, got 1000"));
  EXPECT_TRUE(Load(With("policy:\n", "  retry: {multiplier: 1}\n")).ok());
}

TEST_F(ChecksTest, PrefetchBelowConcurrencyIsAWarning) {
  EXPECT_THAT(Warnings(Edit(With("policy:\n", "  concurrency: 16\n"), "  queue: order.expired\n",
                            "  queue: order.expired\n  prefetch: 4\n")),
              ElementsAre("test.yaml:4: rabbitmq.prefetch: 4 is less than policy.concurrency (16), so some workers "
                          "will idle; set prefetch to at least 16"));
}

// --- rabbitmq ---------------------------------------------------------------

TEST_F(ChecksTest, BadBrokerUrl) {
  EXPECT_THAT(Errors(Edit(kBaseConfig, "amqp://wxpay:secret@127.0.0.1:5672/%2f", "http://127.0.0.1/")),
              ElementsAre("test.yaml:2: rabbitmq.url: is not an amqp:// or amqps:// URL (expected "
                          "amqp://user@host:5672/vhost or amqps://...)"));
}

TEST_F(ChecksTest, PasswordFileOverridesUrlPassword) {
  dir().Write("rabbitmq-password", "from-file\n");
  auto loaded = Load(With("rabbitmq:\n", "  password_file: ${DIR}/rabbitmq-password\n"));
  ASSERT_TRUE(loaded.ok()) << ::testing::PrintToString(loaded.error());
  EXPECT_EQ(loaded->config.rabbitmq.password, "from-file");
  EXPECT_THAT(loaded->warnings, IsEmpty());
}

TEST_F(ChecksTest, UrlWithoutPasswordGivesEmptyPassword) {
  auto loaded = Load(Edit(kBaseConfig, "wxpay:secret@", "wxpay@"));
  ASSERT_TRUE(loaded.ok()) << ::testing::PrintToString(loaded.error());
  EXPECT_EQ(loaded->config.rabbitmq.password, "");
}

TEST_F(ChecksTest, PasswordFileProblemsNameThePathNeverTheContent) {
  const std::string missing = dir().path() + "/nope";
  EXPECT_THAT(Errors(With("rabbitmq:\n", "  password_file: ${DIR}/nope\n")),
              ElementsAre("test.yaml:2: rabbitmq.password_file: cannot read " + missing + ": No such file or directory"));
  dir().Write("empty", "\n");
  EXPECT_THAT(Errors(With("rabbitmq:\n", "  password_file: ${DIR}/empty\n")),
              ElementsAre("test.yaml:2: rabbitmq.password_file: " + dir().path() + "/empty is empty; it must hold the "
                          "password"));
  dir().Write("two-lines", "hunter2\nsecond\n");
  const std::vector<std::string> errors = Errors(With("rabbitmq:\n", "  password_file: ${DIR}/two-lines\n"));
  EXPECT_THAT(errors, ElementsAre("test.yaml:2: rabbitmq.password_file: " + dir().path() +
                                  "/two-lines holds more than one line; it must hold only the password"));
  EXPECT_EQ(::testing::PrintToString(errors).find("hunter2"), std::string::npos);
  dir().Write("huge", std::string(64 * 1024 + 1, 'x'));
  EXPECT_THAT(Errors(With("rabbitmq:\n", "  password_file: ${DIR}/huge\n")),
              ElementsAre("test.yaml:2: rabbitmq.password_file: " + dir().path() +
                          "/huge is larger than 64 KiB; it must hold only the password"));
  EXPECT_THAT(Errors(With("rabbitmq:\n", "  password_file: ${DIR}\n")),
              ElementsAre("test.yaml:2: rabbitmq.password_file: cannot read " + dir().path() + ": not a regular file"));
  EXPECT_THAT(Errors(With("rabbitmq:\n", "  password_file: relative/pw\n")),
              ElementsAre("test.yaml:2: rabbitmq.password_file: \"relative/pw\" is not an absolute path; write the "
                          "full path (the daemon runs in /)"));
}

TEST_F(ChecksTest, PasswordFileStripsOneNewlineAndWarnsWhenShared) {
  dir().Write("crlf", "pw\r\n", 0644);
  auto loaded = Load(With("rabbitmq:\n", "  password_file: ${DIR}/crlf\n"));
  ASSERT_TRUE(loaded.ok()) << ::testing::PrintToString(loaded.error());
  EXPECT_EQ(loaded->config.rabbitmq.password, "pw");
  EXPECT_THAT(loaded->warnings,
              ElementsAre("test.yaml:2: rabbitmq.password_file: " + dir().path() + "/crlf is readable by group or "
                          "others (mode 0644); make it private: chmod 600 " + dir().path() + "/crlf"));
  dir().Write("no-newline", "pw2", 0600);
  auto plain = Load(With("rabbitmq:\n", "  password_file: ${DIR}/no-newline\n"));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->config.rabbitmq.password, "pw2");
}

TEST_F(ChecksTest, AmqpsToAnIpAddressIsAWarning) {
  EXPECT_THAT(Warnings(Edit(kBaseConfig, "amqp://wxpay:secret@127.0.0.1:5672/%2f", "amqps://wxpay:secret@10.0.0.5/%2f")),
              ElementsAre("test.yaml:2: rabbitmq.url: amqps:// to the IP address 10.0.0.5: librabbitmq 0.11 cannot "
                          "verify a certificate for an IP address; use the broker's DNS name"));
  EXPECT_THAT(Warnings(Edit(kBaseConfig, "amqp://wxpay:secret@127.0.0.1:5672/%2f", "amqps://wxpay:secret@mq.example.com/%2f")),
              IsEmpty());
}

TEST_F(ChecksTest, BrokerTlsSettings) {
  EXPECT_THAT(Warnings(With("rabbitmq:\n", "  tls: {ca_file: /etc/ssl/ca.pem}\n")),
              ElementsAre("test.yaml:2: rabbitmq.tls.ca_file: ignored: rabbitmq.url is amqp://, not amqps://"));
  const std::string tls = Edit(kBaseConfig, "amqp://wxpay:secret@127.0.0.1:5672/%2f", "amqps://wxpay:secret@mq.example.com/%2f");
  dir().Write("client.pem", "cert");
  EXPECT_THAT(Errors(Edit(tls, "rabbitmq:\n", "rabbitmq:\n  tls:\n    cert_file: ${DIR}/client.pem\n    ca_file: ${DIR}/ca.pem\n")),
              ElementsAre("test.yaml:2: rabbitmq.tls.key_file: required when rabbitmq.tls.cert_file is set (the client "
                          "certificate's private key)",
                          "test.yaml:4: rabbitmq.tls.ca_file: cannot read " + dir().path() + "/ca.pem: No such file or "
                          "directory"));
  dir().Write("client.key", "key", 0640);
  EXPECT_THAT(Warnings(Edit(tls, "rabbitmq:\n", "rabbitmq:\n  tls:\n    cert_file: ${DIR}/client.pem\n    key_file: ${DIR}/client.key\n")),
              ElementsAre("test.yaml:4: rabbitmq.tls.key_file: " + dir().path() + "/client.key is readable by group or "
                          "others (mode 0640); make it private: chmod 600 " + dir().path() + "/client.key"));
  EXPECT_THAT(Errors(Edit(tls, "rabbitmq:\n", "rabbitmq:\n  tls:\n    key_file: ${DIR}/client.key\n")),
              ElementsAre("test.yaml:2: rabbitmq.tls.cert_file: required when rabbitmq.tls.key_file is set (the client "
                          "certificate)"));
  EXPECT_THAT(Warnings(Edit(tls, "rabbitmq:\n", "rabbitmq:\n  tls: {verify_peer: false}\n")),
              ElementsAre("test.yaml:2: rabbitmq.tls.verify_peer: false: the broker's certificate is not checked, so "
                          "anyone on the network path can pose as the broker"));
}

TEST_F(ChecksTest, QueueAndExchangeNames) {
  EXPECT_THAT(Errors(Edit(kBaseConfig, "  dead_letter_queue: order.expired.dead\n", "  dead_letter_queue: order.expired\n")),
              ElementsAre("test.yaml:4: rabbitmq.dead_letter_queue: must differ from rabbitmq.queue, or dead letters "
                          "would come straight back"));
  EXPECT_THAT(Errors(Edit(kBaseConfig, "  queue: order.expired\n", "  queue: amq.orders\n")),
              ElementsAre("test.yaml:3: rabbitmq.queue: \"amq.orders\": names starting with amq. are reserved by "
                          "RabbitMQ; choose another name"));
  EXPECT_THAT(Errors(With("rabbitmq:\n", "  retry_exchange: \"\"\n")),
              ElementsAre("test.yaml:2: rabbitmq.retry_exchange: must not be empty"));
  EXPECT_THAT(Errors(With("rabbitmq:\n", "  events_exchange: wxpay-reconciler.retry\n")),
              ElementsAre("test.yaml:2: rabbitmq.events_exchange: must differ from rabbitmq.retry_exchange, or "
                          "outcome events would be taken for reschedules"));
  EXPECT_THAT(Errors(Edit(kBaseConfig, "  queue: order.expired\n", "  queue: \"order\\x01\"\n")),
              ElementsAre("test.yaml:3: rabbitmq.queue: contains a control character"));
  EXPECT_THAT(Errors(Edit(kBaseConfig, "  queue: order.expired\n", "  queue: " + std::string(256, 'q') + "\n")),
              ElementsAre("test.yaml:3: rabbitmq.queue: is longer than 255 bytes, the AMQP limit"));
}

TEST_F(ChecksTest, Heartbeat) {
  EXPECT_THAT(Errors(With("rabbitmq:\n", "  heartbeat: 1500ms\n")),
              ElementsAre("test.yaml:2: rabbitmq.heartbeat: must be whole seconds (AMQP counts heartbeats in seconds), "
                          "got 1s500ms"));
  EXPECT_THAT(Warnings(With("rabbitmq:\n", "  heartbeat: 0s\n")),
              ElementsAre("test.yaml:2: rabbitmq.heartbeat: 0s disables heartbeats: a broker connection that died "
                          "silently goes unnoticed"));
}

TEST_F(ChecksTest, JsonFormatNeedsAField) {
  EXPECT_THAT(Errors(With("rabbitmq:\n", "  message:\n    format: json\n    json_field: \"\"\n")),
              ElementsAre("test.yaml:4: rabbitmq.message.json_field: must not be empty when rabbitmq.message.format "
                          "is json (e.g. orderNo)"));
  EXPECT_TRUE(Load(With("rabbitmq:\n", "  message: {format: text, json_field: \"\"}\n")).ok());
}

TEST_F(ChecksTest, ShopDelay) {
  auto ok = Load(With("rabbitmq:\n", "  shop_delay: {exchange: order.delay, queue: order.delay.wait, ttl: 15m}\n"));
  ASSERT_TRUE(ok.ok()) << ::testing::PrintToString(ok.error());
  EXPECT_EQ(ok->config.rabbitmq.shop_delay.ttl, std::chrono::minutes(15));

  EXPECT_THAT(Errors(With("rabbitmq:\n", "  shop_delay:\n    exchange: order.delay\n    queue: order.delay.wait\n    ttl: 10m\n")),
              ElementsAre("test.yaml:5: rabbitmq.shop_delay.ttl: 10m is shorter than policy.order_ttl (15m): orders "
                          "would arrive before their payment window ends; set it to at least 15m"));
  EXPECT_THAT(Errors(With("rabbitmq:\n", "  shop_delay:\n    exchange: order.delay\n")),
              ElementsAre("test.yaml:2: rabbitmq.shop_delay.queue: required when rabbitmq.shop_delay.exchange is set "
                          "(the TTL queue, e.g. order.delay.wait)",
                          "test.yaml:2: rabbitmq.shop_delay.ttl: required when rabbitmq.shop_delay.exchange is set "
                          "(at least policy.order_ttl, e.g. 15m)"));
  EXPECT_THAT(Errors(With("rabbitmq:\n", "  shop_delay: {queue: order.delay.wait, ttl: 15m}\n")),
              ElementsAre("test.yaml:2: rabbitmq.shop_delay.queue: set without rabbitmq.shop_delay.exchange; set both, "
                          "or neither",
                          "test.yaml:2: rabbitmq.shop_delay.ttl: set without rabbitmq.shop_delay.exchange; set "
                          "exchange, queue and ttl, or none"));
  EXPECT_THAT(Errors(With("rabbitmq:\n", "  shop_delay: {exchange: x, queue: order.expired, ttl: 15m}\n")),
              ElementsAre("test.yaml:2: rabbitmq.shop_delay.queue: must differ from rabbitmq.queue (it is the queue "
                          "order numbers wait in before they reach it)"));
}

// --- database ---------------------------------------------------------------

TEST_F(ChecksTest, SqliteNeedsAnAbsolutePath) {
  EXPECT_THAT(Errors(Edit(kBaseConfig, "  path: /var/lib/shop/shop.db\n", "")),
              ElementsAre("test.yaml:5: database.path: required when database.driver is sqlite (the shop's database "
                          "file, e.g. /var/lib/shop/shop.db)"));
  EXPECT_THAT(Errors(Edit(kBaseConfig, "  path: /var/lib/shop/shop.db\n", "  path: shop.db\n")),
              ElementsAre("test.yaml:7: database.path: \"shop.db\" is not an absolute path; write the full path (the "
                          "daemon runs in /)"));
  EXPECT_THAT(Warnings(With("database:\n", "  password_file: /run/pw\n")),
              ElementsAre("test.yaml:6: database.password_file: ignored: sqlite has no passwords"));
}

TEST_F(ChecksTest, ServerDatabasesNeedHostNameAndUser) {
  const std::string mysql = Edit(kBaseConfig, "  driver: sqlite\n  path: /var/lib/shop/shop.db\n",
                                 "  driver: mysql\n  host: \"\"\n");
  EXPECT_THAT(Errors(mysql),
              ElementsAre("test.yaml:5: database.name: required when database.driver is mysql (the shop's database "
                          "name, e.g. shop)",
                          "test.yaml:5: database.user: required when database.driver is mysql (the user the daemon "
                          "logs in as)",
                          "test.yaml:7: database.host: required when database.driver is mysql (the database server, "
                          "e.g. 127.0.0.1)"));
}

TEST_F(ChecksTest, ServerDatabaseReadsItsPasswordFile) {
  dir().Write("db-password", "dbpw\n");
  const std::string postgres = Edit(kBaseConfig, "  driver: sqlite\n  path: /var/lib/shop/shop.db\n",
                                    "  driver: postgresql\n  name: shop\n  user: wxpay\n  port: 5432\n"
                                    "  password_file: ${DIR}/db-password\n  tls: {mode: verify-full}\n");
  EXPECT_THAT(Errors(Edit(postgres, "{mode: verify-full}", "{mode: verify-full, ca_file: \"${DIR}/db-ca.pem\"}")),
              ElementsAre("test.yaml:11: database.tls.ca_file: cannot read " + dir().path() +
                          "/db-ca.pem: No such file or directory"));
  EXPECT_THAT(Errors(Edit(postgres, "  port: 5432\n", "  port: 65536\n")),
              ElementsAre("test.yaml:9: database.port: must be between 0 and 65535, got 65536"));
  auto loaded = Load(postgres);
  ASSERT_TRUE(loaded.ok()) << ::testing::PrintToString(loaded.error());
  EXPECT_EQ(loaded->config.database.password, "dbpw");
  EXPECT_EQ(loaded->config.database.port, 5432);
  EXPECT_EQ(loaded->config.database.tls.mode, DatabaseTls::Mode::kVerifyFull);
  EXPECT_THAT(Errors(Edit(postgres, "/db-password", "/db-nope")),
              ElementsAre("test.yaml:10: database.password_file: cannot read " + dir().path() +
                          "/db-nope: No such file or directory"));
}

TEST_F(ChecksTest, IdentifiersMustBePlain) {
  const std::string text = Edit(Edit(Edit(kBaseConfig,
      "    order_no: order_no\n", "    table: shop.orders\n    order_no: \"order no\"\n"),   // 9, 10
      "    amount: amount\n", "    amount: amount;drop\n"),                                // 12
      "    created_at: created_at\n", "    created_at: created_at\n    paid_at: 1paid\n");  // 14
  EXPECT_THAT(Errors(text),
              ElementsAre("test.yaml:10: database.orders.order_no: \"order no\" is not a plain SQL identifier (letters, "
                          "digits and _, not starting with a digit, at most 64)",
                          "test.yaml:12: database.orders.amount: \"amount;drop\" is not a plain SQL identifier "
                          "(letters, digits and _, not starting with a digit, at most 64)",
                          "test.yaml:14: database.orders.paid_at: \"1paid\" is not a plain SQL identifier (letters, "
                          "digits and _, not starting with a digit, at most 64)"));
  EXPECT_THAT(Errors(Edit(kBaseConfig, "    order_no: order_no\n", "    order_no: order_no\n    out_trade_no: \"no-1\"\n")),
              ElementsAre("test.yaml:10: database.orders.out_trade_no: \"no-1\" is not a plain SQL identifier (letters, "
                          "digits and _, not starting with a digit, at most 64)"));
  EXPECT_THAT(Errors(Edit(kBaseConfig, "    order_no: order_no\n", "    table: a.b.c\n    order_no: order_no\n")),
              ElementsAre("test.yaml:9: database.orders.table: \"a.b.c\" is not a plain SQL identifier (letters, digits "
                          "and _, not starting with a digit, at most 64; schema.table is allowed)"));
}

TEST_F(ChecksTest, AColumnIsMappedOnce) {
  EXPECT_THAT(Errors(Edit(kBaseConfig, "    created_at: created_at\n", "    created_at: created_at\n    updated_at: status\n")),
              ElementsAre("test.yaml:13: database.orders.updated_at: \"status\" is already mapped as "
                          "database.orders.status; each column may be mapped once"));
}

TEST_F(ChecksTest, PaymentsColumnsAreCheckedWhenTheTableIsSet) {
  EXPECT_TRUE(Load(With("database:\n", "  payments: {columns: {raw: \"bad column\"}}\n")).ok());
  EXPECT_THAT(Errors(With("database:\n", "  payments:\n    table: payments\n    columns: {raw: \"bad column\", amount: order_no}\n")),
              ElementsAre("test.yaml:8: database.payments.columns.amount: \"order_no\" is already mapped as "
                          "database.payments.columns.order_no; each column may be mapped once",
                          "test.yaml:8: database.payments.columns.raw: \"bad column\" is not a plain SQL identifier "
                          "(letters, digits and _, not starting with a digit, at most 64)"));
}

TEST_F(ChecksTest, StatusValuesMustDiffer) {
  EXPECT_THAT(Errors(Edit(kBaseConfig, "      cancelled: \"5\"\n", "      cancelled: \"2\"\n")),
              ElementsAre("test.yaml:16: database.orders.status_values.cancelled: \"2\" is also "
                          "database.orders.status_values.paid; the three status values must differ"));
  EXPECT_THAT(Errors(Edit(kBaseConfig, "      paid: \"2\"\n", "      paid: \"\"\n")),
              ElementsAre("test.yaml:15: database.orders.status_values.paid: must not be empty (the status value of a "
                          "paid order, e.g. \"2\")"));
}

TEST_F(ChecksTest, FilterNeedsColumnAndValues) {
  const std::string column_only = Edit(kBaseConfig, "    created_at: created_at\n",
                                       "    created_at: created_at\n    filter:\n      column: pay_method\n");
  EXPECT_THAT(Errors(column_only),
              ElementsAre("test.yaml:13: database.orders.filter.values: required when database.orders.filter.column "
                          "is set (e.g. [wxpay])"));
  const std::string values_only = Edit(kBaseConfig, "    created_at: created_at\n",
                                       "    created_at: created_at\n    filter:\n      values: [wxpay]\n");
  EXPECT_THAT(Errors(values_only),
              ElementsAre("test.yaml:13: database.orders.filter.column: required when database.orders.filter.values "
                          "is set (the column to filter on)"));
  auto both = Load(Edit(kBaseConfig, "    created_at: created_at\n",
                        "    created_at: created_at\n    filter: {column: pay_method, values: [wxpay, \"3\"]}\n"));
  ASSERT_TRUE(both.ok()) << ::testing::PrintToString(both.error());
  EXPECT_EQ(both->config.database.orders.filter.values, (std::vector<std::string>{"wxpay", "3"}));
}

TEST_F(ChecksTest, TimeZone) {
  const std::string at = "    created_at: created_at\n";
  EXPECT_THAT(Errors(Edit(kBaseConfig, at, at + "    timezone: Asia/Shangai\n")),
              ElementsAre("test.yaml:13: database.orders.timezone: \"Asia/Shangai\" is not in /usr/share/zoneinfo; "
                          "check the spelling (e.g. Asia/Shanghai) or install tzdata"));
  EXPECT_THAT(Errors(Edit(kBaseConfig, at, at + "    timezone: ../etc/passwd\n")),
              ElementsAre("test.yaml:13: database.orders.timezone: \"../etc/passwd\" is not an IANA time zone name "
                          "(e.g. Asia/Shanghai or UTC)"));
  EXPECT_TRUE(Load(Edit(kBaseConfig, at, at + "    timezone: UTC\n")).ok());
}

// --- wechatpay --------------------------------------------------------------

TEST_F(ChecksTest, PublicKeyFileAndIdGoTogether) {
  EXPECT_THAT(Errors(Edit(kBaseConfig, "  public_key_id: PUB_KEY_ID_0114232134912410000000000000000001\n", "")),
              ElementsAre("test.yaml:17: wechatpay.public_key_id: required when wechatpay.public_key_file is set (the "
                          "PUB_KEY_ID_... shown next to the key in the merchant platform)"));
  EXPECT_THAT(Errors(Edit(kBaseConfig, "  public_key_file: ${DIR}/pub_key.pem\n", "")),
              ElementsAre("test.yaml:17: wechatpay.public_key_file: required when wechatpay.public_key_id is set (the "
                          "WeChat Pay public key, e.g. pub_key.pem)"));
  EXPECT_THAT(Errors(Edit(kBaseConfig, "PUB_KEY_ID_0114232134912410000000000000000001", "PUB_KEY_ID_")),
              ElementsAre("test.yaml:22: wechatpay.public_key_id: \"PUB_KEY_ID_\" does not start with PUB_KEY_ID_ (copy "
                          "the id shown next to the public key in the merchant platform)"));
}

TEST_F(ChecksTest, SomethingMustVerifyAnswers) {
  const std::string none = Edit(kBaseConfig,
                                "  public_key_file: ${DIR}/pub_key.pem\n"
                                "  public_key_id: PUB_KEY_ID_0114232134912410000000000000000001\n", "");
  EXPECT_THAT(Errors(none),
              ElementsAre("test.yaml:17: wechatpay.public_key_file: nothing to verify WeChat Pay's answers with: set "
                          "wechatpay.public_key_file and wechatpay.public_key_id (public-key mode), or "
                          "wechatpay.platform_certificates"));
  dir().Write("platform_cert.pem", "cert");
  auto certificates = Load(Edit(none, "policy:\n", "  platform_certificates: [\"${DIR}/platform_cert.pem\"]\npolicy:\n"));
  ASSERT_TRUE(certificates.ok()) << ::testing::PrintToString(certificates.error());
  EXPECT_EQ(certificates->config.wechatpay.platform_certificates,
            std::vector<std::string>{dir().path() + "/platform_cert.pem"});
  EXPECT_THAT(Errors(Edit(none, "policy:\n", "  platform_certificates:\n    - ${DIR}/old.pem\npolicy:\n")),
              ElementsAre("test.yaml:22: wechatpay.platform_certificates: cannot read " + dir().path() +
                          "/old.pem: No such file or directory"));
}

TEST_F(ChecksTest, KeyFilesMustExistAndThePrivateKeyBePrivate) {
  EXPECT_THAT(Errors(Edit(kBaseConfig, "${DIR}/apiclient_key.pem", "${DIR}/missing_key.pem")),
              ElementsAre("test.yaml:20: wechatpay.private_key_file: cannot read " + dir().path() +
                          "/missing_key.pem: No such file or directory"));
  EXPECT_THAT(Errors(Edit(kBaseConfig, "${DIR}/pub_key.pem", "${DIR}/missing_pub.pem")),
              ElementsAre("test.yaml:21: wechatpay.public_key_file: cannot read " + dir().path() +
                          "/missing_pub.pem: No such file or directory"));
  dir().Write("shared_key.pem", "key", 0644);
  EXPECT_THAT(Warnings(Edit(kBaseConfig, "${DIR}/apiclient_key.pem", "${DIR}/shared_key.pem")),
              ElementsAre("test.yaml:20: wechatpay.private_key_file: " + dir().path() + "/shared_key.pem is readable "
                          "by group or others (mode 0644); make it private: chmod 600 " + dir().path() + "/shared_key.pem"));
  EXPECT_THAT(Errors(With("wechatpay:\n", "  apiv3_key_file: ${DIR}/apiv3\n  ca_file: ${DIR}/ca.pem\n")),
              ElementsAre("test.yaml:18: wechatpay.apiv3_key_file: cannot read " + dir().path() +
                          "/apiv3: No such file or directory",
                          "test.yaml:19: wechatpay.ca_file: cannot read " + dir().path() +
                          "/ca.pem: No such file or directory"));
}

TEST_F(ChecksTest, DirectModeNeedsMchid) {
  EXPECT_THAT(Errors(Edit(kBaseConfig, "  mchid: \"1900000001\"\n", "")),
              ElementsAre("test.yaml:17: wechatpay.mchid: required in direct mode (your merchant number, e.g. "
                          "1900000001)"));
  EXPECT_THAT(Errors(Edit(kBaseConfig, "  mchid: \"1900000001\"\n", "  mchid: 19000-1\n")),
              ElementsAre("test.yaml:18: wechatpay.mchid: \"19000-1\" is not a merchant number (digits only, e.g. "
                          "1900000001)"));
  EXPECT_THAT(Warnings(With("wechatpay:\n", "  sp_mchid: \"1900000100\"\n  sub_mchid: \"1900000109\"\n")),
              ElementsAre("test.yaml:18: wechatpay.sp_mchid: ignored in direct mode (set wechatpay.mode: partner to "
                          "use it)",
                          "test.yaml:19: wechatpay.sub_mchid: ignored in direct mode (set wechatpay.mode: partner to "
                          "use it)"));
}

TEST_F(ChecksTest, SubMchidColumnIsIgnoredInDirectMode) {
  EXPECT_THAT(Warnings(Edit(kBaseConfig, "    created_at: created_at\n", "    created_at: created_at\n    sub_mchid: sub_mch\n")),
              ElementsAre("test.yaml:13: database.orders.sub_mchid: ignored in direct mode (set wechatpay.mode: partner "
                          "to use it)"));
}

TEST_F(ChecksTest, PartnerModeNeedsSpMchidAndASubMerchant) {
  const std::string partner = Edit(kBaseConfig, "  mchid: \"1900000001\"\n", "  mode: partner\n");
  EXPECT_THAT(Errors(partner),
              ElementsAre("test.yaml:17: wechatpay.sp_mchid: required in partner mode (the service provider's merchant "
                          "number, which signs the requests)",
                          "test.yaml:17: wechatpay.sub_mchid: partner mode needs a sub-merchant: set "
                          "wechatpay.sub_mchid, or database.orders.sub_mchid to the column holding each order's "
                          "sub-merchant"));
  auto fixed = Load(Edit(partner, "  mode: partner\n", "  mode: partner\n  sp_mchid: \"1900000100\"\n  sub_mchid: \"1900000109\"\n"));
  ASSERT_TRUE(fixed.ok()) << ::testing::PrintToString(fixed.error());
  EXPECT_EQ(fixed->config.wechatpay.signing_mchid(), "1900000100");
  EXPECT_THAT(fixed->warnings, IsEmpty());
  auto column = Load(Edit(Edit(partner, "  mode: partner\n", "  mode: partner\n  sp_mchid: \"1900000100\"\n"),
                          "    created_at: created_at\n", "    created_at: created_at\n    sub_mchid: sub_mch\n"));
  ASSERT_TRUE(column.ok()) << ::testing::PrintToString(column.error());
  EXPECT_EQ(column->config.database.orders.sub_mchid, "sub_mch");
  EXPECT_THAT(Warnings(Edit(partner, "  mode: partner\n", "  mode: partner\n  mchid: \"1\"\n  sp_mchid: \"2\"\n  sub_mchid: \"3\"\n")),
              ElementsAre("test.yaml:19: wechatpay.mchid: ignored in partner mode (requests use sp_mchid and sub_mchid)"));
}

TEST_F(ChecksTest, BaseUrlMustNotHaveAPath) {
  // The client signs /v3/... as sent; a prefix would be signed wrongly.
  EXPECT_THAT(Errors(With("wechatpay:\n", "  base_url: https://proxy.example.com/wechat\n")),
              ElementsAre("test.yaml:18: wechatpay.base_url: \"https://proxy.example.com/wechat\" has a path "
                          "(/wechat); give only scheme, host and port, e.g. https://api.mch.weixin.qq.com"));
}

TEST_F(ChecksTest, PlainHttpOnlyWhenAllowedAndOnlyToLoopback) {
  EXPECT_THAT(Errors(With("wechatpay:\n", "  base_url: http://127.0.0.1:8080\n")),
              ElementsAre("test.yaml:18: wechatpay.base_url: http:// is refused: answers could be forged on the way; "
                          "use https:// (or, for tests against a local simulator only, set "
                          "wechatpay.allow_plain_http: true)"));
  auto allowed = Load(With("wechatpay:\n", "  base_url: http://127.0.0.1:8080/\n  allow_plain_http: true\n"));
  ASSERT_TRUE(allowed.ok()) << ::testing::PrintToString(allowed.error());
  EXPECT_EQ(allowed->config.wechatpay.base_url, "http://127.0.0.1:8080");
  EXPECT_THAT(Errors(With("wechatpay:\n", "  backup_base_url: http://api2.example.com\n  allow_plain_http: true\n")),
              ElementsAre("test.yaml:18: wechatpay.backup_base_url: http:// is allowed only to a loopback host "
                          "(127.0.0.1, ::1 or localhost), even with wechatpay.allow_plain_http, not to "
                          "api2.example.com; use https://"));
  EXPECT_THAT(Errors(With("wechatpay:\n", "  backup_base_url: http://localhost:9\n")),
              ElementsAre("test.yaml:18: wechatpay.backup_base_url: http:// is refused: answers could be forged on the "
                          "way; use https:// (or, for tests against a local simulator only, set "
                          "wechatpay.allow_plain_http: true)"));
  EXPECT_THAT(Errors(With("wechatpay:\n", "  base_url: ftp://api.mch.weixin.qq.com\n")),
              ElementsAre("test.yaml:18: wechatpay.base_url: \"ftp://api.mch.weixin.qq.com\" is not an https:// URL "
                          "(expected e.g. https://api.mch.weixin.qq.com)"));
  auto backup = Load(With("wechatpay:\n", "  backup_base_url: https://api2.mch.weixin.qq.com\n"));
  ASSERT_TRUE(backup.ok());
  EXPECT_EQ(backup->config.wechatpay.backup_base_url, "https://api2.mch.weixin.qq.com");
}

TEST_F(ChecksTest, AppIdsAndSerial) {
  EXPECT_THAT(Errors(With("wechatpay:\n", "  appid: [wx1, \"wx 2\"]\n")),
              ElementsAre("test.yaml:18: wechatpay.appid: \"wx 2\" is not an app id (letters, digits and _, e.g. "
                          "wxd678efh567hg6787)"));
  EXPECT_THAT(Errors(With("wechatpay:\n", "  appid:\n    - wx1\n    - wx-2\n")),
              ElementsAre("test.yaml:20: wechatpay.appid: \"wx-2\" is not an app id (letters, digits and _, e.g. "
                          "wxd678efh567hg6787)"));
  EXPECT_THAT(Errors(Edit(kBaseConfig, "5157F09EFDC096DE15EBE81A47057A7232F1B8E1", "serial-1")),
              ElementsAre("test.yaml:19: wechatpay.merchant_serial_no: \"serial-1\" is not a certificate serial number "
                          "(hex digits, as the merchant platform shows it)"));
}

// --- the rest ---------------------------------------------------------------

TEST_F(ChecksTest, PathsMustBeAbsolute) {
  EXPECT_THAT(Errors(std::string(kBaseConfig) + "state_dir: state\nmetrics: {textfile: m.prom}\n"),
              ElementsAre("test.yaml:25: state_dir: \"state\" is not an absolute path; write the full path (the daemon "
                          "runs in /)",
                          "test.yaml:26: metrics.textfile: \"m.prom\" is not an absolute path; write the full path (the "
                          "daemon runs in /)"));
}

}  // namespace
}  // namespace wxpay
