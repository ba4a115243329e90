// Signing a request (merchant -> WeChat Pay): the string to sign
// "METHOD\nPATH?QUERY\nTIMESTAMP\nNONCE\nBODY\n" and the Authorization header
// "WECHATPAY2-SHA256-RSA2048 mchid=...,nonce_str=...,signature=...,timestamp=...,serial_no=...".
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "wechatpay/nonce.h"

namespace wxpay {

// path_and_query exactly as sent (already escaped); body exactly as sent
// ("" for GET, so the last line is just "\n").
std::string RequestStringToSign(std::string_view method, std::string_view path_and_query,
                                int64_t timestamp, std::string_view nonce, std::string_view body);

struct AuthorizationFields {
  std::string mchid;      // the signing merchant: mchid, or sp_mchid in partner mode
  std::string nonce;
  std::string signature;  // Base64
  int64_t timestamp = 0;  // Unix seconds
  std::string serial_no;  // the merchant API certificate's serial
};

std::string FormatAuthorization(const AuthorizationFields& fields);

struct SigningIdentity {
  EVP_PKEY* private_key = nullptr;  // not owned
  std::string_view mchid;
  std::string_view serial_no;
};

// Every call takes a fresh timestamp and nonce: a retry is a new signature.
class RequestSigner {
 public:
  RequestSigner(const Clock& clock, NonceSource& nonces) : clock_(clock), nonces_(nonces) {}

  // The Authorization header value for one request.
  Result<std::string> Authorize(const SigningIdentity& who, std::string_view method,
                                std::string_view path_and_query, std::string_view body) const;

 private:
  const Clock& clock_;    // not owned
  NonceSource& nonces_;   // not owned
};

}  // namespace wxpay
