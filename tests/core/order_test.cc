#include "core/order.h"

#include <gtest/gtest.h>

namespace wxpay {
namespace {

TEST(OrderNo, AcceptsWeChatOutTradeNoAlphabet) {
  EXPECT_TRUE(IsValidOrderNo("123456"));
  EXPECT_TRUE(IsValidOrderNo("A1_b2-C3|d4*"));
  EXPECT_TRUE(IsValidOrderNo(std::string(32, '9')));
}

TEST(OrderNo, RejectsWrongLengthOrCharacters) {
  EXPECT_FALSE(IsValidOrderNo(""));
  EXPECT_FALSE(IsValidOrderNo("12345"));
  EXPECT_FALSE(IsValidOrderNo(std::string(33, '9')));
  EXPECT_FALSE(IsValidOrderNo("123456 "));
  EXPECT_FALSE(IsValidOrderNo("1234/56"));
  EXPECT_FALSE(IsValidOrderNo("12345%2f"));
  EXPECT_FALSE(IsValidOrderNo("订单123456"));
  EXPECT_FALSE(IsValidOrderNo(std::string("1234\0" "56", 7)));
}

}  // namespace
}  // namespace wxpay
