#include "core/trade.h"

namespace wxpay {

TradeState ParseTradeState(std::string_view s) {
  if (s == "SUCCESS") return TradeState::kSuccess;
  if (s == "REFUND") return TradeState::kRefund;
  if (s == "NOTPAY") return TradeState::kNotPay;
  if (s == "CLOSED") return TradeState::kClosed;
  if (s == "REVOKED") return TradeState::kRevoked;
  if (s == "USERPAYING") return TradeState::kUserPaying;
  if (s == "PAYERROR") return TradeState::kPayError;
  return TradeState::kUnknown;
}

std::string_view PayErrorKindName(PayErrorKind k) {
  switch (k) {
    case PayErrorKind::kNotFound: return "not_found";
    case PayErrorKind::kClosed: return "closed";
    case PayErrorKind::kPaid: return "paid";
    case PayErrorKind::kUserPaying: return "user_paying";
    case PayErrorKind::kThrottled: return "throttled";
    case PayErrorKind::kTransient: return "transient";
    case PayErrorKind::kPermanent: return "permanent";
    case PayErrorKind::kBadSignature: return "bad_signature";
  }
  return "transient";
}

std::string PayError::Describe() const {
  std::string out;
  if (http_status != 0) out += "HTTP " + std::to_string(http_status);
  if (!code.empty()) out += (out.empty() ? "" : " ") + code;
  if (!message.empty()) out += (out.empty() ? "" : " ") + message;
  if (!request_id.empty()) out += " (Request-ID " + request_id + ")";
  if (out.empty()) out = std::string(PayErrorKindName(kind));
  return out;
}

}  // namespace wxpay
