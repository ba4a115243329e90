#include "wechatpay/api_requests.h"

#include "wechatpay/url.h"

namespace wxpay {
namespace {

constexpr size_t kMaxIdLength = 32;
// Ids from the shop (out_trade_no, transaction_id) are validated by the
// caller; this bound only keeps a broken caller from building huge URLs.
constexpr size_t kMaxTradeIdLength = 64;

Status CheckTradeId(std::string_view id, std::string_view what) {
  if (id.empty() || id.size() > kMaxTradeIdLength) {
    return Fail(std::string(what) + " must be 1-" + std::to_string(kMaxTradeIdLength) +
                " characters, got " + std::to_string(id.size()));
  }
  return Status::Ok();
}

}  // namespace

bool IsValidMerchantId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (char c : id) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (!ok) return false;
  }
  return true;
}

ApiRequests::ApiRequests(const WechatPayConfig& config)
    : partner_(config.mode == WechatPayConfig::Mode::kPartner),
      mchid_(config.mchid),
      sp_mchid_(config.sp_mchid),
      sub_mchid_(config.sub_mchid) {}

Status ApiRequests::CheckConfig() const {
  if (!partner_) {
    if (!IsValidMerchantId(mchid_)) {
      return Fail("wechatpay.mchid \"" + mchid_ +
                  "\" must be the merchant id (digits, e.g. 1900000001)");
    }
    return Status::Ok();
  }
  if (!IsValidMerchantId(sp_mchid_)) {
    return Fail("wechatpay.sp_mchid \"" + sp_mchid_ +
                "\" must be the service provider's merchant id (digits) in partner mode");
  }
  if (!sub_mchid_.empty() && !IsValidMerchantId(sub_mchid_)) {
    return Fail("wechatpay.sub_mchid \"" + sub_mchid_ + "\" must be a merchant id (digits)");
  }
  return Status::Ok();
}

Result<std::string> ApiRequests::SubMerchant(std::string_view sub_mchid) const {
  std::string sub = sub_mchid.empty() ? sub_mchid_ : std::string(sub_mchid);
  if (sub.empty()) {
    return Fail(
        "partner mode needs a sub-merchant: set wechatpay.sub_mchid or map "
        "database.orders.sub_mchid");
  }
  if (!IsValidMerchantId(sub)) {
    return Fail("sub_mchid \"" + EscapeUrlComponent(sub) + "\" is not a merchant id (digits)");
  }
  return sub;
}

Result<std::string> ApiRequests::MerchantQuery(std::string_view sub_mchid) const {
  if (!partner_) return "?mchid=" + EscapeUrlComponent(mchid_);
  Result<std::string> sub = SubMerchant(sub_mchid);
  if (!sub) return sub.error();
  return "?sp_mchid=" + EscapeUrlComponent(sp_mchid_) + "&sub_mchid=" + EscapeUrlComponent(*sub);
}

std::string ApiRequests::Prefix() const {
  return partner_ ? "/v3/pay/partner/transactions" : "/v3/pay/transactions";
}

Result<ApiRequest> ApiRequests::QueryByOutTradeNo(std::string_view out_trade_no,
                                                  std::string_view sub_mchid) const {
  if (Status s = CheckTradeId(out_trade_no, "out_trade_no"); !s) return Fail(s.message());
  Result<std::string> query = MerchantQuery(sub_mchid);
  if (!query) return query.error();
  return ApiRequest{"GET", Prefix() + "/out-trade-no/" + EscapeUrlComponent(out_trade_no) + *query,
                    ""};
}

Result<ApiRequest> ApiRequests::QueryByTransactionId(std::string_view transaction_id,
                                                     std::string_view sub_mchid) const {
  if (Status s = CheckTradeId(transaction_id, "transaction_id"); !s) return Fail(s.message());
  Result<std::string> query = MerchantQuery(sub_mchid);
  if (!query) return query.error();
  return ApiRequest{"GET", Prefix() + "/id/" + EscapeUrlComponent(transaction_id) + *query, ""};
}

Result<ApiRequest> ApiRequests::Close(std::string_view out_trade_no,
                                      std::string_view sub_mchid) const {
  if (Status s = CheckTradeId(out_trade_no, "out_trade_no"); !s) return Fail(s.message());
  std::string body;
  if (partner_) {
    Result<std::string> sub = SubMerchant(sub_mchid);
    if (!sub) return sub.error();
    body = "{\"sp_mchid\":\"" + sp_mchid_ + "\",\"sub_mchid\":\"" + *sub + "\"}";
  } else {
    body = "{\"mchid\":\"" + mchid_ + "\"}";
  }
  return ApiRequest{"POST", Prefix() + "/out-trade-no/" + EscapeUrlComponent(out_trade_no) + "/close",
                    std::move(body)};
}

}  // namespace wxpay
