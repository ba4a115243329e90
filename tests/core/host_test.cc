#include "core/host.h"

#include <gtest/gtest.h>

namespace wxpay {
namespace {

TEST(Host, LoopbackNamesAndAddresses) {
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.255.0.9"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("[::1]"));
}

TEST(Host, EverythingElseIsNotLoopback) {
  EXPECT_FALSE(IsLoopbackHost("api.mch.weixin.qq.com"));
  EXPECT_FALSE(IsLoopbackHost("127.0.0.1.example.com"));
  EXPECT_FALSE(IsLoopbackHost("128.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("127.0.0"));
  EXPECT_FALSE(IsLoopbackHost("127.0.0.256"));
  EXPECT_FALSE(IsLoopbackHost("127..0.1"));
  EXPECT_FALSE(IsLoopbackHost("localhost."));
  EXPECT_FALSE(IsLoopbackHost(""));
}

}  // namespace
}  // namespace wxpay
