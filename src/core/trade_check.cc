#include "core/trade_check.h"

#include <algorithm>
#include <vector>

#include "core/text.h"

namespace wxpay {
namespace {

std::string Quoted(std::string_view s) { return "\"" + PreviewBytes(s, 64) + "\""; }

bool Listed(const std::vector<std::string>& list, const std::string& value) {
  return !value.empty() && std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

std::optional<TradeMismatch> CheckTradeMatchesOrder(const Trade& trade, const ShopOrder& order,
                                                    const EngineOptions& options) {
  std::vector<std::pair<DeadLetterReason, std::string>> failed;
  if (!options.partner) {
    if (options.mchid.empty() || trade.mchid != options.mchid) {
      failed.emplace_back(DeadLetterReason::kMchidMismatch,
                          "mchid " + Quoted(trade.mchid) + ", expected " + Quoted(options.mchid));
    }
  } else {
    if (options.sp_mchid.empty() || trade.sp_mchid != options.sp_mchid) {
      failed.emplace_back(DeadLetterReason::kMchidMismatch, "sp_mchid " + Quoted(trade.sp_mchid) +
                                                                ", expected " + Quoted(options.sp_mchid));
    }
    const bool from_order = !order.sub_mchid.empty();
    const std::string& expected_sub = from_order ? order.sub_mchid : options.sub_mchid;
    if (expected_sub.empty() || trade.sub_mchid != expected_sub) {
      failed.emplace_back(DeadLetterReason::kMchidMismatch,
                          "sub_mchid " + Quoted(trade.sub_mchid) + ", expected " + Quoted(expected_sub) +
                              (from_order ? " (the order's sub_mchid column)" : " (wechatpay.sub_mchid)"));
    }
  }
  if (!options.appids.empty() && !Listed(options.appids, trade.appid) &&
      !Listed(options.appids, trade.sub_appid)) {
    std::string got = "appid " + Quoted(trade.appid);
    if (!trade.sub_appid.empty()) got += " sub_appid " + Quoted(trade.sub_appid);
    failed.emplace_back(DeadLetterReason::kAppidMismatch, got + " not in wechatpay.appid");
  }
  if (trade.out_trade_no != order.out_trade_no) {
    failed.emplace_back(DeadLetterReason::kOutTradeNoMismatch, "out_trade_no " + Quoted(trade.out_trade_no) +
                                                                   ", expected " + Quoted(order.out_trade_no));
  }
  if (!trade.amount_total) {
    failed.emplace_back(DeadLetterReason::kAmountMismatch,
                        "amount.total missing, expected " + std::to_string(order.amount_fen) + " fen");
  } else if (*trade.amount_total != order.amount_fen) {
    failed.emplace_back(DeadLetterReason::kAmountMismatch, "amount.total " + std::to_string(*trade.amount_total) +
                                                               " fen, expected " +
                                                               std::to_string(order.amount_fen) + " fen");
  }
  if (failed.empty()) return std::nullopt;
  std::string details;
  for (const auto& [reason, text] : failed) {
    if (!details.empty()) details += "; ";
    details += text;
  }
  return TradeMismatch{failed.front().first,
                       "WeChat Pay's " + PreviewBytes(trade.trade_state, 32) + " answer does not match the shop's order (" +
                           details + "): nothing changed"};
}

}  // namespace wxpay
