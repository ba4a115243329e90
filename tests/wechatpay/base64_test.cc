#include "wechatpay/base64.h"

#include <gtest/gtest.h>

namespace wxpay {
namespace {

TEST(Base64, RoundTripsEveryPaddingLength) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t n = 0; n <= all.size(); n += 37) {
    std::string part = all.substr(0, n);
    if (part.empty()) continue;
    std::optional<std::string> back = Base64DecodeStrict(Base64Encode(part));
    ASSERT_TRUE(back.has_value()) << n;
    EXPECT_EQ(*back, part);
  }
  EXPECT_EQ(Base64DecodeStrict("+/+/").value(), "\xfb\xff\xbf");
}

TEST(Base64, RefusesAnythingButCanonicalStandardBase64) {
  for (const char* bad : {"", "Zg", "Zg=", "Zg===", "Z===", "=Zg=", "Zg==Zg==", "Zm9v\n",
                          " Zm9v", "Zm-_", "Zh==", "Zm9=", "WECHATPAY/SIGNTEST/abc",
                          "WECHATPAY/SIGNTEST/AAAA", "not base64!"}) {
    EXPECT_FALSE(Base64DecodeStrict(bad).has_value()) << '"' << bad << '"';
  }
}

}  // namespace
}  // namespace wxpay
