// The keys the client signs and verifies with, loaded from the files named in
// WechatPayConfig. Readers take an immutable snapshot (shared_ptr), so a
// reload (SIGHUP) swaps all keys at once and never disturbs a request in
// flight; a reload whose files are bad keeps the old keys.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/result.h"
#include "ops/log.h"
#include "wechatpay/openssl_handles.h"

namespace wxpay {

struct PlatformCertificate {
  std::string serial;  // normalized (NormalizeSerial)
  SharedPkey public_key;
  std::optional<TimePoint> not_after;
};

// Immutable once built.
struct KeySet {
  SharedPkey merchant_private_key;  // signs requests
  std::string public_key_id;        // "PUB_KEY_ID_..."; empty when not in public-key mode
  SharedPkey wechatpay_public_key;  // null when not in public-key mode
  // Several at once during a rotation; chosen by Wechatpay-Serial.
  std::vector<PlatformCertificate> platform_certificates;
};

// Reads and checks every key file of the config. Fails (naming the file and
// what to do) when a file is unreadable or wrong, or when no key to verify
// WeChat Pay's answers with is configured.
Result<std::shared_ptr<const KeySet>> LoadKeySet(const WechatPayConfig& config);

class KeyStore {
 public:
  static Result<std::unique_ptr<KeyStore>> Load(const WechatPayConfig& config, const Clock& clock,
                                                Logger& logger);
  // Prefer Load(), which reads and checks the files.
  KeyStore(WechatPayConfig files, std::shared_ptr<const KeySet> keys, const Clock& clock,
           Logger& logger);

  // Safe from any thread; the snapshot stays valid however long it is held.
  std::shared_ptr<const KeySet> Snapshot() const;

  // Re-reads the key files named in `config` (the reloadable keys:
  // private_key_file, public_key_file, public_key_id, platform_certificates).
  // On failure the old keys stay in use and the error says why.
  Status Reload(const WechatPayConfig& config);
  // Re-reads the same files as last time (e.g. after a certificate rotation).
  Status Reload();

 private:
  void WarnAboutExpiry(const KeySet& keys) const;

  const Clock& clock_;  // not owned
  Logger& logger_;      // not owned
  mutable std::mutex mu_;
  WechatPayConfig files_;                // guarded by mu_
  std::shared_ptr<const KeySet> keys_;  // guarded by mu_
};

}  // namespace wxpay
