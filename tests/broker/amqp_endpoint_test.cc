#include "broker/amqp_endpoint.h"

#include <gtest/gtest.h>

namespace wxpay {
namespace {

TEST(AmqpEndpoint, ParsesEveryPart) {
  Result<AmqpEndpoint> e = ParseAmqpEndpoint("amqp://shop%40x:p%2Fw%3Fd@mq.example.com:5673/shop%2fvh");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_FALSE(e->tls);
  EXPECT_EQ(e->host, "mq.example.com");
  EXPECT_EQ(e->port, 5673);
  EXPECT_EQ(e->vhost, "shop/vh");
  EXPECT_EQ(e->user, "shop@x");
  EXPECT_EQ(e->password, "p/w?d");
  EXPECT_TRUE(e->url_has_user);
  EXPECT_TRUE(e->url_has_password);
}

TEST(AmqpEndpoint, DefaultsFollowTheScheme) {
  Result<AmqpEndpoint> plain = ParseAmqpEndpoint("amqp://localhost");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->port, 5672);
  EXPECT_EQ(plain->vhost, "/");
  EXPECT_EQ(plain->user, "guest");
  EXPECT_FALSE(plain->url_has_user);

  Result<AmqpEndpoint> tls = ParseAmqpEndpoint("amqps://u@mq.example.com/%2f");
  ASSERT_TRUE(tls.ok());
  EXPECT_TRUE(tls->tls);
  EXPECT_EQ(tls->port, 5671);
  EXPECT_EQ(tls->vhost, "/");
  EXPECT_EQ(tls->user, "u");
  EXPECT_FALSE(tls->url_has_password);
}

TEST(AmqpEndpoint, Ipv6Literal) {
  Result<AmqpEndpoint> e = ParseAmqpEndpoint("amqp://u:p@[::1]:5999/v");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->port, 5999);
  EXPECT_EQ(DescribeEndpoint(*e), "amqp://u@[::1]:5999/v");
}

// Which URLs are refused is tested with the parser (tests/config/url_test.cc).
TEST(AmqpEndpoint, ErrorsNameTheKey) {
  for (const char* url : {"http://h/", "amqp://u:p%00x@h/", "amqp://:p@h", "amqp://h:"}) {
    Result<AmqpEndpoint> e = ParseAmqpEndpoint(url);
    ASSERT_FALSE(e.ok()) << url;
    EXPECT_EQ(e.error().message.rfind("rabbitmq.url: ", 0), 0u) << e.error().message;
  }
}

TEST(AmqpEndpoint, ErrorsNeverQuoteThePassword) {
  Result<AmqpEndpoint> e = ParseAmqpEndpoint("amqp://u:s3cretPW@h/?x=1");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message.find("s3cretPW"), std::string::npos) << e.error().message;
  EXPECT_NE(e.error().message.find("query"), std::string::npos) << e.error().message;
}

TEST(AmqpEndpoint, PasswordPrecedence) {
  AmqpEndpoint with_password = *ParseAmqpEndpoint("amqp://u:fromurl@h/%2f");
  EXPECT_EQ(ResolvePassword(with_password, "fromfile"), "fromfile");
  EXPECT_EQ(ResolvePassword(with_password, ""), "fromurl");
  AmqpEndpoint user_only = *ParseAmqpEndpoint("amqp://u@h/%2f");
  EXPECT_EQ(ResolvePassword(user_only, ""), "");
  AmqpEndpoint anonymous = *ParseAmqpEndpoint("amqp://h/%2f");
  EXPECT_EQ(anonymous.user, "guest");
  EXPECT_EQ(ResolvePassword(anonymous, ""), "guest");
}

}  // namespace
}  // namespace wxpay
