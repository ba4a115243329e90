#include "core/message.h"

#include <gtest/gtest.h>

#include <string>

namespace wxpay {
namespace {

const MessageOptions kText{MessageFormat::kText, "orderNo"};
const MessageOptions kJson{MessageFormat::kJson, "orderNo"};

std::string Ok(std::string_view body, const MessageOptions& o) {
  auto r = ParseOrderMessage(body, o);
  EXPECT_TRUE(r.ok()) << "body " << body << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : "";
}

std::string Rejected(std::string_view body, const MessageOptions& o) {
  auto r = ParseOrderMessage(body, o);
  EXPECT_FALSE(r.ok()) << "body accepted: " << body;
  return r.ok() ? "" : r.error().message;
}

bool Has(const std::string& s, std::string_view needle) { return s.find(needle) != std::string::npos; }

// ---- text

TEST(TextMessage, TheBodyIsTheOrderNumber) {
  EXPECT_EQ(Ok("202405010001", kText), "202405010001");
  EXPECT_EQ(Ok("A1_b2-C3|d4*", kText), "A1_b2-C3|d4*");
  EXPECT_EQ(Ok(std::string(32, '7'), kText), std::string(32, '7'));
  EXPECT_EQ(Ok("123456", kText), "123456");
}

TEST(TextMessage, RejectsEmptyShortLongAndForeignCharacters) {
  EXPECT_TRUE(Has(Rejected("", kText), "empty"));
  EXPECT_TRUE(Has(Rejected("12345", kText), "5 bytes"));
  EXPECT_TRUE(Has(Rejected(std::string(33, '7'), kText), "33 bytes"));
  EXPECT_TRUE(Has(Rejected("订单202405010001", kText), "not an order number"));
  Rejected("2024/05/01", kText);
  Rejected("2024%2F0501", kText);
  Rejected(std::string("123456\0", 7), kText);
}

TEST(TextMessage, IsStrictAboutWhitespace) {
  EXPECT_TRUE(Has(Rejected("202405010001\n", kText), "without whitespace"));
  Rejected(" 202405010001", kText);
  Rejected("202405010001\r\n", kText);
}

TEST(TextMessage, HintsAtJsonFormat) {
  EXPECT_TRUE(Has(Rejected("{\"orderNo\":\"202405010001\"}", kText), "format: json"));
  EXPECT_TRUE(Has(Rejected("\"202405010001\"", kText), "format: json"));
}

TEST(TextMessage, PreviewIsEscapedAndBounded) {
  const std::string e = Rejected(std::string("ab\"\x01") + std::string(100, 'x'), kText);
  EXPECT_TRUE(Has(e, "ab\\x22\\x01xxx"));
  EXPECT_TRUE(Has(e, "..."));
  EXPECT_LT(e.size(), 250u);
}

TEST(Message, RejectsJavaSerializedBodiesInBothFormats) {
  const std::string java("\xAC\xED\x00\x05t\x00\x0c" "202405010001", 19);
  EXPECT_TRUE(Has(Rejected(java, kText), "Java-serialized"));
  EXPECT_TRUE(Has(Rejected(java, kJson), "Java-serialized"));
}

TEST(Message, RejectsHugeBodies) {
  EXPECT_TRUE(Has(Rejected(std::string(kMaxMessageBodyBytes + 1, ' '), kJson), "too large"));
}

// ---- json

TEST(JsonMessage, StringField) {
  EXPECT_EQ(Ok("{\"orderNo\":\"202405010001\"}", kJson), "202405010001");
  EXPECT_EQ(Ok(" \r\n\t{ \"a\" : [1, {\"b\": null}], \"orderNo\" : \"A1_b2-C3|d4*\" , \"c\": -1.5e3 } \n", kJson),
            "A1_b2-C3|d4*");
  EXPECT_EQ(Ok("{\"orderNo\":\"\\u0032\\u00302405010001\"}", kJson), "202405010001");
  EXPECT_EQ(Ok("{\"order\\u004eo\":\"202405010001\"}", kJson), "202405010001");  // escaped key
}

TEST(JsonMessage, CustomFieldName) {
  const MessageOptions o{MessageFormat::kJson, "order_no"};
  EXPECT_EQ(Ok("{\"orderNo\":\"x\",\"order_no\":\"202405010001\"}", o), "202405010001");
  EXPECT_TRUE(Has(Rejected("{\"orderNo\":\"202405010001\"}", o), "no JSON field \"order_no\""));
}

TEST(JsonMessage, IntegerUpToTwoToTheFiftyThreeMinusOne) {
  EXPECT_EQ(Ok("{\"orderNo\":9007199254740991}", kJson), "9007199254740991");
  EXPECT_EQ(Ok("{\"orderNo\":202405010001}", kJson), "202405010001");
  EXPECT_EQ(Ok("{\"orderNo\":100000}", kJson), "100000");
}

TEST(JsonMessage, RejectsUnsafeOrNonIntegerNumbers) {
  EXPECT_TRUE(Has(Rejected("{\"orderNo\":9007199254740992}", kJson), "2^53-1"));
  EXPECT_TRUE(Has(Rejected("{\"orderNo\":12345678901234567890}", kJson), "2^53-1"));
  EXPECT_TRUE(Has(Rejected("{\"orderNo\":-202405010001}", kJson), "negative"));
  EXPECT_TRUE(Has(Rejected("{\"orderNo\":202405010001.0}", kJson), "not an integer"));
  EXPECT_TRUE(Has(Rejected("{\"orderNo\":2.02405010001e11}", kJson), "not an integer"));
  EXPECT_TRUE(Has(Rejected("{\"orderNo\":2024E5}", kJson), "not an integer"));
  EXPECT_TRUE(Has(Rejected("{\"orderNo\":12345}", kJson), "not an order number"));
  Rejected("{\"orderNo\":0}", kJson);
}

TEST(JsonMessage, RejectsWrongKindsDuplicatesAndMissingField) {
  EXPECT_TRUE(Has(Rejected("{\"orderNo\":{\"id\":\"202405010001\"}}", kJson), "not an object"));
  EXPECT_TRUE(Has(Rejected("{\"orderNo\":[\"202405010001\"]}", kJson), "not an array"));
  EXPECT_TRUE(Has(Rejected("{\"orderNo\":true}", kJson), "not a boolean"));
  EXPECT_TRUE(Has(Rejected("{\"orderNo\":null}", kJson), "not null"));
  EXPECT_TRUE(Has(Rejected("{\"orderNo\":\"202405010001\",\"orderNo\":\"202405010002\"}", kJson), "2 times"));
  EXPECT_TRUE(Has(Rejected("{\"OrderNo\":\"202405010001\"}", kJson), "no JSON field"));
  EXPECT_TRUE(Has(Rejected("{\"data\":{\"orderNo\":\"202405010001\"}}", kJson), "no JSON field"));
  EXPECT_TRUE(Has(Rejected("{\"orderNo\":\"2024 0501\"}", kJson), "not an order number"));
  EXPECT_TRUE(Has(Rejected("{\"orderNo\":\"订单202405010001\"}", kJson), "not an order number"));
  EXPECT_TRUE(Has(Rejected("{\"orderNo\":\"" + std::string(33, '1') + "\"}", kJson), "33 bytes"));
}

TEST(JsonMessage, RejectsMalformedJson) {
  for (const char* body : {
           "\"202405010001\"",                        // not an object
           "202405010001",                            // not an object
           "[\"202405010001\"]",                      // not an object
           "{\"orderNo\":\"202405010001\"",           // unterminated
           "{\"orderNo\":\"202405010001\"} x",        // trailing data
           "{\"orderNo\":\"202405010001\"}{}",        // two documents
           "{'orderNo':'202405010001'}",              // single quotes
           "{orderNo:\"202405010001\"}",              // bare key
           "{\"orderNo\":\"202405010001\",}",         // trailing comma
           "{\"orderNo\":0202405010001}",             // leading zero
           "{\"orderNo\":\"2024\\x0501\"}",           // bad escape
           "{\"orderNo\":\"20240501\t0001\"}",        // raw control character
           "{\"a\":tru,\"orderNo\":\"202405010001\"}",  // bad literal
           "{\"a\":\"\\ud800\",\"orderNo\":\"202405010001\"}",  // lone surrogate
           "{\"a\":1.,\"orderNo\":\"202405010001\"}",  // bad number
           "{\"a\":-,\"orderNo\":\"202405010001\"}",  // bad number
       }) {
    SCOPED_TRACE(body);
    EXPECT_TRUE(Has(Rejected(body, kJson), "not valid JSON"));
  }
}

TEST(JsonMessage, RejectsInvalidUtf8AndBom) {
  EXPECT_TRUE(Has(Rejected("{\"a\":\"\xC0\xAF\",\"orderNo\":\"202405010001\"}", kJson), "UTF-8"));
  EXPECT_TRUE(Has(Rejected("{\"a\":\"\xED\xA0\x80\",\"orderNo\":\"202405010001\"}", kJson), "UTF-8"));
  EXPECT_TRUE(Has(Rejected("\xEF\xBB\xBF{\"orderNo\":\"202405010001\"}", kJson), "byte order mark"));
  // valid UTF-8 elsewhere is fine
  EXPECT_EQ(Ok("{\"备注\":\"订单 😀\",\"orderNo\":\"202405010001\"}", kJson), "202405010001");
  EXPECT_EQ(Ok("{\"a\":\"\\ud83d\\ude00\",\"orderNo\":\"202405010001\"}", kJson), "202405010001");
}

TEST(JsonMessage, RejectsDeepNesting) {
  std::string body = "{\"a\":";
  for (int i = 0; i < 100; ++i) body += "[";
  for (int i = 0; i < 100; ++i) body += "]";
  body += ",\"orderNo\":\"202405010001\"}";
  EXPECT_TRUE(Has(Rejected(body, kJson), "too deep"));
}

}  // namespace
}  // namespace wxpay
