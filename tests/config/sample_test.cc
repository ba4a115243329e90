// The sample files against the declaration table: etc/wxpay-reconciler.yaml
// must show every declared key (and no other), each with its default or
// "(required)" and "(R)" exactly where a key is reloadable; both samples must
// load cleanly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "config/keys.h"
#include "config/loader.h"
#include "config/test_support.h"
#include "config/yaml_tree.h"

#ifndef WXPAY_SOURCE_DIR
#error "WXPAY_SOURCE_DIR must name the source tree (set in src/config/module.mk)"
#endif

namespace wxpay {
namespace {

using ::testing::IsEmpty;
using testing::MapEnv;
using testing::TempDir;

const std::string kSample = std::string(WXPAY_SOURCE_DIR) + "/etc/wxpay-reconciler.yaml";
const std::string kMinimal = std::string(WXPAY_SOURCE_DIR) + "/etc/minimal.yaml";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every key path written in the file, with its line.
void CollectKeys(const YamlNode& mapping, const std::string& prefix, std::map<std::string, int>& out) {
  for (const auto& [key, value] : mapping.entries) {
    const std::string path = prefix.empty() ? key.text : prefix + "." + key.text;
    out.emplace(path, key.line);
    const KeyDecl* decl = FindKey(path);
    if (value.IsMapping() && (decl == nullptr || decl->IsSection())) CollectKeys(value, path, out);
  }
}

std::map<std::string, int> SampleKeys() {
  auto root = ParseYaml(ReadAll(kSample));
  EXPECT_TRUE(root.ok()) << (root.ok() ? "" : root.error().message);
  std::map<std::string, int> keys;
  if (root.ok() && root->IsMapping()) CollectKeys(*root, "", keys);
  return keys;
}

// The comment that documents the key on `line` (1-based): the comment lines
// directly above it and the comment at the end of the line itself.
std::string CommentFor(const std::vector<std::string>& lines, int line) {
  std::string comment;
  for (int i = line - 2; i >= 0; --i) {
    const std::string& text = lines[static_cast<std::size_t>(i)];
    const std::size_t first = text.find_first_not_of(' ');
    if (first == std::string::npos || text[first] != '#') break;
    comment = text.substr(first) + "\n" + comment;
  }
  const std::string& own = lines[static_cast<std::size_t>(line - 1)];
  if (const std::size_t hash = own.find(" #"); hash != std::string::npos) comment += own.substr(hash + 1);
  return comment;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(Sample, ShowsEveryDeclaredKey) {
  const std::map<std::string, int> sample = SampleKeys();
  for (const KeyDecl& decl : ConfigKeys()) {
    EXPECT_TRUE(sample.count(decl.name) == 1) << decl.name << " is declared in src/config/keys.cc but missing from "
                                              << kSample;
  }
}

TEST(Sample, ShowsOnlyDeclaredKeys) {
  for (const auto& [name, line] : SampleKeys()) {
    EXPECT_NE(FindKey(name), nullptr) << kSample << ":" << line << ": " << name
                                      << " is not declared in src/config/keys.cc";
  }
}

TEST(Sample, DocumentsEachDefaultAndReloadability) {
  const std::vector<std::string> lines = SplitLines(ReadAll(kSample));
  const std::map<std::string, int> sample = SampleKeys();
  for (const KeyDecl& decl : ConfigKeys()) {
    if (decl.IsSection()) continue;
    auto it = sample.find(decl.name);
    if (it == sample.end()) continue;  // reported by ShowsEveryDeclaredKey
    const std::string comment = CommentFor(lines, it->second);
    const std::string where = kSample + ":" + std::to_string(it->second) + ": " + decl.name;
    if (decl.required) {
      EXPECT_NE(comment.find("(required)"), std::string::npos) << where << ": the comment must say (required)";
      EXPECT_EQ(comment.find("(default "), std::string::npos) << where << ": a required key has no default";
    } else {
      const std::string expected = "(default " + decl.default_doc + ")";
      EXPECT_NE(comment.find(expected), std::string::npos)
          << where << ": the comment must contain " << expected << "; it is:\n" << comment;
    }
    const bool marked = comment.find("(R)") != std::string::npos;
    EXPECT_EQ(marked, decl.reloadable) << where << (decl.reloadable ? ": reloadable, mark it (R)"
                                                                    : ": not reloadable, remove (R)");
  }
}

// Dummy credentials where the samples expect them, as systemd's
// LoadCredential= would provide them.
class SampleLoad : public ::testing::Test {
 protected:
  SampleLoad() {
    credentials_.Write("amqp_password", "mq-password\n");
    credentials_.Write("db_password", "db-password\n");
    credentials_.Write("apiclient_key.pem", "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n");
    credentials_.Write("pub_key.pem", "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n");
  }
  EnvLookup Env() const { return MapEnv({{"CREDENTIALS_DIRECTORY", credentials_.path()}}); }

  TempDir credentials_;
};

TEST_F(SampleLoad, FullSampleLoadsWithoutWarnings) {
  auto loaded = LoadConfigFile(kSample, Env());
  ASSERT_TRUE(loaded.ok()) << ::testing::PrintToString(loaded.error());
  EXPECT_THAT(loaded->warnings, IsEmpty());
  const Config& c = loaded->config;
  EXPECT_EQ(c.rabbitmq.password, "mq-password");
  EXPECT_EQ(c.database.driver, DatabaseConfig::Driver::kMysql);
  EXPECT_EQ(c.database.password, "db-password");
  EXPECT_EQ(c.wechatpay.private_key_file, credentials_.path() + "/apiclient_key.pem");
  EXPECT_EQ(c.policy.order_ttl, std::chrono::minutes(15));
  EXPECT_EQ(c.rabbitmq.shop_delay.ttl, std::chrono::minutes(15));
}

TEST_F(SampleLoad, MinimalSampleLoadsWithoutWarnings) {
  auto loaded = LoadConfigFile(kMinimal, Env());
  ASSERT_TRUE(loaded.ok()) << ::testing::PrintToString(loaded.error());
  EXPECT_THAT(loaded->warnings, IsEmpty());
  EXPECT_EQ(loaded->config.rabbitmq.password, "mq-password");
  EXPECT_EQ(loaded->config.database.driver, DatabaseConfig::Driver::kSqlite);
}

// Minimal means minimal: every key in it is required, or needed for the
// setup it describes (a password file, sqlite's path, the direct merchant
// number and public-key mode).
TEST(Sample, MinimalHoldsOnlyWhatIsNeeded) {
  auto root = ParseYaml(ReadAll(kMinimal));
  ASSERT_TRUE(root.ok());
  std::map<std::string, int> keys;
  CollectKeys(*root, "", keys);
  const std::set<std::string> needed_optional = {
      "rabbitmq.password_file", "database.path", "wechatpay.mchid", "wechatpay.public_key_file",
      "wechatpay.public_key_id"};
  for (const auto& [name, line] : keys) {
    const KeyDecl* decl = FindKey(name);
    ASSERT_NE(decl, nullptr) << name;
    if (decl->IsSection()) continue;
    EXPECT_TRUE(decl->required || needed_optional.count(name) == 1) << kMinimal << ":" << line << ": " << name;
  }
}

TEST_F(SampleLoad, SampleNeedsTheCredentialsDirectory) {
  auto loaded = LoadConfigFile(kMinimal, MapEnv({}));
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.error(),
              ::testing::Contains(kMinimal + ":8: rabbitmq.password_file: environment variable CREDENTIALS_DIRECTORY is "
                                  "not set (systemd sets it when the unit has LoadCredential=)"));
}

}  // namespace
}  // namespace wxpay
