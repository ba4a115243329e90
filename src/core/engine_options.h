// The engine's policy, as a core value: the CLI builds it from Config (the
// core never includes config/). The (R) keys of SPEC §5 among these change on
// SIGHUP through Engine::SetOptions.
#pragma once

#include <string>
#include <vector>

#include "core/clock.h"
#include "core/retry.h"

namespace wxpay {

enum class NotFoundAction { kCancel, kPark };
enum class RefundAction { kPark, kMarkPaid };

struct EngineOptions {
  Millis order_ttl{0};                      // policy.order_ttl: never close/cancel before created_at + this
  Millis userpaying_recheck{60'000};        // policy.userpaying_recheck (R)
  NotFoundAction not_found_action = NotFoundAction::kCancel;  // (R)
  int not_found_breaker = 50;               // (R) <= 0 disables the breaker
  RefundAction refund_action = RefundAction::kPark;           // (R)
  bool dry_run = false;                     // decide and report; no close, no database write

  // Invariant 2: who must have been paid.
  std::vector<std::string> appids;          // (R) accepted appid/sub_appid; empty = not checked
  bool partner = false;                     // wechatpay.mode == partner
  std::string mchid;                        // direct mode
  std::string sp_mchid;                     // partner mode
  std::string sub_mchid;                    // partner mode, unless the order carries its own

  BackoffPolicy retry;                      // policy.retry (R)
};

}  // namespace wxpay
