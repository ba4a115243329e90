// Base URLs (wechatpay.base_url / backup_base_url) and URL escaping.
#pragma once

#include <string>
#include <string_view>

#include "core/host.h"  // IsLoopbackHost
#include "core/result.h"

namespace wxpay {

struct BaseUrl {
  std::string text;  // "https://host[:port]" without a trailing slash
  std::string scheme;
  std::string host;
  bool loopback = false;
};

// Accepts "https://host[:port][/]"; "http://" only when allow_plain_http and
// the host is loopback (127.0.0.0/8, ::1, localhost). No user info, path,
// query or fragment. `key` names the config key in the error message.
Result<BaseUrl> ParseBaseUrl(std::string_view url, bool allow_plain_http, std::string_view key);

// Scheme and host of an absolute URL (for the transport's own check).
Result<BaseUrl> SplitUrl(std::string_view url);


// Percent-encodes everything but [A-Za-z0-9_-] (uppercase hex), so no value
// can add a path segment, a dot segment, a query or a fragment.
std::string EscapeUrlComponent(std::string_view value);

}  // namespace wxpay
