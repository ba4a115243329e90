#include "wechatpay/key_store.h"

#include <ctime>

#include "wechatpay/pem_files.h"

namespace wxpay {
namespace {

constexpr std::string_view kPublicKeyIdPrefix = "PUB_KEY_ID_";

std::string FormatDate(TimePoint t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

}  // namespace

Result<std::shared_ptr<const KeySet>> LoadKeySet(const WechatPayConfig& config) {
  auto keys = std::make_shared<KeySet>();

  Result<EvpPkeyPtr> private_key = LoadPrivateKeyFile(config.private_key_file);
  if (!private_key) return Fail("wechatpay.private_key_file: " + private_key.error().message);
  keys->merchant_private_key = Share(std::move(private_key).value());

  bool has_key_file = !config.public_key_file.empty();
  bool has_key_id = !config.public_key_id.empty();
  if (has_key_file != has_key_id) {
    return Fail(
        "wechatpay: public-key mode needs both public_key_file and public_key_id "
        "(Merchant Platform -> Account Center -> API Security shows the PUB_KEY_ID_...)");
  }
  if (has_key_id) {
    if (config.public_key_id.rfind(kPublicKeyIdPrefix, 0) != 0 ||
        config.public_key_id.size() == kPublicKeyIdPrefix.size()) {
      return Fail("wechatpay.public_key_id must be the full id starting with PUB_KEY_ID_");
    }
    Result<EvpPkeyPtr> public_key = LoadPublicKeyFile(config.public_key_file);
    if (!public_key) return Fail("wechatpay.public_key_file: " + public_key.error().message);
    keys->public_key_id = config.public_key_id;
    keys->wechatpay_public_key = Share(std::move(public_key).value());
  }

  for (const std::string& path : config.platform_certificates) {
    Result<Certificate> cert = LoadCertificateFile(path);
    if (!cert) return Fail("wechatpay.platform_certificates: " + cert.error().message);
    for (const PlatformCertificate& seen : keys->platform_certificates) {
      if (seen.serial == cert->serial) {
        return Fail("wechatpay.platform_certificates: " + path + " has serial " + cert->serial +
                    ", which another listed certificate already has; list each certificate once");
      }
    }
    keys->platform_certificates.push_back(
        {cert->serial, Share(std::move(cert->public_key)), cert->not_after});
  }

  if (!keys->wechatpay_public_key && keys->platform_certificates.empty()) {
    return Fail(
        "wechatpay: no key to verify WeChat Pay's answers: configure public_key_file and "
        "public_key_id (WeChat Pay public key) or platform_certificates");
  }
  return std::shared_ptr<const KeySet>(std::move(keys));
}

KeyStore::KeyStore(WechatPayConfig files, std::shared_ptr<const KeySet> keys, const Clock& clock,
                   Logger& logger)
    : clock_(clock), logger_(logger), files_(std::move(files)), keys_(std::move(keys)) {}

Result<std::unique_ptr<KeyStore>> KeyStore::Load(const WechatPayConfig& config,
                                                 const Clock& clock, Logger& logger) {
  Result<std::shared_ptr<const KeySet>> keys = LoadKeySet(config);
  if (!keys) return keys.error();
  auto store = std::make_unique<KeyStore>(config, *keys, clock, logger);
  store->WarnAboutExpiry(**keys);
  return store;
}

std::shared_ptr<const KeySet> KeyStore::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return keys_;
}

Status KeyStore::Reload(const WechatPayConfig& config) {
  Result<std::shared_ptr<const KeySet>> keys = LoadKeySet(config);
  if (!keys) {
    logger_.Warning("wechatpay: key reload failed, keeping the keys in use: " +
                    keys.error().message);
    return Fail(keys.error().message + " (the previous keys stay in use)");
  }
  WarnAboutExpiry(**keys);
  {
    std::lock_guard<std::mutex> lock(mu_);
    files_ = config;
    keys_ = *keys;
  }
  logger_.Info("wechatpay: keys reloaded (" +
               std::to_string((*keys)->platform_certificates.size()) + " platform certificate(s)" +
               ((*keys)->wechatpay_public_key ? ", public key " + (*keys)->public_key_id : "") +
               ")");
  return Status::Ok();
}

Status KeyStore::Reload() {
  WechatPayConfig files;
  {
    std::lock_guard<std::mutex> lock(mu_);
    files = files_;
  }
  return Reload(files);
}

void KeyStore::WarnAboutExpiry(const KeySet& keys) const {
  TimePoint now = clock_.Now();
  for (const PlatformCertificate& cert : keys.platform_certificates) {
    if (cert.not_after && *cert.not_after < now) {
      logger_.Warning("wechatpay: platform certificate " + cert.serial + " expired on " +
                      FormatDate(*cert.not_after) +
                      ": WeChat Pay no longer signs with it; download the current one or switch "
                      "to the WeChat Pay public key");
    }
  }
}

}  // namespace wxpay
