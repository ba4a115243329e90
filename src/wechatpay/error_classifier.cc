#include "wechatpay/error_classifier.h"

#include <cjson/cJSON.h>

#include <initializer_list>
#include <memory>

namespace wxpay {
namespace {

constexpr size_t kMaxMessageBytes = 256;
constexpr size_t kMaxCodeBytes = 64;

bool OneOf(std::string_view code, std::initializer_list<std::string_view> codes) {
  for (std::string_view c : codes) {
    if (code == c) return true;
  }
  return false;
}

// Cuts at most `max` bytes without splitting a UTF-8 sequence, and replaces
// control characters (the text reaches logs and message headers).
std::string Clip(std::string_view text, size_t max) {
  size_t end = text.size();
  if (end > max) {
    end = max;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  }
  std::string out(text.substr(0, end));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (end < text.size()) out += "...";
  return out;
}

}  // namespace

ErrorClass ClassifyErrorAnswer(long http_status, std::string_view code) {
  if (http_status >= 500) return {PayErrorKind::kTransient, true};
  if (http_status == 429) return {PayErrorKind::kThrottled, true};
  if (OneOf(code, {"ORDER_NOT_EXIST", "ORDERNOTEXIST"})) return {PayErrorKind::kNotFound, false};
  if (code == "ORDER_CLOSED") return {PayErrorKind::kClosed, false};
  if (OneOf(code, {"ORDER_PAID", "ORDERPAID"})) return {PayErrorKind::kPaid, false};
  if (OneOf(code, {"USER_PAYING", "USERPAYING"})) return {PayErrorKind::kUserPaying, false};
  if (OneOf(code, {"FREQUENCY_LIMITED", "RATELIMIT_EXCEEDED", "RULE_LIMIT", "RULELIMIT"})) {
    return {PayErrorKind::kThrottled, false};
  }
  if (OneOf(code, {"SYSTEM_ERROR", "SYSTEMERROR"})) return {PayErrorKind::kTransient, true};
  if (OneOf(code, {"SIGN_ERROR", "NO_AUTH"})) return {PayErrorKind::kPermanent, true};
  if (OneOf(code, {"MCH_NOT_EXISTS", "PARAM_ERROR", "APPID_MCHID_NOT_MATCH", "INVALID_REQUEST"})) {
    return {PayErrorKind::kPermanent, false};
  }
  // 403s about this one order (e.g. TRADE_ERROR: a payment-code order cannot
  // be closed, only reversed): a refusal for the order, not an outage.
  if (OneOf(code, {"TRADE_ERROR", "OUT_TRADE_NO_USED", "NOT_ENOUGH", "NOTENOUGH"})) {
    return {PayErrorKind::kPermanent, false};
  }
  if (http_status == 401 || http_status == 403) return {PayErrorKind::kPermanent, true};
  return {PayErrorKind::kTransient, false};
}

ErrorBody ParseErrorBody(std::string_view body) {
  ErrorBody out;
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> json(
      cJSON_ParseWithLength(body.data(), body.size()), cJSON_Delete);
  if (!json || !cJSON_IsObject(json.get())) {
    if (!body.empty()) out.message = "non-JSON answer: " + Clip(body, 80);
    return out;
  }
  const cJSON* code = cJSON_GetObjectItemCaseSensitive(json.get(), "code");
  const cJSON* message = cJSON_GetObjectItemCaseSensitive(json.get(), "message");
  if (cJSON_IsString(code)) out.code = Clip(code->valuestring, kMaxCodeBytes);
  if (cJSON_IsString(message)) out.message = Clip(message->valuestring, kMaxMessageBytes);
  return out;
}

}  // namespace wxpay
