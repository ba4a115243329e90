// HttpTransport over libcurl: HTTPS with peer and host verification always
// on, HTTP/1.1 keep-alive, and never a transport-level replay of a request.
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.h"
#include "wechatpay/http.h"

namespace wxpay {

struct CurlTransportOptions {
  // CA bundle file (CURLOPT_CAINFO) for tests and TLS-intercepting proxies;
  // "" = libcurl's default bundle. Debian's libcurl also keeps consulting its
  // CA path (/etc/ssl/certs), so the system CAs stay trusted either way.
  std::string ca_file;
  std::chrono::milliseconds timeout{5000};  // connect timeout and whole-transfer timeout
  // Connections idle longer than this are not reused: WeChat Pay closes idle
  // connections after about 8 s, so 7 s avoids writing into a dying socket.
  std::chrono::seconds max_idle{7};
  std::string user_agent;
  bool allow_plain_http = false;  // http:// to loopback hosts only (tests)
  size_t max_body_bytes = 1 << 20;
};

struct TransportStats {
  uint64_t transfers = 0;         // Send() calls that reached libcurl
  uint64_t new_connections = 0;   // connections opened (the rest were reused)
  uint64_t replays_blocked = 0;   // times libcurl tried to resend a request
};

struct CurlEasyDeleter {
  void operator()(CURL* handle) const;
};
using CurlEasyPtr = std::unique_ptr<CURL, CurlEasyDeleter>;

// One client is shared by every worker thread. Each caller borrows an easy
// handle for one transfer and returns it; connections live in (and are
// reused by) the handle that opened them. A pool rather than a CURLSH
// connection share: no handle is ever used by two threads at once, libcurl
// needs no lock callbacks, and the pool only grows to the number of
// concurrent callers (policy.concurrency), which is also how many
// connections WeChat Pay sees.
class EasyHandlePool {
 public:
  Result<CurlEasyPtr> Take();
  void Return(CurlEasyPtr handle);
  size_t idle_count() const;

 private:
  static constexpr size_t kMaxIdleHandles = 64;
  mutable std::mutex mu_;
  std::vector<CurlEasyPtr> idle_;  // guarded by mu_; LIFO keeps warm connections in use
};

class CurlTransport final : public HttpTransport {
 public:
  // Runs curl_global_init once per process.
  static Result<std::unique_ptr<CurlTransport>> Create(CurlTransportOptions options);

  Result<HttpResponse, TransportError> Send(const HttpRequest& request) override;
  TransportStats Stats() const;

  explicit CurlTransport(CurlTransportOptions options) : options_(std::move(options)) {}

 private:
  const CurlTransportOptions options_;
  EasyHandlePool pool_;
  std::atomic<uint64_t> transfers_{0};
  std::atomic<uint64_t> new_connections_{0};
  std::atomic<uint64_t> replays_blocked_{0};
};

}  // namespace wxpay
