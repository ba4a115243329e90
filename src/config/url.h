// URL parsing for the two kinds of URL in the configuration: the broker's
// amqp(s):// URL (which may carry a password) and WeChat Pay's http(s) base
// URL. Error messages never quote the URL, so they are safe to log.
#pragma once

#include <string>
#include <string_view>

#include "core/host.h"  // IsLoopbackHost
#include "core/result.h"

namespace wxpay {

struct AmqpUrl {
  bool tls = false;           // amqps://
  std::string user;           // percent-decoded; empty when the URL has none
  bool has_user = false;
  std::string password;       // percent-decoded; empty when the URL has none
  bool has_password = false;
  std::string host;           // without [] for IPv6 literals
  int port = 5672;            // 5672, or 5671 for amqps, unless given
  std::string vhost = "/";    // percent-decoded; "/" when the URL has no path
};

// Accepts amqp[s]://[user[:password]@]host[:port][/vhost] with percent-escapes
// in user, password and vhost. The one parser of rabbitmq.url: the loader
// checks it with this, and the broker connects with what it returns. Refuses
// what librabbitmq would misread: query strings and fragments (ignored, so
// settings there would be lost), an empty vhost after '/', an empty user name
// before '@', and escaped NUL bytes (librabbitmq takes C strings).
Result<AmqpUrl> ParseAmqpUrl(std::string_view url);

// The URL with its password replaced by "***" (for logs); unchanged when it
// has none. Safe on malformed input: it never returns the password (a text
// without "://" comes back as "(not a URL)").
std::string RedactUrl(std::string_view url);

struct HttpUrl {
  bool tls = false;   // https://
  std::string host;   // without [] for IPv6 literals
  int port = 443;     // 443, or 80 for http, unless given
  std::string path;   // "" or "/prefix" (no trailing /)
};

// Accepts http(s)://host[:port][/path]; no user info, query or fragment.
Result<HttpUrl> ParseHttpUrl(std::string_view url);

// An IPv4 or IPv6 literal rather than a DNS name.
bool IsIpLiteral(std::string_view host);

}  // namespace wxpay
