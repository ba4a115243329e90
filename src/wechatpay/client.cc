#include "wechatpay/client.h"

#include <cctype>

#include "core/version.h"
#include "wechatpay/error_classifier.h"
#include "wechatpay/trade_json.h"

namespace wxpay {
namespace {

std::string DefaultUserAgent() { return std::string("wxpay-reconciler/") + kVersion + " (Linux)"; }

Status CheckSerial(std::string_view serial) {
  bool ok = !serial.empty() && serial.size() <= 64;
  for (char c : serial) ok = ok && std::isxdigit(static_cast<unsigned char>(c));
  if (!ok) {
    return Fail(
        "wechatpay.merchant_serial_no must be the serial of the merchant API certificate "
        "(hex, e.g. 408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB)");
  }
  return Status::Ok();
}

PayError MakeError(PayErrorKind kind, long status, std::string message, std::string request_id,
                   bool system_wide) {
  PayError e;
  e.kind = kind;
  e.http_status = static_cast<int>(status);
  e.message = std::move(message);
  e.request_id = std::move(request_id);
  e.system_wide = system_wide;
  return e;
}

std::string RequestIdOf(const HttpResponse& response) {
  std::optional<std::string_view> id = response.headers.Find("Request-ID");
  if (!id) return "";
  std::string out;
  for (char c : id->substr(0, 128)) {
    out += (c > 0x20 && c < 0x7f) ? c : '?';
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<WechatPayClient>> WechatPayClient::Create(const WechatPayConfig& config,
                                                                 const Clock& clock,
                                                                 Logger& logger) {
  return Create(config, clock, logger, ClientOptions{});
}

Result<std::unique_ptr<WechatPayClient>> WechatPayClient::Create(const WechatPayConfig& config,
                                                                 const Clock& clock, Logger& logger,
                                                                 ClientOptions options) {
  CurlTransportOptions transport;
  transport.ca_file = config.ca_file;
  transport.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.timeout);
  transport.max_idle = options.max_idle_connection;
  transport.user_agent =
      options.user_agent.empty() ? DefaultUserAgent() : options.user_agent;
  transport.allow_plain_http = config.allow_plain_http;
  Result<std::unique_ptr<CurlTransport>> curl = CurlTransport::Create(std::move(transport));
  if (!curl) return Fail("wechatpay: " + curl.error().message);
  std::shared_ptr<CurlTransport> shared(std::move(curl).value());
  CurlTransport* typed = shared.get();
  return Build(config, clock, logger, std::move(shared), typed, std::move(options));
}

Result<std::unique_ptr<WechatPayClient>> WechatPayClient::CreateWithTransport(
    const WechatPayConfig& config, const Clock& clock, Logger& logger,
    std::shared_ptr<HttpTransport> transport, ClientOptions options) {
  return Build(config, clock, logger, std::move(transport), nullptr, std::move(options));
}

Result<std::unique_ptr<WechatPayClient>> WechatPayClient::Build(
    const WechatPayConfig& config, const Clock& clock, Logger& logger,
    std::shared_ptr<HttpTransport> transport, CurlTransport* curl, ClientOptions options) {
  if (Status s = ApiRequests(config).CheckConfig(); !s) return Fail(s.message());
  if (Status s = CheckSerial(config.merchant_serial_no); !s) return Fail(s.message());
  if (config.timeout.count() <= 0) return Fail("wechatpay.timeout must be positive");
  if (config.max_requests_per_second < 1) {
    return Fail("wechatpay.max_requests_per_second must be at least 1");
  }
  std::vector<BaseUrl> urls;
  Result<BaseUrl> primary = ParseBaseUrl(config.base_url, config.allow_plain_http, "base_url");
  if (!primary) return primary.error();
  urls.push_back(std::move(primary).value());
  if (!config.backup_base_url.empty()) {
    Result<BaseUrl> backup =
        ParseBaseUrl(config.backup_base_url, config.allow_plain_http, "backup_base_url");
    if (!backup) return backup.error();
    urls.push_back(std::move(backup).value());
  }
  Result<std::unique_ptr<KeyStore>> keys = KeyStore::Load(config, clock, logger);
  if (!keys) return keys.error();
  if (!options.nonces) options.nonces = std::make_shared<RandomNonceSource>();
  return std::make_unique<WechatPayClient>(config, clock, logger, std::move(urls),
                                           std::move(keys).value(), std::move(transport), curl,
                                           std::move(options));
}

WechatPayClient::WechatPayClient(const WechatPayConfig& config, const Clock& clock, Logger& logger,
                                 std::vector<BaseUrl> base_urls, std::unique_ptr<KeyStore> keys,
                                 std::shared_ptr<HttpTransport> transport, CurlTransport* curl,
                                 ClientOptions options)
    : clock_(clock),
      logger_(logger),
      signing_mchid_(config.signing_mchid()),
      merchant_serial_no_(config.merchant_serial_no),
      base_urls_(std::move(base_urls)),
      requests_(config),
      keys_(std::move(keys)),
      transport_(std::move(transport)),
      curl_(curl),
      options_(std::move(options)),
      signer_(clock_, *options_.nonces),
      verifier_(clock_),
      rate_limiter_(config.max_requests_per_second) {}

TransportStats WechatPayClient::transport_stats() const {
  return curl_ != nullptr ? curl_->Stats() : TransportStats{};
}

Status WechatPayClient::ReloadKeys(const WechatPayConfig& config) { return keys_->Reload(config); }

void WechatPayClient::SetRateLimit(int per_second) {
  if (per_second < 1) {
    logger_.Warning("wechatpay.max_requests_per_second " + std::to_string(per_second) +
                    " ignored (must be at least 1); keeping " +
                    std::to_string(rate_limiter_.rate()));
    return;
  }
  rate_limiter_.SetRate(per_second);
}

Result<HttpResponse, PayError> WechatPayClient::Execute(const ApiRequest& api) {
  std::shared_ptr<const KeySet> keys = keys_->Snapshot();
  for (size_t i = 0; i < base_urls_.size(); ++i) {
    const BaseUrl& base = base_urls_[i];
    if (!rate_limiter_.Acquire(options_.max_rate_wait)) {
      return MakeError(PayErrorKind::kThrottled, 0,
                       "local rate limit wechatpay.max_requests_per_second=" +
                           std::to_string(rate_limiter_.rate()) + " left no slot within " +
                           std::to_string(options_.max_rate_wait.count()) +
                           " ms; nothing was sent",
                       "", true);
    }
    // A new signature for every attempt: a failover is a new request.
    Result<std::string> authorization = signer_.Authorize(
        {keys->merchant_private_key.get(), signing_mchid_, merchant_serial_no_}, api.method,
        api.path_and_query, api.body);
    if (!authorization) {
      return MakeError(PayErrorKind::kTransient, 0, authorization.error().message, "", true);
    }
    HttpRequest request;
    request.method = api.method;
    request.url = base.text + api.path_and_query;
    request.body = api.body;
    request.headers.emplace_back("Authorization", std::move(authorization).value());
    request.headers.emplace_back("Accept", "application/json");
    if (api.method == "POST") request.headers.emplace_back("Content-Type", "application/json");
    // Tells WeChat Pay which key we verify with (it then signs with it
    // during a platform-certificate -> public-key switch).
    if (!keys->public_key_id.empty()) {
      request.headers.emplace_back("Wechatpay-Serial", keys->public_key_id);
    }

    Result<HttpResponse, TransportError> sent = transport_->Send(request);
    if (sent) return CheckAnswer(*keys, std::move(sent).value());
    const TransportError& error = sent.error();
    if (error.kind == TransportError::Kind::kNotConnected && i + 1 < base_urls_.size()) {
      logger_.Warning("wechatpay: " + base.text + ": " + error.message +
                      "; nothing was sent, trying " + base_urls_[i + 1].text);
      continue;
    }
    return MakeError(PayErrorKind::kTransient, 0, base.text + ": " + error.message, "", true);
  }
  return MakeError(PayErrorKind::kTransient, 0, "no base URL configured", "", true);
}

Result<HttpResponse, PayError> WechatPayClient::CheckAnswer(const KeySet& keys,
                                                            HttpResponse response) const {
  bool success = response.status >= 200 && response.status < 300;
  if (success || HasSignatureHeaders(response.headers)) {
    if (Status verified = verifier_.Verify(keys, response.headers, response.body); !verified) {
      return MakeError(PayErrorKind::kBadSignature, response.status, verified.message(),
                       RequestIdOf(response), true);
    }
  } else if (!response.channel_trusted) {
    return MakeError(PayErrorKind::kBadSignature, response.status,
                     "unsigned error answer over a channel that is not verified HTTPS: not "
                     "trusted",
                     RequestIdOf(response), true);
  }
  return response;
}

PayError WechatPayClient::ErrorFromAnswer(const HttpResponse& response) {
  ErrorBody body = ParseErrorBody(response.body);
  ErrorClass cls = ClassifyErrorAnswer(response.status, body.code);
  std::string message = body.message;
  if (message.empty()) message = "unexpected answer (HTTP " + std::to_string(response.status) + ")";
  PayError e = MakeError(cls.kind, response.status, std::move(message), RequestIdOf(response),
                         cls.system_wide);
  e.code = std::move(body.code);
  return e;
}

Result<Trade, PayError> WechatPayClient::QueryWith(Result<ApiRequest> api) {
  if (!api) return MakeError(PayErrorKind::kPermanent, 0, api.error().message, "", false);
  Result<HttpResponse, PayError> answer = Execute(*api);
  if (!answer) return std::move(answer).error();
  if (answer->status != 200) return ErrorFromAnswer(*answer);
  Result<Trade> trade = ParseTradeJson(answer->body);
  if (!trade) {
    return MakeError(PayErrorKind::kTransient, 200,
                     "verified answer is unusable: " + trade.error().message,
                     RequestIdOf(*answer), false);
  }
  trade->request_id = RequestIdOf(*answer);
  return std::move(trade).value();
}

Result<Trade, PayError> WechatPayClient::Query(const PaymentRef& ref) {
  return QueryWith(requests_.QueryByOutTradeNo(ref.out_trade_no, ref.sub_mchid));
}

Result<Trade, PayError> WechatPayClient::QueryByTransactionId(std::string_view transaction_id,
                                                              std::string_view sub_mchid) {
  return QueryWith(requests_.QueryByTransactionId(transaction_id, sub_mchid));
}

Result<CloseAccepted, PayError> WechatPayClient::Close(const PaymentRef& ref) {
  Result<ApiRequest> api = requests_.Close(ref.out_trade_no, ref.sub_mchid);
  if (!api) return MakeError(PayErrorKind::kPermanent, 0, api.error().message, "", false);
  Result<HttpResponse, PayError> answer = Execute(*api);
  if (!answer) return std::move(answer).error();
  if (answer->status == 204 || answer->status == 200) {
    return CloseAccepted{RequestIdOf(*answer)};
  }
  return ErrorFromAnswer(*answer);
}

}  // namespace wxpay
