// Checks of the wechatpay section: endpoints, merchant identity per mode,
// and the keys that sign requests and verify answers.
#include "config/checks.h"
#include "config/url.h"

namespace wxpay {
namespace {

constexpr std::string_view kPublicKeyIdPrefix = "PUB_KEY_ID_";

bool IsHex(const std::string& text) {
  return !text.empty() && text.find_first_not_of("0123456789ABCDEFabcdef") == std::string::npos;
}

bool IsAppId(const std::string& text) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

void ConfigChecker::CheckBaseUrl(std::string_view key, std::string& url) {
  Result<HttpUrl> parsed = ParseHttpUrl(url);
  if (!parsed) {
    Error(key, "\"" + url + "\" " + parsed.error().message);
    return;
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (!parsed->path.empty()) {
    // The v3 paths are absolute (/v3/pay/...) and signed as sent: a prefix
    // would be signed wrongly, and WeChat Pay has none.
    Error(key, "\"" + url + "\" has a path (" + parsed->path +
                   "); give only scheme, host and port, e.g. https://api.mch.weixin.qq.com");
    return;
  }
  if (parsed->tls || !Usable("wechatpay.allow_plain_http")) return;
  if (!config_.wechatpay.allow_plain_http) {
    Error(key, "http:// is refused: answers could be forged on the way; use https:// (or, for tests "
               "against a local simulator only, set wechatpay.allow_plain_http: true)");
  } else if (!IsLoopbackHost(parsed->host)) {
    Error(key, "http:// is allowed only to a loopback host (127.0.0.1, ::1 or localhost), even with "
               "wechatpay.allow_plain_http, not to " + parsed->host + "; use https://");
  }
}

void ConfigChecker::CheckWechatPay() {
  WechatPayConfig& pay = config_.wechatpay;
  if (Usable("wechatpay.base_url")) CheckBaseUrl("wechatpay.base_url", pay.base_url);
  if (Usable("wechatpay.backup_base_url") && !pay.backup_base_url.empty()) {
    CheckBaseUrl("wechatpay.backup_base_url", pay.backup_base_url);
  }

  if (UsableAll({"wechatpay.mode", "wechatpay.mchid", "wechatpay.sp_mchid", "wechatpay.sub_mchid"})) {
    if (pay.mode == WechatPayConfig::Mode::kDirect) {
      if (pay.mchid.empty()) {
        Error("wechatpay.mchid", "required in direct mode (your merchant number, e.g. 1900000001)");
      } else {
        CheckMchid("wechatpay.mchid", pay.mchid);
      }
      if (!pay.sp_mchid.empty()) Warning("wechatpay.sp_mchid", "ignored in direct mode (set wechatpay.mode: partner to use it)");
      if (!pay.sub_mchid.empty()) Warning("wechatpay.sub_mchid", "ignored in direct mode (set wechatpay.mode: partner to use it)");
      if (Usable("database.orders.sub_mchid") && !config_.database.orders.sub_mchid.empty()) {
        Warning("database.orders.sub_mchid", "ignored in direct mode (set wechatpay.mode: partner to use it)");
      }
    } else {
      if (pay.sp_mchid.empty()) {
        Error("wechatpay.sp_mchid", "required in partner mode (the service provider's merchant number, which signs the requests)");
      } else {
        CheckMchid("wechatpay.sp_mchid", pay.sp_mchid);
      }
      if (!pay.sub_mchid.empty()) {
        CheckMchid("wechatpay.sub_mchid", pay.sub_mchid);
      } else if (Usable("database.orders.sub_mchid") && config_.database.orders.sub_mchid.empty()) {
        Error("wechatpay.sub_mchid",
              "partner mode needs a sub-merchant: set wechatpay.sub_mchid, or database.orders.sub_mchid "
              "to the column holding each order's sub-merchant");
      }
      if (!pay.mchid.empty()) Warning("wechatpay.mchid", "ignored in partner mode (requests use sp_mchid and sub_mchid)");
    }
  }

  if (Usable("wechatpay.appid")) {
    for (std::size_t i = 0; i < pay.appid.size(); ++i) {
      const std::string& appid = pay.appid[i];
      if (!IsAppId(appid)) {
        ErrorAt(where_.ItemLineOf("wechatpay.appid", i), "wechatpay.appid", "\"" + appid + "\" is not an app id (letters, digits and _, e.g. wxd678efh567hg6787)");
      }
    }
  }

  if (Usable("wechatpay.merchant_serial_no") && !pay.merchant_serial_no.empty() &&
      (!IsHex(pay.merchant_serial_no) || pay.merchant_serial_no.size() > 64)) {
    Error("wechatpay.merchant_serial_no",
          "\"" + pay.merchant_serial_no + "\" is not a certificate serial number (hex digits, as the merchant platform shows it)");
  }
  if (Usable("wechatpay.private_key_file") && !pay.private_key_file.empty()) {
    CheckFile("wechatpay.private_key_file", pay.private_key_file, true);
  }

  if (UsableAll({"wechatpay.public_key_file", "wechatpay.public_key_id", "wechatpay.platform_certificates"})) {
    const bool has_file = !pay.public_key_file.empty();
    const bool has_id = !pay.public_key_id.empty();
    if (has_file && !has_id) {
      Error("wechatpay.public_key_id", "required when wechatpay.public_key_file is set (the PUB_KEY_ID_... shown next to the key in the merchant platform)");
    }
    if (has_id && !has_file) {
      Error("wechatpay.public_key_file", "required when wechatpay.public_key_id is set (the WeChat Pay public key, e.g. pub_key.pem)");
    }
    if (has_id && (pay.public_key_id.rfind(kPublicKeyIdPrefix, 0) != 0 || pay.public_key_id.size() == kPublicKeyIdPrefix.size())) {
      Error("wechatpay.public_key_id", "\"" + pay.public_key_id + "\" does not start with PUB_KEY_ID_ (copy the id shown next to the public key in the merchant platform)");
    }
    if (has_file) CheckFile("wechatpay.public_key_file", pay.public_key_file, false);
    for (std::size_t i = 0; i < pay.platform_certificates.size(); ++i) {
      CheckFile("wechatpay.platform_certificates", pay.platform_certificates[i], false,
                where_.ItemLineOf("wechatpay.platform_certificates", i));
    }
    if (!has_file && !has_id && pay.platform_certificates.empty()) {
      Error("wechatpay.public_key_file",
            "nothing to verify WeChat Pay's answers with: set wechatpay.public_key_file and "
            "wechatpay.public_key_id (public-key mode), or wechatpay.platform_certificates");
    }
  }

  if (Usable("wechatpay.apiv3_key_file") && !pay.apiv3_key_file.empty()) {
    CheckFile("wechatpay.apiv3_key_file", pay.apiv3_key_file, true);
  }
  if (Usable("wechatpay.ca_file") && !pay.ca_file.empty()) CheckFile("wechatpay.ca_file", pay.ca_file, false);
}

}  // namespace wxpay
