// SIGHUP: which changes apply, which are refused and reported.
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

class ReloadTest : public ::testing::Test, public ConfigFixture {
 protected:
  Config Loaded(const std::string& text) {
    auto result = Load(text);
    EXPECT_TRUE(result.ok()) << (result.ok() ? "" : ::testing::PrintToString(result.error()));
    return result.ok() ? result->config : Config{};
  }
};

TEST_F(ReloadTest, SameFileChangesNothing) {
  const Config config = Loaded(kBaseConfig);
  EXPECT_THAT(NonReloadableChanges(config, Loaded(kBaseConfig)), IsEmpty());
}

TEST_F(ReloadTest, ReportsOnlyNonReloadableChanges) {
  const Config old_config = Loaded(kBaseConfig);
  const std::string changed = Edit(Edit(Edit(kBaseConfig,
      "  queue: order.expired\n", "  queue: order.other\n  prefetch: 10\n"),
      "  mchid: \"1900000001\"\n", "  mchid: \"1900000001\"\n  appid: wx9\n  max_requests_per_second: 5\n"),
      "  order_ttl: 15m\n", "  order_ttl: 20m\n  not_found_action: park\n  retry: {max_attempts: 3}\n") +
      "log: {level: debug}\nsweeper: {interval: 1m}\n";
  const Config next = Loaded(changed);
  EXPECT_THAT(NonReloadableChanges(old_config, next),
              ElementsAre("rabbitmq.queue: changed; needs a restart, keeping old value",
                          "rabbitmq.prefetch: changed; needs a restart, keeping old value",
                          "policy.order_ttl: changed; needs a restart, keeping old value"));

  const Config merged = MergeReload(old_config, next);
  // Kept from the old configuration:
  EXPECT_EQ(merged.rabbitmq.queue, "order.expired");
  EXPECT_EQ(merged.rabbitmq.prefetch, 64);
  EXPECT_EQ(merged.policy.order_ttl, std::chrono::minutes(15));
  // Taken from the new one:
  EXPECT_EQ(merged.wechatpay.appid, std::vector<std::string>{"wx9"});
  EXPECT_EQ(merged.wechatpay.max_requests_per_second, 5);
  EXPECT_EQ(merged.policy.not_found_action, PolicyConfig::NotFoundAction::kPark);
  EXPECT_EQ(merged.policy.retry.max_attempts, 3);
  EXPECT_EQ(merged.log.level, LogConfig::Level::kDebug);
  EXPECT_EQ(merged.sweeper.interval, std::chrono::minutes(1));
  // Nothing non-reloadable is left to report after the merge.
  EXPECT_THAT(NonReloadableChanges(old_config, merged), IsEmpty());
}

TEST_F(ReloadTest, ReloadableKeyFilesAreTakenFromTheNewFile) {
  const Config old_config = Loaded(kBaseConfig);
  dir().Write("new_key.pem", "key");
  const Config next = Loaded(Edit(kBaseConfig, "${DIR}/apiclient_key.pem", "${DIR}/new_key.pem"));
  EXPECT_THAT(NonReloadableChanges(old_config, next), IsEmpty());
  EXPECT_EQ(MergeReload(old_config, next).wechatpay.private_key_file, dir().path() + "/new_key.pem");
}

TEST_F(ReloadTest, ANewPasswordInTheSameFileNeedsARestart) {
  dir().Write("db-password", "first\n");
  const std::string postgres = Edit(kBaseConfig, "  driver: sqlite\n  path: /var/lib/shop/shop.db\n",
                                    "  driver: postgresql\n  name: shop\n  user: wxpay\n"
                                    "  password_file: ${DIR}/db-password\n");
  dir().Write("mq-password", "mq-first\n");
  const std::string text = Edit(postgres, "rabbitmq:\n", "rabbitmq:\n  password_file: ${DIR}/mq-password\n");
  const Config old_config = Loaded(text);
  dir().Write("db-password", "second\n");
  dir().Write("mq-password", "mq-second\n");
  const Config next = Loaded(text);
  const std::vector<std::string> changes = NonReloadableChanges(old_config, next);
  EXPECT_THAT(changes, ElementsAre("rabbitmq.password_file: the password changed; needs a restart, keeping old value",
                                   "database.password_file: the password changed; needs a restart, keeping old value"));
  for (const std::string& change : changes) EXPECT_EQ(change.find("second"), std::string::npos) << change;
  const Config merged = MergeReload(old_config, next);
  EXPECT_EQ(merged.database.password, "first");
  EXPECT_EQ(merged.rabbitmq.password, "mq-first");
}

TEST_F(ReloadTest, AChangedUrlPasswordIsReportedAsAUrlChange) {
  const Config old_config = Loaded(kBaseConfig);
  const Config next = Loaded(Edit(kBaseConfig, "wxpay:secret@", "wxpay:other@"));
  EXPECT_THAT(NonReloadableChanges(old_config, next),
              ElementsAre("rabbitmq.url: changed; needs a restart, keeping old value"));
  const Config merged = MergeReload(old_config, next);
  EXPECT_EQ(merged.rabbitmq.url, old_config.rabbitmq.url);
  EXPECT_EQ(merged.rabbitmq.password, "secret");
}

}  // namespace
}  // namespace wxpay
