#include "cli/wiring.h"

namespace wxpay {

EngineOptions EngineOptionsFromConfig(const Config& config) {
  const PolicyConfig& p = config.policy;
  const WechatPayConfig& w = config.wechatpay;
  EngineOptions o;
  o.order_ttl = p.order_ttl;
  o.userpaying_recheck = p.userpaying_recheck;
  o.not_found_action = p.not_found_action == PolicyConfig::NotFoundAction::kPark
                           ? NotFoundAction::kPark
                           : NotFoundAction::kCancel;
  o.not_found_breaker = p.not_found_breaker;
  o.refund_action = p.refund_action == PolicyConfig::RefundAction::kMarkPaid ? RefundAction::kMarkPaid
                                                                             : RefundAction::kPark;
  o.dry_run = p.dry_run;
  o.appids = w.appid;
  o.partner = w.mode == WechatPayConfig::Mode::kPartner;
  o.mchid = w.mchid;
  o.sp_mchid = w.sp_mchid;
  o.sub_mchid = w.sub_mchid;
  o.retry.initial = p.retry.initial;
  o.retry.max = p.retry.max;
  o.retry.multiplier = p.retry.multiplier;
  o.retry.max_attempts = p.retry.max_attempts;
  return o;
}

}  // namespace wxpay
