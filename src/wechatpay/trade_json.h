// The body of a verified query answer -> Trade, and the `query` command's
// rendering of it.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "core/trade.h"

namespace wxpay {

// Fails (saying what is wrong) for invalid JSON, a non-object, a missing or
// non-string trade_state, or a field of the wrong type. raw_json = body;
// request_id is left for the caller.
Result<Trade> ParseTradeJson(std::string_view body);

// WeChat Pay's fields as received plus "verified": true, as one line.
std::string QueryAnswerJson(const Trade& trade);

// {"out_trade_no": ..., "exists": false, "code": "ORDER_NOT_EXIST"}
std::string QueryNotFoundJson(std::string_view out_trade_no);

}  // namespace wxpay
