#include "config/url.h"

#include <gtest/gtest.h>

namespace wxpay {
namespace {

std::string ErrorOf(std::string_view url) {
  Result<AmqpUrl> result = ParseAmqpUrl(url);
  return result.ok() ? "parsed" : result.error().message;
}

TEST(AmqpUrl, ParsesAllParts) {
  Result<AmqpUrl> url = ParseAmqpUrl("amqp://user%40shop:p%2Fss%3Aw@broker.example.com:5673/shop%2fprod");
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_FALSE(url->tls);
  EXPECT_EQ(url->user, "user@shop");
  EXPECT_EQ(url->password, "p/ss:w");
  EXPECT_TRUE(url->has_user);
  EXPECT_TRUE(url->has_password);
  EXPECT_EQ(url->host, "broker.example.com");
  EXPECT_EQ(url->port, 5673);
  EXPECT_EQ(url->vhost, "shop/prod");
}

TEST(AmqpUrl, Defaults) {
  Result<AmqpUrl> plain = ParseAmqpUrl("amqp://127.0.0.1");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->port, 5672);
  EXPECT_EQ(plain->vhost, "/");
  EXPECT_FALSE(plain->has_password);
  EXPECT_FALSE(plain->has_user);
  EXPECT_EQ(plain->user, "");

  Result<AmqpUrl> tls = ParseAmqpUrl("amqps://wxpay@mq.example.com/%2f");
  ASSERT_TRUE(tls.ok());
  EXPECT_TRUE(tls->tls);
  EXPECT_EQ(tls->port, 5671);
  EXPECT_EQ(tls->vhost, "/");
  EXPECT_EQ(tls->user, "wxpay");
  EXPECT_TRUE(tls->has_user);
  EXPECT_FALSE(tls->has_password);

  Result<AmqpUrl> v6 = ParseAmqpUrl("amqp://u:p@[::1]:5672/v");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->password, "p");
}

TEST(AmqpUrl, ErrorsNeverQuoteTheUrl) {
  EXPECT_EQ(ErrorOf("http://u:secret@h/"),
            "is not an amqp:// or amqps:// URL (expected amqp://user@host:5672/vhost or amqps://...)");
  EXPECT_EQ(ErrorOf("amqp://u:secret@h/v?heartbeat=10"),
            "has a query string or fragment (?... or #...), which librabbitmq ignores; use the rabbitmq.tls and "
            "rabbitmq.heartbeat keys instead, and percent-encode ?, # in the password as %3F, %23");
  EXPECT_EQ(ErrorOf("amqp://u:sec/ret@h/v"),
            "has an '@' after the host part: percent-encode '/' as %2F and '@' as %40 in the user name and password");
  EXPECT_EQ(ErrorOf("amqp://u:secret@/v"),
            "the URL has no host (expected amqp://user@host:5672/vhost or amqps://...)");
  EXPECT_EQ(ErrorOf("amqp://u:secret@h:99999/v"),
            "the URL has a port outside 1-65535 (expected amqp://user@host:5672/vhost or amqps://...)");
  EXPECT_EQ(ErrorOf("amqp://u:secret@h:x/v"),
            "the URL has no valid port after ':' (expected amqp://user@host:5672/vhost or amqps://...)");
  EXPECT_EQ(ErrorOf("amqp://u:secret@h/"),
            "ends in '/' with an empty virtual host; write %2f for the default virtual host \"/\", or leave out the "
            "trailing /");
  EXPECT_EQ(ErrorOf("amqp://u:secret@h/a/b"), "has a '/' inside the virtual host; write it as %2F");
  EXPECT_EQ(ErrorOf("amqp://u:sec%zzret@h/v"),
            "has a bad percent-escape in the password (write %XX with two hex digits)");
  EXPECT_EQ(ErrorOf("amqp://u:secret@h/v%2"),
            "has a bad percent-escape in the virtual host (write %XX with two hex digits)");
  EXPECT_EQ(ErrorOf("amqp://u:secret@h h/v"),
            "the URL has a host name with characters a host name cannot have (expected amqp://user@host:5672/vhost "
            "or amqps://...)");
}

TEST(AmqpUrl, RefusesWhatLibrabbitmqWouldMisread) {
  const char* bad[] = {
      "http://h/",                  // scheme
      "amqp://h:5672/",             // empty vhost
      "amqp://h/a/b",               // '/' inside the vhost
      "amqp://u:p@h/?heartbeat=5",  // query string
      "amqp://u:p@h/v#x",           // fragment
      "amqp://u:p%zz@h/",           // bad escape
      "amqp://u:p%00x@h/",          // NUL would cut the C string
      "amqp://u%00@h/",             // in the user name too
      "amqp://h/v%00",              // and in the vhost
      "amqp://h:0/",                // port range
      "amqp://h:70000",             // port range
      "amqp://h:",                  // empty port
      "amqp://:p@h",                // empty user
      "amqp://@h",                  // empty user, no password
      "amqp:///vh",                 // no host
      "amqp://[::1/vh",             // unclosed IPv6
      "amqp://[::1]x/vh",           // text after the IPv6 address
      "amqp://[::g1]/vh",           // not an IPv6 address
      "amqp://u:p@h/v@x",           // '@' after the host
  };
  for (const char* url : bad) {
    EXPECT_NE(ErrorOf(url), "parsed") << url;
  }
}

TEST(AmqpUrl, NulAndEmptyUserErrorsSayWhatIsWrong) {
  EXPECT_EQ(ErrorOf("amqp://u:sec%00ret@h/v"), "has %00 in the password: librabbitmq cannot send a NUL byte");
  EXPECT_EQ(ErrorOf("amqp://:secret@h/v"), "has an empty user name before '@'");
  EXPECT_EQ(ErrorOf("amqp://u:secret@[::x]/v"),
            "the URL has a malformed IPv6 address (expected amqp://user@host:5672/vhost or amqps://...)");
}

TEST(RedactUrl, ReplacesOnlyThePassword) {
  EXPECT_EQ(RedactUrl("amqp://wxpay:s3cret@127.0.0.1:5672/%2f"), "amqp://wxpay:***@127.0.0.1:5672/%2f");
  EXPECT_EQ(RedactUrl("amqp://wxpay@127.0.0.1:5672/%2f"), "amqp://wxpay@127.0.0.1:5672/%2f");
  EXPECT_EQ(RedactUrl("amqp://127.0.0.1:5672/%2f"), "amqp://127.0.0.1:5672/%2f");
  EXPECT_EQ(RedactUrl("amqps://u:p@[::1]:5671/v"), "amqps://u:***@[::1]:5671/v");
  EXPECT_EQ(RedactUrl("amqp://mq"), "amqp://mq");
  // Without a scheme there is no telling where a password would be.
  EXPECT_EQ(RedactUrl("not a url s3cret"), "(not a URL)");
}

TEST(RedactUrl, MalformedPasswordsStillDoNotLeak) {
  for (std::string_view url : {"amqp://u:pa/ss@h/v", "amqp://u:pa@ss@h/v", "amqp://u:pa?ss@h", "amqp://u:p:ss@h",
                               "amqp://u:pa/ss@h/v@x", "amqp://u:pa/ss@h/%2f"}) {
    const std::string redacted = RedactUrl(url);
    EXPECT_EQ(redacted.find("ss@"), std::string::npos) << redacted;
    EXPECT_NE(redacted.find("***"), std::string::npos) << redacted;
  }
}

TEST(HttpUrl, ParsesAndNormalizes) {
  Result<HttpUrl> url = ParseHttpUrl("https://api.mch.weixin.qq.com/");
  ASSERT_TRUE(url.ok());
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->host, "api.mch.weixin.qq.com");
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->path, "");

  Result<HttpUrl> plain = ParseHttpUrl("http://127.0.0.1:8080/prefix//");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->tls);
  EXPECT_EQ(plain->port, 8080);
  EXPECT_EQ(plain->path, "/prefix");

  EXPECT_FALSE(ParseHttpUrl("https://u:p@host").ok());
  EXPECT_FALSE(ParseHttpUrl("https://host/?a=1").ok());
  EXPECT_FALSE(ParseHttpUrl("ftp://host").ok());
}

TEST(HostKinds, LoopbackAndIpLiterals) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("128.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("127.0.0.1.example.com"));
  EXPECT_TRUE(IsIpLiteral("10.0.0.1"));
  EXPECT_TRUE(IsIpLiteral("fe80::1"));
  EXPECT_FALSE(IsIpLiteral("mq.example.com"));
}

}  // namespace
}  // namespace wxpay
