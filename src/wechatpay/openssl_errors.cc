#include <openssl/err.h>

#include "wechatpay/openssl_handles.h"

namespace wxpay {

std::string DrainOpenSslErrors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(code);
    if (!out.empty()) out += "; ";
    out += reason != nullptr ? reason : "error " + std::to_string(ERR_GET_REASON(code));
  }
  return out.empty() ? "no detail" : out;
}

}  // namespace wxpay
