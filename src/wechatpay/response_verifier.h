// Verifying WeChat Pay's answers: the string "TIMESTAMP\nNONCE\nBODY\n"
// (an empty body, e.g. 204, leaves the last line as just "\n") signed
// SHA256withRSA, Base64 in Wechatpay-Signature, key chosen by
// Wechatpay-Serial: "PUB_KEY_ID_..." is the WeChat Pay public key, anything
// else a platform certificate's serial. Every failure says what failed.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "wechatpay/http.h"
#include "wechatpay/key_store.h"

namespace wxpay {

std::string ResponseStringToSign(std::string_view timestamp, std::string_view nonce,
                                 std::string_view body);

// True when the answer carries any of the Wechatpay-Signature/-Timestamp/
// -Nonce/-Serial headers (then it must verify, whatever its status).
bool HasSignatureHeaders(const HttpHeaders& headers);

class ResponseVerifier {
 public:
  // Answers are refused when |now - Wechatpay-Timestamp| >= 300 s, the
  // boundary wechatpay-go uses (299 s passes, 300 s fails, both directions).
  static constexpr std::chrono::seconds kMaxClockSkew{300};

  explicit ResponseVerifier(const Clock& clock) : clock_(clock) {}

  Status Verify(const KeySet& keys, const HttpHeaders& headers, std::string_view body) const;

 private:
  const Clock& clock_;  // not owned
};

}  // namespace wxpay
