// WeChat Pay's view of an order: a verified trade or a classified error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wxpay {

enum class TradeState {
  kSuccess,
  kRefund,
  kNotPay,
  kClosed,
  kRevoked,
  kUserPaying,
  kPayError,
  kUnknown,  // a trade_state the daemon does not know (e.g. ACCEPT): never final
};

TradeState ParseTradeState(std::string_view s);

// A query answer whose signature verified. Only built by the client after
// verification; the engine may trust every field.
struct Trade {
  std::string trade_state;  // as received, e.g. "SUCCESS", "ACCEPT"
  TradeState state = TradeState::kUnknown;
  std::optional<int64_t> amount_total;  // amount.total in fen
  std::string mchid;                    // direct mode
  std::string sp_mchid;                 // partner mode
  std::string sub_mchid;                // partner mode
  std::string appid;                    // direct: appid; partner: sp_appid
  std::string sub_appid;                // partner mode, when the order had one
  std::string out_trade_no;
  std::string transaction_id;
  std::string success_time;             // RFC 3339 as received, empty unless paid
  std::string raw_json;                 // the response body as received
  std::string request_id;               // Request-ID header
};

enum class PayErrorKind {
  kNotFound,      // 404 ORDER_NOT_EXIST / ORDERNOTEXIST
  kClosed,        // ORDER_CLOSED (close answered: already closed)
  kPaid,          // ORDER_PAID / ORDERPAID (close answered: paid meanwhile)
  kUserPaying,    // 202 USER_PAYING / USERPAYING
  kThrottled,     // 429, FREQUENCY_LIMITED / RATELIMIT_EXCEEDED, RULE_LIMIT / RULELIMIT
  kTransient,     // timeout, connection error, 5xx, SYSTEM_ERROR, unknown codes
  kPermanent,     // 401/403, SIGN_ERROR, NO_AUTH, MCH_NOT_EXISTS, PARAM_ERROR, APPID_MCHID_NOT_MATCH, ...
  kBadSignature,  // a 2xx whose signature did not verify (tampered, stale, unknown serial, SIGNTEST)
};

std::string_view PayErrorKindName(PayErrorKind k);

struct PayError {
  PayErrorKind kind = PayErrorKind::kTransient;
  int http_status = 0;     // 0 when no HTTP answer arrived (connect failure, timeout)
  std::string code;        // WeChat Pay's code, e.g. "SYSTEM_ERROR"; empty if none
  std::string message;     // WeChat Pay's message, or what failed locally (no secrets)
  std::string request_id;  // Request-ID header, when there was one
  // True when the failure is not tied to one order (auth, clock skew, connection
  // errors, 5xx, 429): these feed the WeChat breaker and must not burn attempts.
  bool system_wide = false;

  // One line for logs and x-wxpay-error, e.g.
  // "close: HTTP 500 SYSTEM_ERROR 系统异常 (Request-ID 08E6...)".
  std::string Describe() const;
};

// Answer to a close that WeChat Pay accepted (204, verified).
struct CloseAccepted {
  std::string request_id;
};

}  // namespace wxpay
