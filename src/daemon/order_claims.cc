#include "daemon/order_claims.h"

namespace wxpay {

bool OrderClaims::TryClaim(std::string_view order_no) {
  std::lock_guard<std::mutex> lock(mu_);
  return claimed_.emplace(order_no).second;
}

void OrderClaims::Release(std::string_view order_no) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = claimed_.find(order_no);
  if (it != claimed_.end()) claimed_.erase(it);
}

bool OrderClaims::IsClaimed(std::string_view order_no) const {
  std::lock_guard<std::mutex> lock(mu_);
  return claimed_.find(order_no) != claimed_.end();
}

size_t OrderClaims::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return claimed_.size();
}

}  // namespace wxpay
