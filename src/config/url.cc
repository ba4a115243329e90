#include "config/url.h"

#include <arpa/inet.h>

#include <optional>

namespace wxpay {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = HexValue(text[i + 1]);
    const int low = HexValue(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

// One percent-encoded part of an amqp URL (`part`: "user name", "password",
// "virtual host"). librabbitmq takes C strings, so an escaped NUL would
// silently cut the value short: it is refused.
Result<std::string> DecodeAmqpPart(std::string_view text, std::string_view part) {
  std::optional<std::string> decoded = PercentDecode(text);
  if (!decoded) {
    return Fail("has a bad percent-escape in the " + std::string(part) + " (write %XX with two hex digits)");
  }
  if (decoded->find('\0') != std::string::npos) {
    return Fail("has %00 in the " + std::string(part) + ": librabbitmq cannot send a NUL byte");
  }
  return *std::move(decoded);
}

struct HostPort {
  std::string host;
  std::optional<int> port;
};

// "host", "host:port", "[v6]", "[v6]:port". `what` names the URL in errors.
Result<HostPort> ParseHostPort(std::string_view authority, std::string_view what) {
  HostPort out;
  std::string_view rest;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return Fail(std::string(what) + " has an IPv6 address without a closing ]");
    out.host = std::string(authority.substr(1, close - 1));
    rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return Fail(std::string(what) + " has text after the IPv6 address; write [address]:port");
    }
    for (char c : out.host) {
      if (HexValue(c) < 0 && c != ':' && c != '.') return Fail(std::string(what) + " has a malformed IPv6 address");
    }
  } else {
    const std::size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
  }
  if (out.host.empty()) return Fail(std::string(what) + " has no host");
  for (char c : out.host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_' || c == ':';
    if (!ok) return Fail(std::string(what) + " has a host name with characters a host name cannot have");
  }
  if (!rest.empty()) {
    const std::string_view digits = rest.substr(1);
    if (digits.empty() || digits.size() > 5) return Fail(std::string(what) + " has no valid port after ':'");
    int port = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return Fail(std::string(what) + " has no valid port after ':'");
      port = port * 10 + (c - '0');
    }
    if (port < 1 || port > 65535) return Fail(std::string(what) + " has a port outside 1-65535");
    out.port = port;
  }
  return out;
}

}  // namespace

Result<AmqpUrl> ParseAmqpUrl(std::string_view url) {
  constexpr std::string_view kHowTo = " (expected amqp://user@host:5672/vhost or amqps://...)";
  AmqpUrl out;
  std::string_view rest;
  if (url.substr(0, 8) == "amqps://") {
    out.tls = true;
    out.port = 5671;
    rest = url.substr(8);
  } else if (url.substr(0, 7) == "amqp://") {
    rest = url.substr(7);
  } else {
    return Fail(std::string("is not an amqp:// or amqps:// URL") + std::string(kHowTo));
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return Fail(
        "has a query string or fragment (?... or #...), which librabbitmq ignores; use the "
        "rabbitmq.tls and rabbitmq.heartbeat keys instead, and percent-encode ?, # in the "
        "password as %3F, %23");
  }
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (path.find('@') != std::string_view::npos) {
    return Fail(
        "has an '@' after the host part: percent-encode '/' as %2F and '@' as %40 in the user "
        "name and password");
  }
  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const std::size_t colon = userinfo.find(':');
    Result<std::string> user = DecodeAmqpPart(userinfo.substr(0, colon), "user name");
    if (!user) return user.error();
    if (user->empty()) return Fail("has an empty user name before '@'");
    out.user = std::move(*user);
    out.has_user = true;
    if (colon != std::string_view::npos) {
      Result<std::string> password = DecodeAmqpPart(userinfo.substr(colon + 1), "password");
      if (!password) return password.error();
      out.password = std::move(*password);
      out.has_password = true;
    }
  }
  Result<HostPort> host_port = ParseHostPort(authority, "the URL");
  if (!host_port) return Fail(host_port.error().message + std::string(kHowTo));
  out.host = host_port->host;
  if (host_port->port) out.port = *host_port->port;
  if (!path.empty()) {
    const std::string_view encoded_vhost = path.substr(1);
    if (encoded_vhost.empty()) {
      return Fail(
          "ends in '/' with an empty virtual host; write %2f for the default virtual host \"/\", "
          "or leave out the trailing /");
    }
    if (encoded_vhost.find('/') != std::string_view::npos) {
      return Fail("has a '/' inside the virtual host; write it as %2F");
    }
    Result<std::string> vhost = DecodeAmqpPart(encoded_vhost, "virtual host");
    if (!vhost) return vhost.error();
    out.vhost = std::move(*vhost);
  }
  return out;
}

std::string RedactUrl(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "(not a URL)";
  const std::size_t authority_begin = scheme_end + 3;
  // The password ends at the last '@' before the path; anything odd is cut.
  std::size_t authority_end = url.find('/', authority_begin);
  if (authority_end == std::string_view::npos) authority_end = url.size();
  const std::string_view authority = url.substr(authority_begin, authority_end - authority_begin);
  const std::size_t at = authority.rfind('@');
  std::string out(url.substr(0, authority_begin));
  if (at == std::string_view::npos) {
    if (url.find('@', authority_end) != std::string_view::npos) return out + "***";
    return std::string(url);
  }
  const std::string_view userinfo = authority.substr(0, at);
  const std::size_t colon = userinfo.find(':');
  out += userinfo.substr(0, colon);
  if (colon != std::string_view::npos) out += ":***";
  if (url.find('@', authority_end) != std::string_view::npos) return out + "@***";
  out += url.substr(authority_begin + at);
  return out;
}

Result<HttpUrl> ParseHttpUrl(std::string_view url) {
  constexpr std::string_view kHowTo = " (expected e.g. https://api.mch.weixin.qq.com)";
  HttpUrl out;
  std::string_view rest;
  if (url.substr(0, 8) == "https://") {
    out.tls = true;
    rest = url.substr(8);
  } else if (url.substr(0, 7) == "http://") {
    out.port = 80;
    rest = url.substr(7);
  } else {
    return Fail("is not an https:// URL" + std::string(kHowTo));
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return Fail("has a query string or fragment; give only the scheme, host, port and path prefix" +
                std::string(kHowTo));
  }
  const std::size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  if (authority.find('@') != std::string_view::npos) {
    return Fail("has a user name or password, which WeChat Pay does not use" + std::string(kHowTo));
  }
  Result<HostPort> host_port = ParseHostPort(authority, "the URL");
  if (!host_port) return Fail(host_port.error().message + std::string(kHowTo));
  out.host = host_port->host;
  if (host_port->port) out.port = *host_port->port;
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out.path = std::string(path);
  return out;
}

bool IsIpLiteral(std::string_view host) {
  const std::string text(host);
  in_addr v4{};
  in6_addr v6{};
  return inet_pton(AF_INET, text.c_str(), &v4) == 1 || inet_pton(AF_INET6, text.c_str(), &v6) == 1;
}

}  // namespace wxpay
