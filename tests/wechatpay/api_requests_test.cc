#include "wechatpay/api_requests.h"

#include <gtest/gtest.h>

namespace wxpay {
namespace {

WechatPayConfig Direct() {
  WechatPayConfig c;
  c.mode = WechatPayConfig::Mode::kDirect;
  c.mchid = "1230000109";
  return c;
}

WechatPayConfig Partner(std::string sub = "1900000109") {
  WechatPayConfig c;
  c.mode = WechatPayConfig::Mode::kPartner;
  c.sp_mchid = "1230000109";
  c.sub_mchid = std::move(sub);
  return c;
}

constexpr const char* kNo = "1217752501201407033233368018";

TEST(ApiRequests, DirectQueryAndCloseMatchTheDerivedVectors) {
  ApiRequests r(Direct());
  ASSERT_TRUE(r.CheckConfig().ok());
  Result<ApiRequest> q = r.QueryByOutTradeNo(kNo, "");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->method, "GET");
  EXPECT_EQ(q->path_and_query,
            "/v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid=1230000109");
  EXPECT_EQ(q->body, "");

  Result<ApiRequest> id = r.QueryByTransactionId(kNo, "ignored-in-direct-mode");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->path_and_query,
            "/v3/pay/transactions/id/1217752501201407033233368018?mchid=1230000109");

  Result<ApiRequest> close = r.Close(kNo, "");
  ASSERT_TRUE(close.ok());
  EXPECT_EQ(close->method, "POST");
  EXPECT_EQ(close->path_and_query,
            "/v3/pay/transactions/out-trade-no/1217752501201407033233368018/close");
  EXPECT_EQ(close->body, R"({"mchid":"1230000109"})");
}

TEST(ApiRequests, PartnerQueryAndCloseMatchTheDerivedVectors) {
  ApiRequests r(Partner());
  ASSERT_TRUE(r.CheckConfig().ok());
  Result<ApiRequest> q = r.QueryByOutTradeNo(kNo, "");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->path_and_query,
            "/v3/pay/partner/transactions/out-trade-no/1217752501201407033233368018"
            "?sp_mchid=1230000109&sub_mchid=1900000109");
  Result<ApiRequest> id = r.QueryByTransactionId("4200000263201902167700134902", "");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->path_and_query,
            "/v3/pay/partner/transactions/id/4200000263201902167700134902"
            "?sp_mchid=1230000109&sub_mchid=1900000109");
  Result<ApiRequest> close = r.Close(kNo, "");
  ASSERT_TRUE(close.ok());
  EXPECT_EQ(close->path_and_query,
            "/v3/pay/partner/transactions/out-trade-no/1217752501201407033233368018/close");
  EXPECT_EQ(close->body, R"({"sp_mchid":"1230000109","sub_mchid":"1900000109"})");
}

TEST(ApiRequests, PerOrderSubMerchantOverridesTheConfiguredOne) {
  ApiRequests r(Partner());
  EXPECT_EQ(r.QueryByOutTradeNo(kNo, "1900000222")->path_and_query,
            "/v3/pay/partner/transactions/out-trade-no/1217752501201407033233368018"
            "?sp_mchid=1230000109&sub_mchid=1900000222");
  EXPECT_EQ(r.Close(kNo, "1900000222")->body,
            R"({"sp_mchid":"1230000109","sub_mchid":"1900000222"})");
}

TEST(ApiRequests, PartnerModeWithoutAnySubMerchantFails) {
  ApiRequests r(Partner(""));
  ASSERT_TRUE(r.CheckConfig().ok());
  Result<ApiRequest> q = r.QueryByOutTradeNo(kNo, "");
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.error().message.find("wechatpay.sub_mchid"), std::string::npos);
  EXPECT_FALSE(r.Close(kNo, "").ok());
  EXPECT_TRUE(r.Close(kNo, "1900000109").ok());
}

TEST(ApiRequests, MalformedSubMerchantFromTheDatabaseIsRefused) {
  ApiRequests r(Partner());
  for (const char* bad : {"19000&x=1", "1900 0109", "../1", "123456789012345678901234567890123"}) {
    EXPECT_FALSE(r.QueryByOutTradeNo(kNo, bad).ok()) << bad;
    EXPECT_FALSE(r.Close(kNo, bad).ok()) << bad;
  }
}

TEST(ApiRequests, PathSegmentsAreEscaped) {
  ApiRequests r(Direct());
  EXPECT_EQ(r.QueryByOutTradeNo("A1_b2-C3|d4*", "")->path_and_query,
            "/v3/pay/transactions/out-trade-no/A1_b2-C3%7Cd4%2A?mchid=1230000109");
  // Whatever a broken caller passes stays inside one path segment.
  EXPECT_EQ(r.QueryByOutTradeNo("../x?mchid=1#", "")->path_and_query,
            "/v3/pay/transactions/out-trade-no/%2E%2E%2Fx%3Fmchid%3D1%23?mchid=1230000109");
  EXPECT_EQ(r.Close("a/b", "")->path_and_query, "/v3/pay/transactions/out-trade-no/a%2Fb/close");
  EXPECT_FALSE(r.QueryByOutTradeNo("", "").ok());
  EXPECT_FALSE(r.QueryByOutTradeNo(std::string(65, '1'), "").ok());
}

TEST(ApiRequests, ConfigCheckRefusesMalformedMerchantIds) {
  WechatPayConfig direct = Direct();
  direct.mchid = "";
  EXPECT_FALSE(ApiRequests(direct).CheckConfig().ok());
  direct.mchid = "1900\"000001";
  EXPECT_FALSE(ApiRequests(direct).CheckConfig().ok());
  WechatPayConfig partner = Partner();
  partner.sp_mchid = "";
  EXPECT_FALSE(ApiRequests(partner).CheckConfig().ok());
  partner = Partner("19 00");
  EXPECT_FALSE(ApiRequests(partner).CheckConfig().ok());
}

}  // namespace
}  // namespace wxpay
