#include "broker/amqp_endpoint.h"

#include <optional>

namespace wxpay {
namespace {

constexpr std::string_view kExpected = " (expected amqp://user:password@host:5672/vhost or amqps://...)";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// nullopt on a malformed escape or an escaped NUL.
std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = HexValue(text[i + 1]);
    const int low = HexValue(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    const char c = static_cast<char>(high * 16 + low);
    if (c == '\0') return std::nullopt;
    out.push_back(c);
    i += 2;
  }
  return out;
}

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
         c == '_';
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (IsHostChar(ch) || c == '~') {
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
  AmqpEndpoint out;
  std::string_view rest;
  if (url.substr(0, 8) == "amqps://") {
    out.tls = true;
    out.port = 5671;
    rest = url.substr(8);
  } else if (url.substr(0, 7) == "amqp://") {
    rest = url.substr(7);
  } else {
    return Fail("rabbitmq.url is not an amqp:// or amqps:// URL" + std::string(kExpected));
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return Fail(
        "rabbitmq.url has a query string or fragment, which librabbitmq ignores; use the rabbitmq.tls and "
        "rabbitmq.heartbeat keys, and percent-encode ? and # in the password as %3F and %23");
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (path.find('@') != std::string_view::npos) {
    return Fail("rabbitmq.url has an '@' after the host: percent-encode '/' as %2F and '@' as %40 in the password");
  }

  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const size_t colon = userinfo.find(':');
    std::optional<std::string> user = PercentDecode(userinfo.substr(0, colon));
    if (!user) return Fail("rabbitmq.url has a bad percent-escape in the user name (write %XX, not %00)");
    if (user->empty()) return Fail("rabbitmq.url has an empty user name before '@'");
    out.user = std::move(*user);
    out.url_has_user = true;
    if (colon != std::string_view::npos) {
      std::optional<std::string> password = PercentDecode(userinfo.substr(colon + 1));
      if (!password) return Fail("rabbitmq.url has a bad percent-escape in the password (write %XX, not %00)");
      out.password = std::move(*password);
      out.url_has_password = true;
    }
  }

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Fail("rabbitmq.url has an IPv6 address without a closing ]");
    out.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') return Fail("rabbitmq.url has text after the IPv6 address");
    if (!after.empty()) port_text = after.substr(1);
    for (char c : out.host) {
      if (!(HexValue(c) >= 0 || c == ':' || c == '.')) return Fail("rabbitmq.url has a malformed IPv6 address");
    }
    if (!after.empty() && port_text.empty()) return Fail("rabbitmq.url has ':' without a port");
  } else {
    const size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return Fail("rabbitmq.url has ':' without a port");
    }
    for (char c : out.host) {
      if (!IsHostChar(c)) return Fail("rabbitmq.url has a host name with characters a host name cannot have");
    }
  }
  if (out.host.empty()) return Fail("rabbitmq.url has no host" + std::string(kExpected));
  if (!port_text.empty()) {
    if (port_text.size() > 5) return Fail("rabbitmq.url has a port outside 1-65535");
    int port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9') return Fail("rabbitmq.url has a port that is not a number");
      port = port * 10 + (c - '0');
    }
    if (port < 1 || port > 65535) return Fail("rabbitmq.url has a port outside 1-65535");
    out.port = port;
  }

  if (!path.empty()) {
    const std::string_view encoded = path.substr(1);
    if (encoded.empty()) {
      return Fail(
          "rabbitmq.url ends in '/' with an empty virtual host; write %2f for the default virtual host \"/\", or "
          "leave out the trailing /");
    }
    if (encoded.find('/') != std::string_view::npos) return Fail("rabbitmq.url has a '/' inside the virtual host; write %2F");
    std::optional<std::string> vhost = PercentDecode(encoded);
    if (!vhost) return Fail("rabbitmq.url has a bad percent-escape in the virtual host (write %XX, not %00)");
    out.vhost = std::move(*vhost);
  }
  return out;
}

std::string ResolvePassword(const AmqpEndpoint& endpoint, const std::string& configured_password) {
  if (!configured_password.empty()) return configured_password;
  if (endpoint.url_has_password) return endpoint.password;
  if (!endpoint.url_has_user) return "guest";
  return "";
}

std::string RedactAmqpUrl(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "(not a URL)";
  const size_t authority_begin = scheme_end + 3;
  // The password ends at the last '@' before the path; anything odd is cut.
  size_t authority_end = url.find('/', authority_begin);
  if (authority_end == std::string_view::npos) authority_end = url.size();
  const std::string_view authority = url.substr(authority_begin, authority_end - authority_begin);
  const size_t at = authority.rfind('@');
  std::string out(url.substr(0, authority_begin));
  if (at == std::string_view::npos) {
    if (url.find('@', authority_end) != std::string_view::npos) return out + "***";
    return std::string(url);
  }
  const std::string_view userinfo = authority.substr(0, at);
  const size_t colon = userinfo.find(':');
  out += userinfo.substr(0, colon);
  if (colon != std::string_view::npos) out += ":***";
  if (url.find('@', authority_end) != std::string_view::npos) return out + "@***";
  out += url.substr(authority_begin + at);
  return out;
}

std::string DescribeEndpoint(const AmqpEndpoint& endpoint) {
  std::string host = endpoint.host.find(':') != std::string::npos ? "[" + endpoint.host + "]" : endpoint.host;
  return std::string(endpoint.tls ? "amqps://" : "amqp://") + PercentEncode(endpoint.user) + "@" + host + ":" +
         std::to_string(endpoint.port) + "/" + PercentEncode(endpoint.vhost);
}

}  // namespace wxpay
