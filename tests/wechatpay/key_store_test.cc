#include "wechatpay/key_store.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <thread>

#include "wechatpay/pem_files.h"
#include "wechatpay/rsa_sha256.h"
#include "wechatpay/test_data.h"

namespace wxpay {
namespace {

using testing::FromUnixSeconds;
using testing::ReadFileOrDie;
using testing::TempDir;
using testing::VectorPath;

constexpr const char* kPubKeyId = "PUB_KEY_ID_0114232134912410000000000000000001";

WechatPayConfig Files() {
  WechatPayConfig c;
  c.private_key_file = VectorPath("v11_official_test_key_pkcs8.pem");
  c.public_key_file = VectorPath("v6_java_wechat_pay_public_key.pem");
  c.public_key_id = kPubKeyId;
  c.platform_certificates = {VectorPath("v6_java_wechat_pay_certificate.pem")};
  return c;
}

// The secret-looking middle of a PEM private key file.
std::string SecretBody(const std::string& file) {
  std::string pem = ReadFileOrDie(file);
  return pem.substr(pem.find('\n') + 1, 40);
}

class KeyStoreTest : public ::testing::Test {
 protected:
  ManualClock clock_{FromUnixSeconds(1700000000)};  // 2023: the V6 certificate is valid
  CapturingLogger log_;
};

TEST_F(KeyStoreTest, LoadsEveryConfiguredKey) {
  Result<std::unique_ptr<KeyStore>> store = KeyStore::Load(Files(), clock_, log_);
  ASSERT_TRUE(store.ok()) << store.error().message;
  std::shared_ptr<const KeySet> keys = (*store)->Snapshot();
  EXPECT_TRUE(keys->merchant_private_key);
  EXPECT_EQ(keys->public_key_id, kPubKeyId);
  EXPECT_TRUE(keys->wechatpay_public_key);
  ASSERT_EQ(keys->platform_certificates.size(), 1u);
  EXPECT_EQ(keys->platform_certificates[0].serial, "440024045C4A427599D09BB4E3DE0279F2E813FD");
  EXPECT_TRUE(log_.Lines().empty());
}

TEST_F(KeyStoreTest, AcceptsPkcs1PrivateKeys) {
  WechatPayConfig c = Files();
  c.private_key_file = VectorPath("v11_official_test_key_pkcs1.pem");
  Result<std::shared_ptr<const KeySet>> keys = LoadKeySet(c);
  ASSERT_TRUE(keys.ok()) << keys.error().message;
}

TEST_F(KeyStoreTest, WarnsAboutAnExpiredPlatformCertificate) {
  clock_.Set(FromUnixSeconds(1800000000));  // 2027: the V6 certificate expired 2025-05-09
  Result<std::unique_ptr<KeyStore>> store = KeyStore::Load(Files(), clock_, log_);
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE(log_.Contains("440024045C4A427599D09BB4E3DE0279F2E813FD expired on 2025-05-09"));
}

TEST_F(KeyStoreTest, RefusesConfigurationsWithoutAVerificationKey) {
  WechatPayConfig c = Files();
  c.public_key_file.clear();
  c.public_key_id.clear();
  c.platform_certificates.clear();
  Result<std::shared_ptr<const KeySet>> keys = LoadKeySet(c);
  ASSERT_FALSE(keys.ok());
  EXPECT_NE(keys.error().message.find("no key to verify"), std::string::npos);

  WechatPayConfig half = Files();
  half.public_key_id.clear();
  EXPECT_NE(LoadKeySet(half).error().message.find("both public_key_file and public_key_id"),
            std::string::npos);
  WechatPayConfig bad_id = Files();
  bad_id.public_key_id = "0114232134912410000000000000000001";
  EXPECT_NE(LoadKeySet(bad_id).error().message.find("PUB_KEY_ID_"), std::string::npos);
}

TEST_F(KeyStoreTest, BadFilesAreNamedAndNoSecretIsQuoted) {
  TempDir dir;
  std::string secret = SecretBody(VectorPath("v11_official_test_key_pkcs8.pem"));
  struct Case {
    std::string what;
    WechatPayConfig config;
    std::string expect;
  };
  std::vector<Case> cases;
  {
    WechatPayConfig c = Files();
    c.private_key_file = dir.path() + "/missing.pem";
    cases.push_back({"missing", c, "missing.pem: cannot open"});
  }
  {
    WechatPayConfig c = Files();
    // A public key where the private key belongs.
    c.private_key_file = VectorPath("v11_official_test_public_key.pem");
    cases.push_back({"public as private", c, "not a PEM private key"});
  }
  {
    WechatPayConfig c = Files();
    // The private key where WeChat Pay's public key belongs.
    c.public_key_file = VectorPath("v11_official_test_key_pkcs8.pem");
    cases.push_back({"private as public", c, "not a PEM public key"});
  }
  {
    WechatPayConfig c = Files();
    c.platform_certificates = {VectorPath("v11_official_test_key_pkcs8.pem")};
    cases.push_back({"key as certificate", c, "not a PEM certificate"});
  }
  {
    WechatPayConfig c = Files();
    c.private_key_file = dir.Write("enc.pem",
                                   "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n"
                                   "-----END ENCRYPTED PRIVATE KEY-----\n");
    cases.push_back({"encrypted", c, "encrypted"});
  }
  {
    WechatPayConfig c = Files();
    std::string cert = VectorPath("v6_java_wechat_pay_certificate.pem");
    c.platform_certificates = {cert, cert};
    cases.push_back({"duplicate", c, "already has"});
  }
  for (const Case& c : cases) {
    Result<std::shared_ptr<const KeySet>> keys = LoadKeySet(c.config);
    ASSERT_FALSE(keys.ok()) << c.what;
    EXPECT_NE(keys.error().message.find(c.expect), std::string::npos)
        << c.what << ": " << keys.error().message;
    EXPECT_EQ(keys.error().message.find(secret), std::string::npos) << c.what;
  }
}

TEST_F(KeyStoreTest, RefusesKeysThatAreNotRsa2048) {
  EvpPkeyPtr ec(EVP_EC_gen("P-256"));
  ASSERT_TRUE(ec);
  BioPtr bio(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio.get(), ec.get(), nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  Result<EvpPkeyPtr> key = ParsePrivateKeyPem(std::string_view(data, n), "test");
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.error().message.find("not an RSA key"), std::string::npos) << key.error().message;

  EvpPkeyPtr small(EVP_RSA_gen(1024));
  ASSERT_TRUE(small);
  BioPtr bio2(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio2.get(), small.get(), nullptr, nullptr, 0, nullptr, nullptr),
            1);
  n = BIO_get_mem_data(bio2.get(), &data);
  Result<EvpPkeyPtr> weak = ParsePrivateKeyPem(std::string_view(data, n), "test");
  ASSERT_FALSE(weak.ok());
  EXPECT_NE(weak.error().message.find("1024 bits"), std::string::npos) << weak.error().message;
}

TEST_F(KeyStoreTest, ReloadSwapsKeysAndKeepsOldSnapshotsValid) {
  TempDir dir;
  WechatPayConfig c = Files();
  c.private_key_file = dir.Write("key.pem", ReadFileOrDie(VectorPath("v11_official_test_key_pkcs8.pem")));
  Result<std::unique_ptr<KeyStore>> store = KeyStore::Load(c, clock_, log_);
  ASSERT_TRUE(store.ok());
  std::shared_ptr<const KeySet> before = (*store)->Snapshot();

  // Rotation: the merchant key file is replaced and a second certificate added.
  dir.Write("key.pem", ReadFileOrDie(VectorPath("v6_java_merchant_private_key.pem")));
  c.platform_certificates.push_back(VectorPath("v2_go_cert_F5765756002FDD77.pem"));
  Status s = (*store)->Reload(c);
  ASSERT_TRUE(s.ok()) << s.message();
  std::shared_ptr<const KeySet> after = (*store)->Snapshot();
  EXPECT_EQ(after->platform_certificates.size(), 2u);
  EXPECT_EQ(before->platform_certificates.size(), 1u);
  Result<std::string> old_sig = SignSha256WithRsa(before->merchant_private_key.get(), "message");
  Result<std::string> new_sig = SignSha256WithRsa(after->merchant_private_key.get(), "message");
  ASSERT_TRUE(old_sig.ok() && new_sig.ok());
  EXPECT_EQ(*new_sig, testing::Kat("V6", "signature"));
  EXPECT_NE(*old_sig, *new_sig);
  EXPECT_TRUE(log_.Contains("keys reloaded"));

  // Reload() without arguments re-reads the same files.
  dir.Write("key.pem", ReadFileOrDie(VectorPath("v11_official_test_key_pkcs8.pem")));
  ASSERT_TRUE((*store)->Reload().ok());
  Result<std::string> again =
      SignSha256WithRsa((*store)->Snapshot()->merchant_private_key.get(), "message");
  EXPECT_EQ(*again, *old_sig);
}

TEST_F(KeyStoreTest, FailedReloadKeepsTheOldKeys) {
  TempDir dir;
  WechatPayConfig c = Files();
  std::string good = ReadFileOrDie(VectorPath("v11_official_test_key_pkcs8.pem"));
  c.private_key_file = dir.Write("key.pem", good);
  Result<std::unique_ptr<KeyStore>> store = KeyStore::Load(c, clock_, log_);
  ASSERT_TRUE(store.ok());
  std::shared_ptr<const KeySet> before = (*store)->Snapshot();

  // A half-written key file (e.g. a copy in progress at SIGHUP).
  dir.Write("key.pem", good.substr(0, good.size() / 2));
  Status s = (*store)->Reload();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("previous keys stay in use"), std::string::npos) << s.message();
  EXPECT_EQ((*store)->Snapshot(), before);
  EXPECT_TRUE(log_.Contains("key reload failed"));
  for (const std::string& line : log_.Lines()) {
    EXPECT_EQ(line.find(good.substr(40, 40)), std::string::npos) << line;
  }
}

TEST_F(KeyStoreTest, ConcurrentReadersAndReloadsAreSafe) {
  Result<std::unique_ptr<KeyStore>> store = KeyStore::Load(Files(), clock_, log_);
  ASSERT_TRUE(store.ok());
  std::vector<std::thread> readers;
  std::atomic<int> signatures{0};
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        std::shared_ptr<const KeySet> keys = (*store)->Snapshot();
        if (SignSha256WithRsa(keys->merchant_private_key.get(), "x").ok()) ++signatures;
      }
    });
  }
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*store)->Reload().ok());
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(signatures.load(), 80);
}

}  // namespace
}  // namespace wxpay
