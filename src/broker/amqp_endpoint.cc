#include "broker/amqp_endpoint.h"

#include "config/url.h"

namespace wxpay {
namespace {

bool IsUnreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
         c == '_' || c == '~';
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (IsUnreserved(ch)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

Result<AmqpEndpoint> ParseAmqpEndpoint(std::string_view url) {
  Result<AmqpUrl> parsed = ParseAmqpUrl(url);
  if (!parsed) return Fail("rabbitmq.url: " + parsed.error().message);
  AmqpEndpoint out;
  out.tls = parsed->tls;
  out.host = std::move(parsed->host);
  out.port = parsed->port;
  out.vhost = std::move(parsed->vhost);
  if (parsed->has_user) out.user = std::move(parsed->user);
  out.password = std::move(parsed->password);
  out.url_has_user = parsed->has_user;
  out.url_has_password = parsed->has_password;
  return out;
}

std::string ResolvePassword(const AmqpEndpoint& endpoint, const std::string& configured_password) {
  if (!configured_password.empty()) return configured_password;
  if (endpoint.url_has_password) return endpoint.password;
  if (!endpoint.url_has_user) return "guest";
  return "";
}

std::string DescribeEndpoint(const AmqpEndpoint& endpoint) {
  std::string host = endpoint.host.find(':') != std::string::npos ? "[" + endpoint.host + "]" : endpoint.host;
  return std::string(endpoint.tls ? "amqps://" : "amqp://") + PercentEncode(endpoint.user) + "@" + host + ":" +
         std::to_string(endpoint.port) + "/" + PercentEncode(endpoint.vhost);
}

}  // namespace wxpay
