#include "core/not_found_breaker.h"

namespace wxpay {

bool NotFoundBreaker::RecordNotFound(int threshold) {
  std::lock_guard<std::mutex> lock(mu_);
  if (open_) {
    ++consecutive_;
    return true;
  }
  ++consecutive_;
  if (threshold > 0 && consecutive_ >= threshold) {
    open_ = true;
    opened_threshold_ = threshold;
  }
  return false;
}

void NotFoundBreaker::RecordFound() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!open_) consecutive_ = 0;
}

void NotFoundBreaker::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  open_ = false;
  consecutive_ = 0;
  opened_threshold_ = 0;
}

bool NotFoundBreaker::open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

NotFoundBreakerStatus NotFoundBreaker::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return NotFoundBreakerStatus{open_, consecutive_, opened_threshold_};
}

}  // namespace wxpay
