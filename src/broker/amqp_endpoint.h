// Where and how to connect, from rabbitmq.url (SPEC §5). The URL is parsed by
// config/url.h's ParseAmqpUrl, the same parser the configuration loader
// checks it with, so the two can never disagree about a URL.
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

// ParseAmqpUrl (config/url.h) with the broker's defaults; errors start with
// "rabbitmq.url: " and never quote the URL.
Result<AmqpEndpoint> ParseAmqpEndpoint(std::string_view url);

// The password to log in with: rabbitmq.password (from password_file, or the
// one the loader took from the URL) when set, else the URL's, else "guest"
// for a URL without user info (RabbitMQ's default account).
std::string ResolvePassword(const AmqpEndpoint& endpoint, const std::string& configured_password);

// "amqp://user@host:port/vhost" (vhost percent-encoded), never a password.
std::string DescribeEndpoint(const AmqpEndpoint& endpoint);

}  // namespace wxpay
