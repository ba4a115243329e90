// Where and how to connect, from rabbitmq.url (SPEC §5). The configuration
// loader validates the URL too (config/url.h); the broker parses it again
// because it links only ops and core.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace wxpay {

struct AmqpEndpoint {
  bool tls = false;          // amqps://
  std::string host;          // without [] for IPv6 literals
  int port = 5672;           // 5672, or 5671 for amqps, unless given
  std::string vhost = "/";   // percent-decoded; "/" when the URL has no path
  std::string user = "guest";  // "guest" when the URL has no user info
  std::string password;      // percent-decoded; see ResolvePassword
  bool url_has_user = false;
  bool url_has_password = false;
};

// Accepts amqp[s]://[user[:password]@]host[:port][/vhost] with
// percent-escapes in user, password and vhost. Refuses query strings and
// fragments (librabbitmq would ignore them), an empty vhost after '/', and
// NUL bytes (librabbitmq takes C strings). Errors never quote the URL.
Result<AmqpEndpoint> ParseAmqpEndpoint(std::string_view url);

// The password to log in with: rabbitmq.password (from password_file, or the
// one the loader took from the URL) when set, else the URL's, else "guest"
// for a URL without user info (RabbitMQ's default account).
std::string ResolvePassword(const AmqpEndpoint& endpoint, const std::string& configured_password);

// The URL with any password replaced by "***", for logs and errors. Safe on
// malformed input: never returns the password.
std::string RedactAmqpUrl(std::string_view url);

// "amqp://user@host:port/vhost" (vhost percent-encoded), never a password.
std::string DescribeEndpoint(const AmqpEndpoint& endpoint);

}  // namespace wxpay
