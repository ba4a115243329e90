#include "core/order.h"

namespace wxpay {

std::string_view ShopStateName(ShopState s) {
  switch (s) {
    case ShopState::kUnpaid: return "unpaid";
    case ShopState::kPaid: return "paid";
    case ShopState::kCancelled: return "cancelled";
    case ShopState::kOther: return "other";
  }
  return "other";
}

bool IsValidOrderNo(std::string_view s) {
  if (s.size() < 6 || s.size() > 32) return false;
  for (char c : s) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '_' || c == '-' || c == '|' || c == '*';
    if (!ok) return false;
  }
  return true;
}

}  // namespace wxpay
