#include "daemon/metered_gateway.h"

#include <chrono>

namespace wxpay {
namespace {

using SteadyClock = std::chrono::steady_clock;

// A failure that says WeChat Pay (or our access to it) is not working, rather
// than something about one order.
bool IsOutage(const PayError& e) {
  return e.system_wide || e.kind == PayErrorKind::kPermanent || e.kind == PayErrorKind::kBadSignature;
}

std::string ShortError(const PayError& e) {
  if (!e.code.empty()) return e.code;
  if (e.http_status != 0) return "HTTP " + std::to_string(e.http_status);
  return std::string(PayErrorKindName(e.kind));
}

}  // namespace

std::string WechatHint(const PayError& e) {
  if (e.code == "SIGN_ERROR" || e.http_status == 401) return "check clock, merchant_serial_no and private key";
  if (e.kind == PayErrorKind::kBadSignature) return "check clock and WeChat Pay public key/certificates";
  if (e.kind == PayErrorKind::kPermanent) return "check merchant ids and permissions";
  if (e.kind == PayErrorKind::kThrottled) return "rate limited: check max_requests_per_second";
  if (e.http_status == 0) return "check network to WeChat Pay";
  return "";
}

MeteredGateway::MeteredGateway(PaymentGateway& inner, Metrics& metrics, Health& health)
    : inner_(inner), metrics_(metrics), health_(health) {}

Result<Trade, PayError> MeteredGateway::Query(const PaymentRef& ref) {
  const auto start = SteadyClock::now();
  Result<Trade, PayError> answer = inner_.Query(ref);
  Record("query", answer.ok() ? nullptr : &answer.error(), SteadyClock::now() - start);
  return answer;
}

Result<CloseAccepted, PayError> MeteredGateway::Close(const PaymentRef& ref) {
  const auto start = SteadyClock::now();
  Result<CloseAccepted, PayError> answer = inner_.Close(ref);
  Record("close", answer.ok() ? nullptr : &answer.error(), SteadyClock::now() - start);
  return answer;
}

void MeteredGateway::Record(std::string_view endpoint, const PayError* error, std::chrono::nanoseconds took) {
  metrics_.ObserveWechatRequest(endpoint, error ? PayErrorKindName(error->kind) : std::string_view("ok"), took);
  if (error != nullptr && IsOutage(*error)) {
    metrics_.SetUp(Dependency::kWechatpay, false);
    health_.DependencyDown(Dependency::kWechatpay, ShortError(*error), WechatHint(*error));
    return;
  }
  metrics_.SetUp(Dependency::kWechatpay, true);
  health_.DependencyUp(Dependency::kWechatpay);
}

}  // namespace wxpay
