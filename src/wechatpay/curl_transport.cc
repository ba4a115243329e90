#include "wechatpay/curl_transport.h"

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "wechatpay/url.h"

namespace wxpay {
namespace {

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

constexpr size_t kMaxHeaderBytes = 64 * 1024;

// State of one transfer, shared with libcurl's callbacks.
struct Transfer {
  size_t max_body_bytes = 0;
  // Calls of the pre-request callback: 1 per request libcurl writes. A
  // second call means libcurl is about to resend the same signed request on
  // a new connection (a reused connection died before answering); refused.
  int prereq_calls = 0;
  bool body_too_large = false;
  bool headers_too_large = false;
  size_t header_bytes = 0;
  HttpHeaders headers;
  std::string body;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  if (t->body.size() + n > t->max_body_bytes) {
    t->body_too_large = true;
    return 0;  // makes libcurl fail the transfer with CURLE_WRITE_ERROR
  }
  t->body.append(data, n);
  return n;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' ||
                        s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  t->header_bytes += n;
  if (t->header_bytes > kMaxHeaderBytes) {
    t->headers_too_large = true;
    return 0;
  }
  std::string_view line(data, n);
  if (line.rfind("HTTP/", 0) == 0) {
    t->headers.Clear();  // a new response (after 1xx): only the final one counts
    return n;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    t->headers.Add(std::string(Trim(line.substr(0, colon))),
                   std::string(Trim(line.substr(colon + 1))));
  }
  return n;
}

int OnPrerequest(void* user, char*, char*, int, int) {
  auto* t = static_cast<Transfer*>(user);
  ++t->prereq_calls;
  return t->prereq_calls > 1 ? CURL_PREREQFUNC_ABORT : CURL_PREREQFUNC_OK;
}

bool IsTlsError(CURLcode rc) {
  switch (rc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
      return true;
    default:
      return false;
  }
}

// The one place a libcurl failure becomes a TransportError.
TransportError TranslateCurlError(CURLcode rc, const Transfer& t, const char* detail,
                                  const CurlTransportOptions& options) {
  std::string why = detail[0] != '\0' ? detail : curl_easy_strerror(rc);
  std::string ms = std::to_string(options.timeout.count()) + " ms";
  using Kind = TransportError::Kind;
  if (t.prereq_calls > 1) {
    return {Kind::kMaybeSent,
            "the connection died after the request was sent on it; libcurl would have resent "
            "the signed request, which is refused: the request may have reached WeChat Pay"};
  }
  if (t.body_too_large) {
    return {Kind::kMaybeSent, "the answer is larger than " +
                                  std::to_string(options.max_body_bytes) +
                                  " bytes: refused (the request reached WeChat Pay)"};
  }
  if (t.headers_too_large) {
    return {Kind::kMaybeSent, "the answer's headers exceed 64 KiB: refused"};
  }
  if (t.prereq_calls == 0) {
    switch (rc) {
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_RESOLVE_PROXY:
        return {Kind::kNotConnected, "cannot resolve the host (" + why + "); check DNS"};
      case CURLE_COULDNT_CONNECT:
        return {Kind::kNotConnected, "cannot connect (" + why + ")"};
      case CURLE_OPERATION_TIMEDOUT:
        return {Kind::kNotConnected, "no connection within " + ms + " (" + why + ")"};
      default:
        break;
    }
    if (IsTlsError(rc)) {
      return {Kind::kNotSent, "TLS failed (" + why +
                                  "); the server's certificate must verify against the system "
                                  "CA store or wechatpay.ca_file"};
    }
    return {Kind::kNotSent, "failed before sending (" + why + ")"};
  }
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return {Kind::kMaybeSent,
              "no answer within " + ms + ": the request may have reached WeChat Pay"};
    case CURLE_GOT_NOTHING:
      return {Kind::kMaybeSent,
              "the connection closed without an answer: the request may have reached WeChat Pay"};
    default:
      return {Kind::kMaybeSent,
              "the connection failed after sending (" + why +
                  "): the request may have reached WeChat Pay"};
  }
}

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

Status GlobalInit() {
  static std::once_flag once;
  static CURLcode rc = CURLE_OK;
  std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (rc != CURLE_OK) return Fail(std::string("curl_global_init failed: ") + curl_easy_strerror(rc));
  return Status::Ok();
}

}  // namespace

void CurlEasyDeleter::operator()(CURL* handle) const { curl_easy_cleanup(handle); }

Result<CurlEasyPtr> EasyHandlePool::Take() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      CurlEasyPtr handle = std::move(idle_.back());
      idle_.pop_back();
      return handle;
    }
  }
  CurlEasyPtr handle(curl_easy_init());
  if (!handle) return Fail("curl_easy_init failed (out of memory)");
  return handle;
}

void EasyHandlePool::Return(CurlEasyPtr handle) {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < kMaxIdleHandles) idle_.push_back(std::move(handle));
}

size_t EasyHandlePool::idle_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return idle_.size();
}

Result<std::unique_ptr<CurlTransport>> CurlTransport::Create(CurlTransportOptions options) {
  if (Status s = GlobalInit(); !s) return Fail(s.message());
  if (options.timeout.count() <= 0) return Fail("wechatpay.timeout must be positive");
  return std::make_unique<CurlTransport>(std::move(options));
}

TransportStats CurlTransport::Stats() const {
  return {transfers_.load(), new_connections_.load(), replays_blocked_.load()};
}

Result<HttpResponse, TransportError> CurlTransport::Send(const HttpRequest& request) {
  using Kind = TransportError::Kind;
  Result<BaseUrl> target = SplitUrl(request.url);
  if (!target) return TransportError{Kind::kNotSent, "URL refused: " + target.error().message};
  bool plain = target->scheme == "http";
  if (target->scheme != "https" && !(plain && options_.allow_plain_http && target->loopback)) {
    return TransportError{Kind::kNotSent,
                          "URL refused: only https://, or http:// to a loopback host when "
                          "wechatpay.allow_plain_http is set"};
  }
  if (request.method != "GET" && request.method != "POST") {
    return TransportError{Kind::kNotSent, "method " + request.method + " not supported"};
  }

  SlistPtr headers;
  auto add_header = [&](const std::string& line) {
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next == nullptr) return false;
    headers.release();
    headers.reset(next);
    return true;
  };
  for (const auto& [name, value] : request.headers) {
    if (HasLineBreak(name) || HasLineBreak(value) || name.empty()) {
      return TransportError{Kind::kNotSent, "header " + name + " refused: contains a line break"};
    }
    if (!add_header(name + ": " + value)) return TransportError{Kind::kNotSent, "out of memory"};
  }
  // A small body needs no 100-continue round trip.
  if (!add_header("Expect:")) return TransportError{Kind::kNotSent, "out of memory"};

  Result<CurlEasyPtr> taken = pool_.Take();
  if (!taken) return TransportError{Kind::kNotSent, taken.error().message};
  CurlEasyPtr handle = std::move(taken).value();
  CURL* h = handle.get();

  Transfer transfer;
  transfer.max_body_bytes = options_.max_body_bytes;
  char error_buffer[CURL_ERROR_SIZE] = {0};

  // Reset keeps the handle's live connections, TLS sessions and DNS cache.
  curl_easy_reset(h);
  bool ok = true;
  auto set = [&ok](CURLcode rc) { ok = ok && rc == CURLE_OK; };
  set(curl_easy_setopt(h, CURLOPT_URL, request.url.c_str()));
  set(curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, options_.allow_plain_http ? "http,https" : "https"));
  set(curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1)));
  set(curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L));
  set(curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L));
  set(curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L));
  set(curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L));
  set(curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L));
  if (!options_.ca_file.empty()) set(curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str()));
  set(curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.timeout.count())));
  set(curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count())));
  // libcurl reuses a connection while whole idle seconds <= MAXAGE_CONN, i.e.
  // up to MAXAGE_CONN + 0.999 s: one less gives "never after max_idle".
  set(curl_easy_setopt(h, CURLOPT_MAXAGE_CONN,
                       static_cast<long>(std::max<int64_t>(options_.max_idle.count() - 1, 0))));
  set(curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str()));
  set(curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get()));
  if (request.method == "POST") {
    set(curl_easy_setopt(h, CURLOPT_POST, 1L));
    set(curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body.size())));
    set(curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data()));
    // A close's body is a few dozen bytes; libcurl would allocate 64 KiB
    // for every POST. 16 KiB is its minimum.
    set(curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 16384L));
  } else {
    set(curl_easy_setopt(h, CURLOPT_HTTPGET, 1L));
  }
  set(curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody));
  set(curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer));
  set(curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader));
  set(curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer));
  set(curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, OnPrerequest));
  set(curl_easy_setopt(h, CURLOPT_PREREQDATA, &transfer));
  set(curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer));
  if (!ok) {
    pool_.Return(std::move(handle));
    return TransportError{Kind::kNotSent, "libcurl refused an option (libcurl older than 7.88?)"};
  }

  ++transfers_;
  CURLcode rc = curl_easy_perform(h);
  long connects = 0;
  if (curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects > 0) {
    new_connections_ += static_cast<uint64_t>(connects);
  }
  if (transfer.prereq_calls > 1) ++replays_blocked_;
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  // The handle must not keep pointers into this stack frame.
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  pool_.Return(std::move(handle));

  if (rc != CURLE_OK) return TranslateCurlError(rc, transfer, error_buffer, options_);

  HttpResponse response;
  response.status = status;
  response.headers = std::move(transfer.headers);
  response.body = std::move(transfer.body);
  // Peer and host verification are always on for https; plain http got here
  // only to an allowed loopback host.
  response.channel_trusted = true;
  return response;
}

}  // namespace wxpay
