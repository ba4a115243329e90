// The order the store's unit tests (mapping_test, server_store_test) cancel
// or pay, and WeChat Pay's answer that it is paid.
#pragma once

#include <string>

#include "core/order.h"
#include "core/trade.h"

namespace wxpay {

// Unpaid, 1230 fen, out_trade_no = order number.
inline ShopOrder UnpaidOrderOf1230Fen(const std::string& order_no) {
  ShopOrder o;
  o.order_no = order_no;
  o.out_trade_no = order_no;
  o.state = ShopState::kUnpaid;
  o.amount_fen = 1230;
  return o;
}

// SUCCESS for 1230 fen: transaction 4200000001, paid 2024-03-01 10:34:56
// Shanghai time; the raw answer is "{}".
inline Trade SuccessOf1230Fen() {
  Trade t;
  t.trade_state = "SUCCESS";
  t.state = TradeState::kSuccess;
  t.amount_total = 1230;
  t.transaction_id = "4200000001";
  t.success_time = "2024-03-01T10:34:56+08:00";
  t.raw_json = "{}";
  return t;
}

}  // namespace wxpay
