#include "wechatpay/url.h"

#include <curl/curl.h>

#include <memory>

namespace wxpay {
namespace {

struct CurlUrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct CurlStringDeleter {
  void operator()(char* s) const { curl_free(s); }
};
using CurlUrlPtr = std::unique_ptr<CURLU, CurlUrlDeleter>;
using CurlString = std::unique_ptr<char, CurlStringDeleter>;

// Empty when the part is absent.
std::string Part(CURLU* u, CURLUPart part) {
  char* raw = nullptr;
  if (curl_url_get(u, part, &raw, 0) != CURLUE_OK) return "";
  CurlString owned(raw);
  return owned ? std::string(owned.get()) : std::string();
}

}  // namespace

Result<BaseUrl> SplitUrl(std::string_view url) {
  CurlUrlPtr u(curl_url());
  if (!u) return Fail("out of memory");
  std::string text(url);
  if (CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0); rc != CURLUE_OK) {
    return Fail(std::string("not a valid URL (") + curl_url_strerror(rc) + ")");
  }
  BaseUrl out;
  out.scheme = Part(u.get(), CURLUPART_SCHEME);
  out.host = Part(u.get(), CURLUPART_HOST);
  out.loopback = IsLoopbackHost(out.host);
  return out;
}

Result<BaseUrl> ParseBaseUrl(std::string_view url, bool allow_plain_http, std::string_view key) {
  std::string name = "wechatpay." + std::string(key);
  std::string text(url);
  while (!text.empty() && text.back() == '/') text.pop_back();
  if (text.find("://") == std::string::npos) {
    return Fail(name + " \"" + std::string(url) + "\" must start with https://");
  }
  CurlUrlPtr u(curl_url());
  if (!u) return Fail("out of memory");
  if (CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0); rc != CURLUE_OK) {
    return Fail(name + " \"" + std::string(url) + "\" is not a valid URL (" +
                curl_url_strerror(rc) + ")");
  }
  BaseUrl out;
  out.text = text;
  out.scheme = Part(u.get(), CURLUPART_SCHEME);
  out.host = Part(u.get(), CURLUPART_HOST);
  out.loopback = IsLoopbackHost(out.host);
  std::string path = Part(u.get(), CURLUPART_PATH);
  if (!Part(u.get(), CURLUPART_USER).empty() || !Part(u.get(), CURLUPART_QUERY).empty() ||
      !Part(u.get(), CURLUPART_FRAGMENT).empty() || (!path.empty() && path != "/")) {
    return Fail(name + " \"" + std::string(url) +
                "\" must be just scheme://host[:port] (e.g. https://api.mch.weixin.qq.com)");
  }
  if (out.scheme == "https") return out;
  if (out.scheme == "http") {
    if (!allow_plain_http) {
      return Fail(name + " \"" + std::string(url) +
                  "\" uses plain http://, which is refused unless wechatpay.allow_plain_http is "
                  "true (tests only); use https://");
    }
    if (!out.loopback) {
      return Fail(name + " \"" + std::string(url) +
                  "\": plain http:// is allowed only to a loopback host (127.0.0.1, ::1, "
                  "localhost)");
    }
    return out;
  }
  return Fail(name + " \"" + std::string(url) + "\" must start with https://");
}

std::string EscapeUrlComponent(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-';
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace wxpay
