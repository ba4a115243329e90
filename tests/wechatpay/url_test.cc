#include "wechatpay/url.h"

#include <gtest/gtest.h>

namespace wxpay {
namespace {

TEST(BaseUrl, AcceptsHttpsHostsWithOptionalPortAndSlash) {
  Result<BaseUrl> u = ParseBaseUrl("https://api.mch.weixin.qq.com/", false, "base_url");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->text, "https://api.mch.weixin.qq.com");
  EXPECT_EQ(u->host, "api.mch.weixin.qq.com");
  EXPECT_FALSE(u->loopback);
  Result<BaseUrl> local = ParseBaseUrl("https://127.0.0.1:8443", false, "base_url");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->text, "https://127.0.0.1:8443");
  EXPECT_TRUE(local->loopback);
}

TEST(BaseUrl, PlainHttpOnlyToLoopbackWhenAllowed) {
  Result<BaseUrl> refused = ParseBaseUrl("http://127.0.0.1:8080", false, "base_url");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("allow_plain_http"), std::string::npos);
  EXPECT_TRUE(ParseBaseUrl("http://127.0.0.1:8080", true, "base_url").ok());
  EXPECT_TRUE(ParseBaseUrl("http://localhost:8080", true, "base_url").ok());
  EXPECT_TRUE(ParseBaseUrl("http://[::1]:8080", true, "base_url").ok());
  Result<BaseUrl> remote = ParseBaseUrl("http://api.mch.weixin.qq.com", true, "backup_base_url");
  ASSERT_FALSE(remote.ok());
  EXPECT_NE(remote.error().message.find("wechatpay.backup_base_url"), std::string::npos);
  EXPECT_NE(remote.error().message.find("loopback"), std::string::npos);
  EXPECT_FALSE(ParseBaseUrl("http://127.0.0.1.evil.com", true, "base_url").ok());
}

TEST(BaseUrl, RefusesAnythingButSchemeHostPort) {
  for (const char* bad : {"", "api.mch.weixin.qq.com", "ftp://api.mch.weixin.qq.com",
                          "https://api.mch.weixin.qq.com/v3", "https://u:p@api.mch.weixin.qq.com",
                          "https://api.mch.weixin.qq.com?x=1", "https://api.mch.weixin.qq.com#f",
                          "https://"}) {
    EXPECT_FALSE(ParseBaseUrl(bad, true, "base_url").ok()) << bad;
  }
}

TEST(Loopback, RecognisesOnlyLoopbackHosts) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("[::1]"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("127.0.0.1.nip.io"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("localhost.example"));
}

TEST(Escape, KeepsOnlyLettersDigitsUnderscoreAndHyphen) {
  EXPECT_EQ(EscapeUrlComponent("AZaz09_-"), "AZaz09_-");
  EXPECT_EQ(EscapeUrlComponent("a b/c?d&e=f#g.h*i|j%"), "a%20b%2Fc%3Fd%26e%3Df%23g%2Eh%2Ai%7Cj%25");
  EXPECT_EQ(EscapeUrlComponent("订"), "%E8%AE%A2");
  EXPECT_EQ(EscapeUrlComponent(std::string("\0\n", 2)), "%00%0A");
}

}  // namespace
}  // namespace wxpay
