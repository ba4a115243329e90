// Host names and addresses in URLs from the configuration.
#pragma once

#include <string_view>

namespace wxpay {

// "localhost", "::1", "[::1]" or an IPv4 address in 127.0.0.0/8: the only
// hosts plain http:// is allowed to (wechatpay.allow_plain_http, tests).
bool IsLoopbackHost(std::string_view host);

}  // namespace wxpay
