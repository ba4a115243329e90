// Shared helpers for the wechatpay tests: the known-answer vectors under
// tests/data/wechatpay-vectors/ (WXPAY_TEST_DATA overrides tests/data),
// deterministic nonces, and signing answers the way WeChat Pay does.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "wechatpay/http.h"
#include "wechatpay/nonce.h"
#include "wechatpay/openssl_handles.h"

namespace wxpay::testing {

// Path of a file under tests/data/wechatpay-vectors/.
std::string VectorPath(std::string_view name);
std::string ReadFileOrDie(const std::string& path);

// A string field of kat.json, e.g. Kat("D2", "signature"). Fails the test
// (and returns "") if it is missing.
std::string Kat(std::string_view vector, std::string_view field);

EvpPkeyPtr LoadPrivateKeyOrDie(std::string_view vector_file);

TimePoint FromUnixSeconds(int64_t seconds);

// Hands out the given nonces in order, then repeats the last one.
class FixedNonceSource final : public NonceSource {
 public:
  explicit FixedNonceSource(std::vector<std::string> nonces) : nonces_(std::move(nonces)) {}
  Result<std::string> Next() override;

 private:
  std::mutex mu_;
  std::vector<std::string> nonces_;
  size_t next_ = 0;
};

// Headers of an answer signed like WeChat Pay: Wechatpay-Timestamp/-Nonce/
// -Signature/-Serial over "ts\nnonce\nbody\n".
HttpHeaders SignAnswer(EVP_PKEY* key, std::string_view serial, int64_t timestamp,
                       std::string_view nonce, std::string_view body);

// The key=value pairs of an Authorization header (order-insensitive compare).
std::vector<std::pair<std::string, std::string>> AuthorizationParams(std::string_view header);

// A temporary directory removed (with its files) at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Write(std::string_view name, std::string_view content) const;

 private:
  std::string path_;
};

}  // namespace wxpay::testing
