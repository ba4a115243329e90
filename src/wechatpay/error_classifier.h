// WeChat Pay's error answers -> PayErrorKind (SPEC §3), in both spellings
// WeChat Pay has used for each code.
#pragma once

#include <string>
#include <string_view>

#include "core/trade.h"

namespace wxpay {

struct ErrorClass {
  PayErrorKind kind = PayErrorKind::kTransient;
  bool system_wide = false;  // not tied to one order: feeds the WeChat breaker
};

// For an answer that is not the expected success (any status but the 200 of
// a query or the 204 of a close). `code` is the body's "code", "" if none.
//  - 5xx: transient, system-wide (whatever the code);  429: throttled, system-wide
//  - ORDER_NOT_EXIST/ORDERNOTEXIST: not found;  ORDER_CLOSED: closed;
//    ORDER_PAID/ORDERPAID: paid;  USER_PAYING/USERPAYING: user paying
//  - FREQUENCY_LIMITED/RATELIMIT_EXCEEDED/RULE_LIMIT/RULELIMIT: throttled
//    (per order: on close it means "a payment is in progress right now")
//  - SYSTEM_ERROR/SYSTEMERROR: transient, system-wide
//  - SIGN_ERROR, NO_AUTH: permanent, system-wide;  MCH_NOT_EXISTS, PARAM_ERROR,
//    APPID_MCHID_NOT_MATCH, INVALID_REQUEST: permanent
//  - otherwise 401/403: permanent, system-wide;  anything else: transient
ErrorClass ClassifyErrorAnswer(long http_status, std::string_view code);

struct ErrorBody {
  std::string code;
  std::string message;  // at most ~256 bytes, cut at a UTF-8 boundary
};

// Lenient: an error answer may have no body, HTML from a proxy, or JSON
// without "code"; missing parts are empty.
ErrorBody ParseErrorBody(std::string_view body);

}  // namespace wxpay
