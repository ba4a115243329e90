// SHA256withRSA, RSASSA-PKCS1-v1_5 (never PSS): the only signature scheme of
// WeChat Pay API v3, for requests and for answers alike.
#pragma once

#include <openssl/evp.h>

#include <string>
#include <string_view>

#include "core/result.h"

namespace wxpay {

// Returns the Base64 signature. REQUIRES: key holds an RSA private key.
Result<std::string> SignSha256WithRsa(EVP_PKEY* key, std::string_view message);

// True only for a valid signature (raw bytes, already Base64-decoded).
bool VerifySha256WithRsa(EVP_PKEY* key, std::string_view message, std::string_view signature);

}  // namespace wxpay
