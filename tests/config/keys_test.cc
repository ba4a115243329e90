#include "config/keys.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace wxpay {
namespace {

TEST(Keys, NamesAreUniqueAndParentsAreSectionsDeclaredFirst) {
  std::set<std::string> seen;
  for (const KeyDecl& decl : ConfigKeys()) {
    EXPECT_TRUE(seen.insert(decl.name).second) << "declared twice: " << decl.name;
    const std::string parent(ParentKey(decl.name));
    if (parent.empty()) continue;
    const KeyDecl* parent_decl = FindKey(parent);
    ASSERT_NE(parent_decl, nullptr) << decl.name;
    EXPECT_TRUE(parent_decl->IsSection()) << decl.name;
    EXPECT_TRUE(seen.count(parent) == 1) << parent << " must come before " << decl.name;
  }
  EXPECT_EQ(FindKey("no.such.key"), nullptr);
}

TEST(Keys, EveryKeyIsDocumentedAndLeavesAreBound) {
  for (const KeyDecl& decl : ConfigKeys()) {
    EXPECT_FALSE(decl.doc.empty()) << decl.name;
    EXPECT_EQ(decl.doc.find('\n'), std::string::npos) << decl.name << ": the doc is one line";
    if (decl.IsSection()) {
      EXPECT_FALSE(decl.store) << decl.name;
      EXPECT_FALSE(decl.reloadable) << decl.name;
      continue;
    }
    EXPECT_TRUE(decl.store && decl.load) << decl.name;
    if (decl.required) {
      EXPECT_FALSE(decl.required_hint.empty()) << decl.name;
      EXPECT_TRUE(decl.default_yaml.empty()) << decl.name;
    } else {
      EXPECT_FALSE(decl.default_doc.empty()) << decl.name << ": neither required nor defaulted";
    }
    if (decl.type == KeyType::kEnum) {
      EXPECT_GE(decl.allowed.size(), 2u) << decl.name;
    } else {
      EXPECT_TRUE(decl.allowed.empty()) << decl.name;
    }
  }
}

// The bindings' types agree with the declared types: storing the default and
// loading it back gives the same value (a mismatch throws bad_variant_access).
TEST(Keys, DefaultsRoundTripThroughConfig) {
  for (const KeyDecl& decl : ConfigKeys()) {
    if (!decl.HasStaticDefault()) continue;
    Config config;
    ASSERT_NO_THROW(decl.store(config, decl.default_value)) << decl.name;
    EXPECT_EQ(decl.load(config), decl.default_value) << decl.name;
  }
}

// config.h's member initialisers and the table's defaults must not drift apart:
// code that builds a Config{} directly (tests of other modules) gets the same
// defaults as a loaded file.
TEST(Keys, ConfigStructDefaultsMatchDeclaredDefaults) {
  const Config defaults;
  for (const KeyDecl& decl : ConfigKeys()) {
    if (!decl.HasStaticDefault()) continue;
    EXPECT_EQ(FormatKeyValue(decl, decl.load(defaults)), FormatKeyValue(decl, decl.default_value)) << decl.name;
  }
}

// SPEC §5 marks these (R); nothing else may change on SIGHUP.
TEST(Keys, ReloadableKeysAreExactlyThoseOfTheSpec) {
  const std::set<std::string> expected = {
      "wechatpay.appid",
      "wechatpay.private_key_file",
      "wechatpay.public_key_file",
      "wechatpay.platform_certificates",
      "wechatpay.max_requests_per_second",
      "policy.userpaying_recheck",
      "policy.not_found_action",
      "policy.not_found_breaker",
      "policy.refund_action",
      "policy.retry.initial",
      "policy.retry.max",
      "policy.retry.multiplier",
      "policy.retry.max_attempts",
      "sweeper.enabled",
      "sweeper.interval",
      "sweeper.grace",
      "sweeper.max_pass",
      "metrics.textfile",
      "log.level",
  };
  std::set<std::string> actual;
  for (const KeyDecl& decl : ConfigKeys()) {
    if (decl.reloadable) actual.insert(decl.name);
  }
  EXPECT_EQ(actual, expected);
}

TEST(Keys, RequiredKeys) {
  std::set<std::string> required;
  for (const KeyDecl& decl : ConfigKeys()) {
    if (decl.required) required.insert(decl.name);
  }
  const std::set<std::string> expected = {
      "rabbitmq.url",
      "rabbitmq.queue",
      "rabbitmq.dead_letter_queue",
      "database.driver",
      "database.orders.order_no",
      "database.orders.status",
      "database.orders.amount",
      "database.orders.created_at",
      "database.orders.status_values.unpaid",
      "database.orders.status_values.paid",
      "database.orders.status_values.cancelled",
      "wechatpay.merchant_serial_no",
      "wechatpay.private_key_file",
      "policy.order_ttl",
  };
  EXPECT_EQ(required, expected);
}

// KeyDecl::allowed must list an enum's words in the order of its C++ values.
TEST(Keys, EnumWordsMapToTheRightEnumerators) {
  auto store = [](const char* key, const char* word) {
    const KeyDecl* decl = FindKey(key);
    EXPECT_NE(decl, nullptr) << key;
    Config config;
    if (decl == nullptr) return config;
    const auto it = std::find(decl->allowed.begin(), decl->allowed.end(), word);
    EXPECT_NE(it, decl->allowed.end()) << key << " " << word;
    decl->store(config, static_cast<std::int64_t>(it - decl->allowed.begin()));
    return config;
  };
  EXPECT_EQ(store("rabbitmq.message.format", "json").rabbitmq.message_format, RabbitConfig::MessageFormat::kJson);
  EXPECT_EQ(store("database.driver", "sqlite").database.driver, DatabaseConfig::Driver::kSqlite);
  EXPECT_EQ(store("database.driver", "mysql").database.driver, DatabaseConfig::Driver::kMysql);
  EXPECT_EQ(store("database.driver", "postgresql").database.driver, DatabaseConfig::Driver::kPostgresql);
  EXPECT_EQ(store("database.tls.mode", "disable").database.tls.mode, DatabaseTls::Mode::kDisable);
  EXPECT_EQ(store("database.tls.mode", "require").database.tls.mode, DatabaseTls::Mode::kRequire);
  EXPECT_EQ(store("database.tls.mode", "verify-ca").database.tls.mode, DatabaseTls::Mode::kVerifyCa);
  EXPECT_EQ(store("database.tls.mode", "verify-full").database.tls.mode, DatabaseTls::Mode::kVerifyFull);
  EXPECT_EQ(store("database.orders.amount_unit", "yuan").database.orders.amount_unit, OrdersMapping::AmountUnit::kYuan);
  EXPECT_EQ(store("database.orders.created_at_format", "epoch_s").database.orders.created_at_format,
            OrdersMapping::TimeFormat::kEpochS);
  EXPECT_EQ(store("database.orders.created_at_format", "epoch_ms").database.orders.created_at_format,
            OrdersMapping::TimeFormat::kEpochMs);
  EXPECT_EQ(store("wechatpay.mode", "partner").wechatpay.mode, WechatPayConfig::Mode::kPartner);
  EXPECT_EQ(store("policy.not_found_action", "park").policy.not_found_action, PolicyConfig::NotFoundAction::kPark);
  EXPECT_EQ(store("policy.refund_action", "mark_paid").policy.refund_action, PolicyConfig::RefundAction::kMarkPaid);
  EXPECT_EQ(store("log.level", "debug").log.level, LogConfig::Level::kDebug);
  EXPECT_EQ(store("log.level", "warning").log.level, LogConfig::Level::kWarning);
  EXPECT_EQ(store("log.level", "error").log.level, LogConfig::Level::kError);
}

TEST(Keys, FormatKeyValue) {
  EXPECT_EQ(FormatKeyValue(*FindKey("rabbitmq.heartbeat"), Duration{std::chrono::seconds(90)}), "1m30s");
  EXPECT_EQ(FormatKeyValue(*FindKey("policy.retry.multiplier"), 1.5), "1.5");
  EXPECT_EQ(FormatKeyValue(*FindKey("policy.retry.multiplier"), 2.0), "2");
  EXPECT_EQ(FormatKeyValue(*FindKey("log.level"), std::int64_t{2}), "warning");
  EXPECT_EQ(FormatKeyValue(*FindKey("wechatpay.appid"), std::vector<std::string>{"a", "b"}), "[a, b]");
  EXPECT_EQ(FormatKeyValue(*FindKey("rabbitmq.events_exchange"), std::string()), "\"\"");
  EXPECT_EQ(FormatKeyValue(*FindKey("rabbitmq.tls.verify_peer"), true), "true");
}

TEST(Keys, ChildKeysOfASection) {
  std::vector<std::string> names;
  for (const KeyDecl* decl : ChildKeys("database.orders.status_values")) names.push_back(decl->name);
  EXPECT_EQ(names, (std::vector<std::string>{"database.orders.status_values.unpaid",
                                             "database.orders.status_values.paid",
                                             "database.orders.status_values.cancelled"}));
  std::vector<std::string> top;
  for (const KeyDecl* decl : ChildKeys("")) top.push_back(decl->name);
  EXPECT_EQ(top, (std::vector<std::string>{"rabbitmq", "database", "wechatpay", "policy", "sweeper", "state_dir",
                                           "metrics", "log"}));
}

}  // namespace
}  // namespace wxpay
