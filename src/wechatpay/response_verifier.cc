#include "wechatpay/response_verifier.h"

#include <charconv>
#include <cstdint>
#include <cstdlib>

#include "wechatpay/base64.h"
#include "wechatpay/pem_files.h"
#include "wechatpay/rsa_sha256.h"

namespace wxpay {
namespace {

constexpr std::string_view kTimestamp = "Wechatpay-Timestamp";
constexpr std::string_view kNonce = "Wechatpay-Nonce";
constexpr std::string_view kSignature = "Wechatpay-Signature";
constexpr std::string_view kSerial = "Wechatpay-Serial";
constexpr std::string_view kSignatureType = "Wechatpay-Signature-Type";
constexpr std::string_view kSignatureTypeValue = "WECHATPAY2-SHA256-RSA2048";
constexpr std::string_view kPublicKeyIdPrefix = "PUB_KEY_ID_";
constexpr std::string_view kSignTestPrefix = "WECHATPAY/SIGNTEST/";

// Header values come from the network: quote them short and printable.
std::string Quote(std::string_view value) {
  constexpr size_t kMax = 64;
  std::string out = "\"";
  for (size_t i = 0; i < value.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(value[i]);
    out += (c >= 0x20 && c < 0x7f && c != '"') ? static_cast<char>(c) : '?';
  }
  if (value.size() > kMax) out += "...";
  return out + "\"";
}

Status Failure(std::string what) { return Fail("response signature: " + std::move(what)); }

Status CheckTimestamp(std::string_view text, TimePoint now) {
  int64_t ts = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ts);
  if (text.empty() || text.size() > 18 || ec != std::errc() || end != text.data() + text.size() ||
      text[0] == '-' || text[0] == '+') {
    return Failure("Wechatpay-Timestamp " + Quote(text) + " is not a Unix time in seconds");
  }
  int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  int64_t skew = now_s - ts;
  if (std::llabs(skew) >= ResponseVerifier::kMaxClockSkew.count()) {
    return Failure("stale timestamp: Wechatpay-Timestamp is " + std::to_string(std::llabs(skew)) +
                   " s " + (skew > 0 ? "in the past" : "in the future") +
                   " (allowed: less than " +
                   std::to_string(ResponseVerifier::kMaxClockSkew.count()) +
                   " s) — check the server clock (NTP)");
  }
  return Status::Ok();
}

// The key WeChat Pay says it signed with, or why there is none.
Result<EVP_PKEY*> SelectKey(const KeySet& keys, std::string_view serial) {
  if (serial.rfind(kPublicKeyIdPrefix, 0) == 0) {
    if (keys.wechatpay_public_key && serial == keys.public_key_id) {
      return keys.wechatpay_public_key.get();
    }
    return Fail("response signature: unknown serial " + Quote(serial) +
                (keys.wechatpay_public_key
                     ? " (the configured wechatpay.public_key_id is " + keys.public_key_id + ")"
                     : std::string(" (no WeChat Pay public key configured)")) +
                " — configure the WeChat Pay public key with this id "
                "(wechatpay.public_key_file/public_key_id)");
  }
  std::string wanted = NormalizeSerial(serial);
  for (const PlatformCertificate& cert : keys.platform_certificates) {
    if (cert.serial == wanted) return cert.public_key.get();
  }
  return Fail("response signature: unknown serial " + Quote(serial) +
              " — configure its platform certificate (wechatpay.platform_certificates) or the "
              "WeChat Pay public key (wechatpay.public_key_file/public_key_id)");
}

}  // namespace

std::string ResponseStringToSign(std::string_view timestamp, std::string_view nonce,
                                 std::string_view body) {
  std::string s;
  s.reserve(timestamp.size() + nonce.size() + body.size() + 3);
  s.append(timestamp).append("\n").append(nonce).append("\n").append(body).append("\n");
  return s;
}

bool HasSignatureHeaders(const HttpHeaders& headers) {
  return headers.Find(kSignature) || headers.Find(kTimestamp) || headers.Find(kNonce) ||
         headers.Find(kSerial);
}

Status ResponseVerifier::Verify(const KeySet& keys, const HttpHeaders& headers,
                                std::string_view body) const {
  for (std::string_view name : {kSignature, kTimestamp, kNonce, kSerial}) {
    std::optional<std::string_view> value = headers.Find(name);
    if (!value || value->empty()) {
      return Failure("missing " + std::string(name) +
                     " header: the answer is not signed by WeChat Pay");
    }
  }
  std::string_view timestamp = *headers.Find(kTimestamp);
  std::string_view nonce = *headers.Find(kNonce);
  std::string_view signature = *headers.Find(kSignature);
  std::string_view serial = *headers.Find(kSerial);

  if (std::optional<std::string_view> type = headers.Find(kSignatureType);
      type && *type != kSignatureTypeValue) {
    return Failure("unsupported Wechatpay-Signature-Type " + Quote(*type) + " (expected " +
                   std::string(kSignatureTypeValue) + ")");
  }
  if (Status s = CheckTimestamp(timestamp, clock_.Now()); !s) return s;

  Result<EVP_PKEY*> key = SelectKey(keys, serial);
  if (!key) return Fail(key.error().message);

  if (signature.rfind(kSignTestPrefix, 0) == 0) {
    return Failure(
        "signature probe (Wechatpay-Signature starts with WECHATPAY/SIGNTEST/): WeChat Pay "
        "tests that unverifiable answers are refused; treated as unverified");
  }
  std::optional<std::string> raw = Base64DecodeStrict(signature);
  if (!raw) return Failure("Wechatpay-Signature " + Quote(signature) + " is not valid Base64");

  if (!VerifySha256WithRsa(*key, ResponseStringToSign(timestamp, nonce, body), *raw)) {
    return Failure("signature mismatch (serial " + Quote(serial) +
                   "): the answer was altered on the way or signed with another key");
  }
  return Status::Ok();
}

}  // namespace wxpay
