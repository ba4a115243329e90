// The HTTP seam between the WeChat Pay client and the network: the client
// speaks HttpTransport; CurlTransport is the real one, tests script a fake.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace wxpay {

// Response headers in arrival order; names compare case-insensitively.
class HttpHeaders {
 public:
  void Add(std::string name, std::string value) {
    entries_.emplace_back(std::move(name), std::move(value));
  }
  // The first header with this name, or nullopt.
  std::optional<std::string_view> Find(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }
  void Clear() { entries_.clear(); }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

struct HttpRequest {
  std::string method;  // "GET" or "POST"
  std::string url;     // absolute: base URL + escaped path and query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;    // sent byte for byte (POST only)
};

struct HttpResponse {
  long status = 0;
  HttpHeaders headers;
  std::string body;  // as received
  // The answer came over HTTPS with the peer's certificate and host name
  // verified, or over plain HTTP to a loopback host that the configuration
  // allows (tests): only then may an unsigned error answer be believed.
  bool channel_trusted = false;
};

struct TransportError {
  enum class Kind {
    kNotConnected,  // resolve/connect failed or timed out: nothing was sent (failover is safe)
    kNotSent,       // failed before sending (TLS verification, URL refused): no failover
    kMaybeSent,     // the request may have reached WeChat Pay (lost answer, timeout, drop)
  };
  Kind kind = Kind::kMaybeSent;
  std::string message;  // what failed and what to do; no secrets
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Sends the request at most once (no transport-level replay). Thread-safe.
  virtual Result<HttpResponse, TransportError> Send(const HttpRequest& request) = 0;
};

}  // namespace wxpay
