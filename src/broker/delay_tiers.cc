#include "broker/delay_tiers.h"

#include <algorithm>
#include <array>

namespace wxpay {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::array<Millis, 16> kLadder = {
    seconds(1), seconds(5), seconds(10), seconds(30), minutes(1), minutes(2), minutes(5), minutes(10),
    minutes(15), minutes(30), hours(1), hours(2), hours(3), hours(6), hours(12), hours(24),
};

}  // namespace

DelayTiers ComputeDelayTiers(const RetryPolicy& retry, Millis userpaying_recheck, Millis order_ttl) {
  const std::array<Millis, 4> configured = {retry.initial, retry.max, userpaying_recheck, order_ttl};
  Millis longest{0};
  for (Millis d : configured) longest = std::max(longest, d);

  DelayTiers tiers;
  for (Millis rung : kLadder) {
    tiers.push_back(rung);
    if (rung >= longest) break;
  }
  for (Millis d : configured) {
    if (d > Millis{0}) tiers.push_back(d);
  }
  std::sort(tiers.begin(), tiers.end());
  tiers.erase(std::unique(tiers.begin(), tiers.end()), tiers.end());
  return tiers;
}

DelayTiers ComputeDelayTiers(const Config& config) {
  return ComputeDelayTiers(config.policy.retry, config.policy.userpaying_recheck, config.policy.order_ttl);
}

Millis TierFor(const DelayTiers& tiers, Millis delay) {
  const auto it = std::lower_bound(tiers.begin(), tiers.end(), delay);
  return it == tiers.end() ? tiers.back() : *it;
}

std::string RetryQueueName(const std::string& queue, Millis tier) {
  return queue + ".retry." + std::to_string(tier.count());
}

}  // namespace wxpay
