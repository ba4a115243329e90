// Which order numbers are being worked on in this process right now, so the
// same order is never processed twice at once (the consumer's deliveries and
// the sweeper share one instance). A second delivery for a claimed order
// waits until the claim is released; the sweeper skips a claimed order.
//
// Thread-safe.
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace wxpay {

class OrderClaims {
 public:
  // True when the order was free and is now claimed by the caller.
  bool TryClaim(std::string_view order_no);
  // REQUIRES: the caller holds the claim.
  void Release(std::string_view order_no);
  bool IsClaimed(std::string_view order_no) const;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::set<std::string, std::less<>> claimed_;  // guarded by mu_
};

}  // namespace wxpay
