// Invariant 2: a trade marks an order paid only if merchant, app id,
// out_trade_no and amount all match. (The signature was verified by the
// client before the Trade was built.)
#pragma once

#include <optional>
#include <string>

#include "core/decision.h"
#include "core/engine_options.h"
#include "core/order.h"
#include "core/trade.h"

namespace wxpay {

struct TradeMismatch {
  DeadLetterReason reason;  // the first failed check: mchid, appid, out_trade_no, amount
  std::string message;      // every failed check, with both values
};

// nullopt when the trade belongs to this order of this merchant:
//  - direct: trade.mchid == options.mchid;
//  - partner: trade.sp_mchid == options.sp_mchid and trade.sub_mchid == the
//    order's sub_mchid, or options.sub_mchid when the order has none;
//  - when options.appids is non-empty: trade.appid or trade.sub_appid is listed;
//  - trade.out_trade_no == order.out_trade_no;
//  - trade.amount_total is present and == order.amount_fen.
// An empty expected merchant id never matches.
std::optional<TradeMismatch> CheckTradeMatchesOrder(const Trade& trade, const ShopOrder& order,
                                                    const EngineOptions& options);

}  // namespace wxpay
