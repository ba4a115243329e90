// The three outside systems the daemon needs, named the same way in STATUS=,
// the log and the metrics label `dependency`.
#pragma once

#include <array>
#include <string_view>

namespace wxpay {

enum class Dependency { kRabbitmq, kDatabase, kWechatpay };

inline constexpr std::array<Dependency, 3> kAllDependencies = {
    Dependency::kRabbitmq, Dependency::kDatabase, Dependency::kWechatpay};

constexpr std::string_view DependencyName(Dependency d) {
  switch (d) {
    case Dependency::kRabbitmq: return "rabbitmq";
    case Dependency::kDatabase: return "database";
    case Dependency::kWechatpay: return "wechatpay";
  }
  return "unknown";
}

}  // namespace wxpay
