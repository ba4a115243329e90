// The WeChat Pay API v3 client: query and close orders (direct merchant or
// service provider), every request signed anew, every success answer
// verified, every failure classified (SPEC §2 invariants 2, 6, 7, 8; §3).
// Thread-safe: one client serves every worker.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/ports.h"
#include "core/result.h"
#include "ops/log.h"
#include "wechatpay/api_requests.h"
#include "wechatpay/curl_transport.h"
#include "wechatpay/http.h"
#include "wechatpay/key_store.h"
#include "wechatpay/nonce.h"
#include "wechatpay/rate_limiter.h"
#include "wechatpay/request_signer.h"
#include "wechatpay/response_verifier.h"
#include "wechatpay/url.h"

namespace wxpay {

struct ClientOptions {
  std::shared_ptr<NonceSource> nonces;  // null: RandomNonceSource (CSPRNG)
  // Keep-alive connections idle longer than this are not reused (WeChat Pay
  // drops them at ~8 s). Tests shorten it.
  std::chrono::seconds max_idle_connection{7};
  // How long a request may wait for wechatpay.max_requests_per_second before
  // it fails as kThrottled with nothing sent.
  std::chrono::milliseconds max_rate_wait{10000};
  std::string user_agent;  // "" = "wxpay-reconciler/VERSION (Linux)"
};

class WechatPayClient final : public PaymentGateway {
 public:
  // Fails with a message saying what to fix: unreadable or wrong key files,
  // no verification key, bad base URLs, http:// without allow_plain_http,
  // malformed merchant ids or serial. The clock judges the freshness of
  // WeChat Pay's signatures and timestamps requests.
  static Result<std::unique_ptr<WechatPayClient>> Create(const WechatPayConfig& config,
                                                         const Clock& clock, Logger& logger);
  static Result<std::unique_ptr<WechatPayClient>> Create(const WechatPayConfig& config,
                                                         const Clock& clock, Logger& logger,
                                                         ClientOptions options);
  // Same, over another transport (tests script one).
  static Result<std::unique_ptr<WechatPayClient>> CreateWithTransport(
      const WechatPayConfig& config, const Clock& clock, Logger& logger,
      std::shared_ptr<HttpTransport> transport, ClientOptions options);

  // GET .../out-trade-no/{no}: a verified trade or a classified error.
  Result<Trade, PayError> Query(const PaymentRef& ref) override;
  // POST .../out-trade-no/{no}/close: a verified 204, or a classified error.
  Result<CloseAccepted, PayError> Close(const PaymentRef& ref) override;
  // GET .../id/{transaction_id}; sub_mchid as in PaymentRef (partner mode).
  Result<Trade, PayError> QueryByTransactionId(std::string_view transaction_id,
                                               std::string_view sub_mchid = {});

  // SIGHUP: re-reads the key files; bad files keep the old keys (and say why).
  Status ReloadKeys(const WechatPayConfig& config);
  // SIGHUP: wechatpay.max_requests_per_second. Values < 1 are ignored with a warning.
  void SetRateLimit(int per_second);

  // Connection figures of the libcurl transport (zeros over another transport).
  TransportStats transport_stats() const;

  WechatPayClient(const WechatPayConfig& config, const Clock& clock, Logger& logger,
                  std::vector<BaseUrl> base_urls, std::unique_ptr<KeyStore> keys,
                  std::shared_ptr<HttpTransport> transport, CurlTransport* curl,
                  ClientOptions options);  // use Create()

 private:
  static Result<std::unique_ptr<WechatPayClient>> Build(const WechatPayConfig& config,
                                                        const Clock& clock, Logger& logger,
                                                        std::shared_ptr<HttpTransport> transport,
                                                        CurlTransport* curl,
                                                        ClientOptions options);
  // Signs (fresh timestamp and nonce per attempt), sends, fails over to the
  // backup URL only when nothing was sent, and verifies the answer.
  Result<HttpResponse, PayError> Execute(const ApiRequest& api);
  Result<HttpResponse, PayError> CheckAnswer(const KeySet& keys, HttpResponse response) const;
  static PayError ErrorFromAnswer(const HttpResponse& response);
  Result<Trade, PayError> QueryWith(Result<ApiRequest> api);

  const Clock& clock_;  // not owned
  Logger& logger_;      // not owned
  const std::string signing_mchid_;
  const std::string merchant_serial_no_;
  const std::vector<BaseUrl> base_urls_;  // primary, then backup (if any)
  const ApiRequests requests_;
  const std::unique_ptr<KeyStore> keys_;
  const std::shared_ptr<HttpTransport> transport_;
  CurlTransport* const curl_;  // not owned: transport_ when it is libcurl, else null
  const ClientOptions options_;
  const RequestSigner signer_;
  const ResponseVerifier verifier_;
  RateLimiter rate_limiter_;
};

}  // namespace wxpay
