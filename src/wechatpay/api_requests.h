// The exact requests of the order APIs, direct merchant and service provider
// (partner): method, escaped path and query, and body bytes. What is built
// here is what is signed and what is sent.
#pragma once

#include <string>
#include <string_view>

#include "config/config.h"
#include "core/result.h"

namespace wxpay {

struct ApiRequest {
  std::string method;          // "GET" or "POST"
  std::string path_and_query;  // e.g. /v3/pay/transactions/out-trade-no/123?mchid=190
  std::string body;            // "" for GET
};

class ApiRequests {
 public:
  // Copies what it needs: mode, mchid, sp_mchid, default sub_mchid.
  explicit ApiRequests(const WechatPayConfig& config);

  // `sub_mchid` overrides the configured wechatpay.sub_mchid (partner mode;
  // ignored in direct mode). Fails for an empty or malformed id, or when
  // partner mode has no sub-merchant at all.
  Result<ApiRequest> QueryByOutTradeNo(std::string_view out_trade_no,
                                       std::string_view sub_mchid) const;
  Result<ApiRequest> QueryByTransactionId(std::string_view transaction_id,
                                          std::string_view sub_mchid) const;
  Result<ApiRequest> Close(std::string_view out_trade_no, std::string_view sub_mchid) const;

  // Checks the configured merchant ids (used once at start-up).
  Status CheckConfig() const;

 private:
  Result<std::string> MerchantQuery(std::string_view sub_mchid) const;
  Result<std::string> SubMerchant(std::string_view sub_mchid) const;
  std::string Prefix() const;

  bool partner_;
  std::string mchid_;
  std::string sp_mchid_;
  std::string sub_mchid_;
};

// Merchant ids are 1–32 characters [0-9A-Za-z] (in practice digits): they
// go into URLs and JSON bodies unescaped only because of this check.
bool IsValidMerchantId(std::string_view id);

}  // namespace wxpay
