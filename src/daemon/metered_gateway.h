// A PaymentGateway that measures the one it wraps: every call's latency and
// result go to the metrics (wechat_requests_total, the latency histogram,
// up{dependency="wechatpay"}) and the health line shows WeChat Pay down while
// its answers are failures not tied to one order (outages, auth, signatures).
// Thread-safe when the wrapped gateway is.
#pragma once

#include "core/ports.h"
#include "ops/health.h"
#include "ops/metrics.h"

namespace wxpay {

class MeteredGateway final : public PaymentGateway {
 public:
  // All borrowed; they must outlive this object.
  MeteredGateway(PaymentGateway& inner, Metrics& metrics, Health& health);

  Result<Trade, PayError> Query(const PaymentRef& ref) override;
  Result<CloseAccepted, PayError> Close(const PaymentRef& ref) override;

 private:
  void Record(std::string_view endpoint, const PayError* error, std::chrono::nanoseconds took);

  PaymentGateway& inner_;  // not owned
  Metrics& metrics_;       // not owned
  Health& health_;         // not owned
};

// What to tell the operator about a failing WeChat Pay call, for STATUS.
std::string WechatHint(const PayError& error);

}  // namespace wxpay
