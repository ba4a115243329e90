// The shop's view of an order, as read from the shop's database.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace wxpay {

// The shop's status column, interpreted through database.orders.status_values.
enum class ShopState { kUnpaid, kPaid, kCancelled, kOther };

std::string_view ShopStateName(ShopState s);  // "unpaid", "paid", "cancelled", "other"

struct ShopOrder {
  std::string order_no;      // the shop's order number (the message body)
  std::string out_trade_no;  // what WeChat Pay knows it as; == order_no unless mapped
  ShopState state = ShopState::kOther;
  std::string raw_status;    // the status column's value as text, for logs
  int64_t amount_fen = 0;    // exact, converted from yuan when amount_unit is yuan
  TimePoint created_at;      // an instant (UTC), converted from the column's format and zone
  std::string sub_mchid;     // partner mode, when database.orders.sub_mchid maps a column
};

// SPEC §6: an order number is 6–32 characters of [0-9A-Za-z_\-|*].
bool IsValidOrderNo(std::string_view s);

}  // namespace wxpay
