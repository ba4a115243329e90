// The client over a scripted transport: exact signed requests (D2-D5
// through the whole client), answer verification, error classification,
// failover and rate limiting.
#include "wechatpay/client.h"

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <thread>

#include "wechatpay/test_data.h"
#include "wechatpay/trade_json.h"

namespace wxpay {
namespace {

using testing::AuthorizationParams;
using testing::FixedNonceSource;
using testing::FromUnixSeconds;
using testing::Kat;
using testing::LoadPrivateKeyOrDie;
using testing::SignAnswer;
using testing::VectorPath;

constexpr const char* kPubKeyId = "PUB_KEY_ID_0114232134912410000000000000000001";
constexpr const char* kCertSerial = "440024045C4A427599D09BB4E3DE0279F2E813FD";
constexpr const char* kNo = "1217752501201407033233368018";
constexpr int64_t kNow = 1554208460;  // D2-D5
constexpr const char* kDocNonce = "593BEC0C930BF1AFEB40B4A08C8FB242";
constexpr const char* kPrimary = "https://api.mch.weixin.qq.com";
constexpr const char* kBackup = "https://api2.mch.weixin.qq.com";

using Outcome = Result<HttpResponse, TransportError>;

// Records every request; answers with the next scripted handler. The last
// one repeats until a new one is scripted.
class FakeTransport final : public HttpTransport {
 public:
  using Handler = std::function<Outcome(const HttpRequest&)>;
  void Then(Handler h) {
    std::lock_guard<std::mutex> lock(mu_);
    if (last_used_) handlers_.clear();
    last_used_ = false;
    handlers_.push_back(std::move(h));
  }
  Outcome Send(const HttpRequest& request) override {
    Handler h;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(request);
      if (handlers_.empty()) return TransportError{TransportError::Kind::kNotSent, "no script"};
      h = handlers_.front();
      if (handlers_.size() > 1) {
        handlers_.pop_front();
      } else {
        last_used_ = true;
      }
    }
    return h(request);
  }
  std::vector<HttpRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  mutable std::mutex mu_;
  std::deque<Handler> handlers_;
  bool last_used_ = false;
  std::vector<HttpRequest> requests_;
};

std::string HeaderOf(const HttpRequest& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return "<absent>";
}

std::string ParamOf(const std::string& authorization, std::string_view key) {
  for (const auto& [k, v] : AuthorizationParams(authorization)) {
    if (k == key) return v;
  }
  return "<absent>";
}

class ClientTest : public ::testing::Test {
 protected:
  ClientTest() {
    config_.base_url = kPrimary;
    config_.mode = WechatPayConfig::Mode::kDirect;
    config_.mchid = "1230000109";
    config_.merchant_serial_no = "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB";
    config_.private_key_file = VectorPath("v11_official_test_key_pkcs8.pem");
    config_.public_key_file = VectorPath("v6_java_wechat_pay_public_key.pem");
    config_.public_key_id = kPubKeyId;
    wechatpay_key_ = LoadPrivateKeyOrDie("v6_java_wechat_pay_private_key.pem");
  }

  std::unique_ptr<WechatPayClient> MakeClient(ClientOptions options = {}) {
    if (!options.nonces) options.nonces = nonces_;
    Result<std::unique_ptr<WechatPayClient>> client =
        WechatPayClient::CreateWithTransport(config_, clock_, log_, transport_, std::move(options));
    EXPECT_TRUE(client.ok()) << client.error().message;
    return client ? std::move(client).value() : nullptr;
  }

  // An answer signed by "WeChat Pay" (V6 key) at the current clock.
  FakeTransport::Handler Signed(long status, std::string body,
                                std::string serial = kPubKeyId) {
    return [this, status, body, serial](const HttpRequest&) -> Outcome {
      HttpResponse r;
      r.status = status;
      r.body = body;
      int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                        clock_.Now().time_since_epoch()).count();
      r.headers = SignAnswer(wechatpay_key_.get(), serial, now, "answer-nonce", body);
      r.channel_trusted = true;
      return r;
    };
  }
  static FakeTransport::Handler Unsigned(long status, std::string body, bool trusted = true) {
    return [status, body, trusted](const HttpRequest&) -> Outcome {
      HttpResponse r;
      r.status = status;
      r.body = body;
      r.headers.Add("Request-ID", "REQ-1");
      r.channel_trusted = trusted;
      return r;
    };
  }
  static FakeTransport::Handler Broken(TransportError::Kind kind, std::string message) {
    return [kind, message](const HttpRequest&) -> Outcome { return TransportError{kind, message}; };
  }

  WechatPayConfig config_;
  ManualClock clock_{FromUnixSeconds(kNow)};
  CapturingLogger log_;
  std::shared_ptr<FakeTransport> transport_ = std::make_shared<FakeTransport>();
  std::shared_ptr<FixedNonceSource> nonces_ =
      std::make_shared<FixedNonceSource>(std::vector<std::string>{kDocNonce, "SECONDNONCE0000000000000000000002"});
  EvpPkeyPtr wechatpay_key_;
};

TEST_F(ClientTest, QueryIsSignedExactlyLikeD2AndItsVerifiedAnswerParsed) {
  std::string body = Kat("R2", "body");
  transport_->Then(Signed(200, body));
  auto client = MakeClient();
  Result<Trade, PayError> trade = client->Query({kNo, ""});
  ASSERT_TRUE(trade.ok()) << trade.error().Describe();
  EXPECT_EQ(trade->trade_state, "SUCCESS");
  EXPECT_EQ(trade->amount_total, 100);
  EXPECT_EQ(trade->raw_json, body);
  EXPECT_EQ(trade->request_id, "08E68E97CC0610DF0618AC86BCA80120082880CF05-268578704");

  ASSERT_EQ(transport_->requests().size(), 1u);
  const HttpRequest r = transport_->requests()[0];
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.url, std::string(kPrimary) +
                       "/v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid=1230000109");
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(AuthorizationParams(HeaderOf(r, "Authorization")),
            AuthorizationParams(Kat("D2", "authorization")));
  EXPECT_EQ(HeaderOf(r, "Accept"), "application/json");
  EXPECT_EQ(HeaderOf(r, "Wechatpay-Serial"), kPubKeyId);
  EXPECT_EQ(HeaderOf(r, "Content-Type"), "<absent>");
}

TEST_F(ClientTest, CloseIsSignedExactlyLikeD3AndA204MustBeSigned) {
  transport_->Then(Signed(204, ""));
  auto client = MakeClient();
  Result<CloseAccepted, PayError> closed = client->Close({kNo, ""});
  ASSERT_TRUE(closed.ok()) << closed.error().Describe();
  EXPECT_FALSE(closed->request_id.empty());
  const HttpRequest r = transport_->requests()[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, std::string(kPrimary) +
                       "/v3/pay/transactions/out-trade-no/1217752501201407033233368018/close");
  EXPECT_EQ(r.body, R"({"mchid":"1230000109"})");
  EXPECT_EQ(HeaderOf(r, "Content-Type"), "application/json");
  EXPECT_EQ(ParamOf(HeaderOf(r, "Authorization"), "signature"), Kat("D3", "signature"));

  transport_->Then(Unsigned(204, ""));
  Result<CloseAccepted, PayError> unsigned_close = MakeClient()->Close({kNo, ""});
  ASSERT_FALSE(unsigned_close.ok());
  EXPECT_EQ(unsigned_close.error().kind, PayErrorKind::kBadSignature);
  EXPECT_TRUE(unsigned_close.error().system_wide);
  EXPECT_NE(unsigned_close.error().message.find("missing Wechatpay-Signature"), std::string::npos);
}

TEST_F(ClientTest, PartnerRequestsAreSignedLikeD4AndD5ByTheServiceProvider) {
  config_.mode = WechatPayConfig::Mode::kPartner;
  config_.mchid.clear();
  config_.sp_mchid = "1230000109";
  config_.sub_mchid = "1900000109";
  transport_->Then(Signed(200, R"({"trade_state":"NOTPAY","sp_mchid":"1230000109"})"));
  ClientOptions options;
  options.nonces = std::make_shared<FixedNonceSource>(std::vector<std::string>{kDocNonce});
  auto client = MakeClient(options);
  ASSERT_TRUE(client->Query({kNo, ""}).ok());
  transport_->Then(Signed(204, ""));
  ASSERT_TRUE(client->Close({kNo, ""}).ok());
  auto requests = transport_->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(ParamOf(HeaderOf(requests[0], "Authorization"), "mchid"), "1230000109");
  EXPECT_EQ(ParamOf(HeaderOf(requests[0], "Authorization"), "signature"), Kat("D4", "signature"));
  EXPECT_EQ(requests[1].body, R"({"sp_mchid":"1230000109","sub_mchid":"1900000109"})");
  EXPECT_EQ(ParamOf(HeaderOf(requests[1], "Authorization"), "signature"), Kat("D5", "signature"));
}

TEST_F(ClientTest, PlatformCertificateModeSendsNoWechatpaySerialAndVerifiesByCertificate) {
  config_.public_key_file.clear();
  config_.public_key_id.clear();
  config_.platform_certificates = {VectorPath("v6_java_wechat_pay_certificate.pem")};
  transport_->Then(Signed(200, R"({"trade_state":"CLOSED"})", kCertSerial));
  auto client = MakeClient();
  Result<Trade, PayError> trade = client->Query({kNo, ""});
  ASSERT_TRUE(trade.ok()) << trade.error().Describe();
  EXPECT_EQ(trade->state, TradeState::kClosed);
  EXPECT_EQ(HeaderOf(transport_->requests()[0], "Wechatpay-Serial"), "<absent>");
}

TEST_F(ClientTest, UnverifiableSuccessAnswersAreBadSignatures) {
  auto client = MakeClient();
  struct Case {
    FakeTransport::Handler answer;
    std::function<void()> before;
    const char* expect;
  };
  auto tampered = [this](const HttpRequest& req) -> Outcome {
    Outcome o = Signed(200, R"({"trade_state":"NOTPAY","amount":{"total":100}})")(req);
    o->body = R"({"trade_state":"NOTPAY","amount":{"total":1}})";
    return o;
  };
  auto stale = [this](const HttpRequest& req) -> Outcome {
    clock_.Advance(std::chrono::seconds(-400));
    Outcome o = Signed(200, R"({"trade_state":"NOTPAY"})")(req);
    clock_.Advance(std::chrono::seconds(400));
    return o;
  };
  auto probe = [this](const HttpRequest& req) -> Outcome {
    Outcome o = Signed(200, R"({"trade_state":"SUCCESS"})")(req);
    HttpHeaders h;
    for (const auto& [n, v] : o->headers.entries()) {
      h.Add(n, n == "Wechatpay-Signature" ? "WECHATPAY/SIGNTEST/" + v : v);
    }
    o->headers = h;
    return o;
  };
  for (auto [handler, expect] :
       std::vector<std::pair<FakeTransport::Handler, const char*>>{
           {Unsigned(200, R"({"trade_state":"SUCCESS"})"), "missing Wechatpay-"},
           {tampered, "signature mismatch"},
           {stale, "stale timestamp"},
           {probe, "WECHATPAY/SIGNTEST/"},
           {Signed(200, R"({"trade_state":"SUCCESS"})", "UNKNOWN0001"), "unknown serial"},
           {Signed(200, R"({"trade_state":"SUCCESS"})", "PUB_KEY_ID_999"), "unknown serial"}}) {
    transport_->Then(handler);
    Result<Trade, PayError> r = client->Query({kNo, ""});
    ASSERT_FALSE(r.ok()) << expect;
    EXPECT_EQ(r.error().kind, PayErrorKind::kBadSignature) << expect;
    EXPECT_TRUE(r.error().system_wide);
    EXPECT_EQ(r.error().http_status, 200);
    EXPECT_NE(r.error().message.find(expect), std::string::npos) << r.error().message;
  }
}

TEST_F(ClientTest, ErrorAnswersAreTrustedUnsignedOnlyOverAVerifiedChannel) {
  auto client = MakeClient();
  const std::string not_found = R"({"code":"ORDER_NOT_EXIST","message":"查询单据不存在"})";
  transport_->Then(Unsigned(404, not_found));
  Result<Trade, PayError> r = client->Query({kNo, ""});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, PayErrorKind::kNotFound);
  EXPECT_EQ(r.error().code, "ORDER_NOT_EXIST");
  EXPECT_EQ(r.error().http_status, 404);
  EXPECT_EQ(r.error().request_id, "REQ-1");
  EXPECT_FALSE(r.error().system_wide);

  transport_->Then(Unsigned(404, not_found, /*trusted=*/false));
  r = client->Query({kNo, ""});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, PayErrorKind::kBadSignature);

  // Signed error answers are verified: a good signature is believed...
  transport_->Then(Signed(404, not_found));
  r = client->Query({kNo, ""});
  EXPECT_EQ(r.error().kind, PayErrorKind::kNotFound);
  // ...and a bad one is not.
  transport_->Then([this, not_found](const HttpRequest& req) -> Outcome {
    Outcome o = Signed(404, not_found)(req);
    o->body = R"({"code":"ORDER_NOT_EXIST","message":"x"})";
    return o;
  });
  r = client->Query({kNo, ""});
  EXPECT_EQ(r.error().kind, PayErrorKind::kBadSignature);
  EXPECT_NE(r.error().message.find("signature mismatch"), std::string::npos);
}

TEST_F(ClientTest, ErrorAnswersAreClassified) {
  auto client = MakeClient();
  struct Case {
    FakeTransport::Handler answer;
    bool close;
    PayErrorKind kind;
    bool system_wide;
    const char* code;
  };
  std::vector<Case> cases = {
      {Unsigned(500, R"({"code":"SYSTEM_ERROR","message":"系统异常"})"), false,
       PayErrorKind::kTransient, true, "SYSTEM_ERROR"},
      {Unsigned(502, "<html>bad gateway</html>"), false, PayErrorKind::kTransient, true, ""},
      {Unsigned(429, R"({"code":"RATELIMIT_EXCEEDED"})"), false, PayErrorKind::kThrottled, true,
       "RATELIMIT_EXCEEDED"},
      {Unsigned(401, R"({"code":"SIGN_ERROR","message":"签名错误"})"), false,
       PayErrorKind::kPermanent, true, "SIGN_ERROR"},
      {Unsigned(400, R"({"code":"PARAM_ERROR"})"), false, PayErrorKind::kPermanent, false,
       "PARAM_ERROR"},
      {Signed(202, R"({"code":"USERPAYING","message":"用户支付中"})"), true,
       PayErrorKind::kUserPaying, false, "USERPAYING"},
      {Signed(400, R"({"code":"ORDER_CLOSED"})"), true, PayErrorKind::kClosed, false,
       "ORDER_CLOSED"},
      {Unsigned(400, R"({"code":"ORDERPAID"})"), true, PayErrorKind::kPaid, false, "ORDERPAID"},
      {Unsigned(403, R"({"code":"FREQUENCY_LIMITED"})"), true, PayErrorKind::kThrottled, false,
       "FREQUENCY_LIMITED"},
      {Unsigned(400, R"({"code":"BRAND_NEW_CODE"})"), false, PayErrorKind::kTransient, false,
       "BRAND_NEW_CODE"},
      {Signed(204, ""), false, PayErrorKind::kTransient, false, ""},  // query answered 204
  };
  for (const Case& c : cases) {
    transport_->Then(c.answer);
    PayError e = c.close ? client->Close({kNo, ""}).error() : client->Query({kNo, ""}).error();
    EXPECT_EQ(PayErrorKindName(e.kind), PayErrorKindName(c.kind)) << e.Describe();
    EXPECT_EQ(e.system_wide, c.system_wide) << e.Describe();
    EXPECT_EQ(e.code, c.code) << e.Describe();
    EXPECT_FALSE(e.message.empty());
  }
}

TEST_F(ClientTest, AVerifiedButUnusableAnswerIsTransient) {
  auto client = MakeClient();
  transport_->Then(Signed(200, R"({"out_trade_no":"1217752501201407033233368018"})"));
  Result<Trade, PayError> r = client->Query({kNo, ""});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, PayErrorKind::kTransient);
  EXPECT_NE(r.error().message.find("no trade_state"), std::string::npos);
  transport_->Then(Signed(200, "not json"));
  r = client->Query({kNo, ""});
  EXPECT_EQ(r.error().kind, PayErrorKind::kTransient);
  EXPECT_NE(r.error().message.find("not valid JSON"), std::string::npos);
}

TEST_F(ClientTest, FailsOverOnlyWhenNothingWasSentAndSignsEachAttemptAnew) {
  config_.backup_base_url = kBackup;
  auto client = MakeClient();
  transport_->Then(Broken(TransportError::Kind::kNotConnected, "cannot connect (refused)"));
  transport_->Then(Signed(200, R"({"trade_state":"NOTPAY"})"));
  Result<Trade, PayError> r = client->Query({kNo, ""});
  ASSERT_TRUE(r.ok()) << r.error().Describe();
  auto requests = transport_->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].url.rfind(kPrimary, 0), 0u);
  EXPECT_EQ(requests[1].url.rfind(kBackup, 0), 0u);
  EXPECT_NE(ParamOf(HeaderOf(requests[0], "Authorization"), "nonce_str"),
            ParamOf(HeaderOf(requests[1], "Authorization"), "nonce_str"));
  EXPECT_NE(ParamOf(HeaderOf(requests[0], "Authorization"), "signature"),
            ParamOf(HeaderOf(requests[1], "Authorization"), "signature"));
  EXPECT_TRUE(log_.Contains("trying https://api2.mch.weixin.qq.com"));
}

TEST_F(ClientTest, NoFailoverWhenTheRequestMayHaveBeenSent) {
  config_.backup_base_url = kBackup;
  auto client = MakeClient();
  for (auto kind : {TransportError::Kind::kMaybeSent, TransportError::Kind::kNotSent}) {
    auto before = transport_->requests().size();
    transport_->Then(Broken(kind, "the connection closed without an answer: the request may have "
                                  "reached WeChat Pay"));
    Result<CloseAccepted, PayError> r = client->Close({kNo, ""});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, PayErrorKind::kTransient);
    EXPECT_TRUE(r.error().system_wide);
    EXPECT_EQ(r.error().http_status, 0);
    EXPECT_NE(r.error().message.find("may have reached WeChat Pay"), std::string::npos);
    EXPECT_EQ(transport_->requests().size(), before + 1);
  }
}

TEST_F(ClientTest, NoBackupMeansAConnectFailureIsTransient) {
  auto client = MakeClient();
  transport_->Then(Broken(TransportError::Kind::kNotConnected, "cannot connect"));
  Result<Trade, PayError> r = client->Query({kNo, ""});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, PayErrorKind::kTransient);
  EXPECT_TRUE(r.error().system_wide);
  EXPECT_NE(r.error().message.find(kPrimary), std::string::npos);
  EXPECT_EQ(transport_->requests().size(), 1u);
}

TEST_F(ClientTest, LocalRateLimitThrottlesWithNothingSent) {
  config_.max_requests_per_second = 1;
  ClientOptions options;
  // Far below the ~1 s until the next token at 1/s: refused at once.
  options.max_rate_wait = std::chrono::milliseconds(100);
  auto client = MakeClient(options);
  transport_->Then(Signed(200, R"({"trade_state":"NOTPAY"})"));
  ASSERT_TRUE(client->Query({kNo, ""}).ok());
  Result<Trade, PayError> r = client->Query({kNo, ""});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, PayErrorKind::kThrottled);
  EXPECT_NE(r.error().message.find("nothing was sent"), std::string::npos);
  EXPECT_EQ(transport_->requests().size(), 1u);

  client->SetRateLimit(0);
  EXPECT_TRUE(log_.Contains("ignored"));
  client->SetRateLimit(1000);
  EXPECT_TRUE(client->Query({kNo, ""}).ok());
}

TEST_F(ClientTest, RequestsThatCannotBeBuiltAreRefusedBeforeSending) {
  config_.mode = WechatPayConfig::Mode::kPartner;
  config_.sp_mchid = "1230000109";
  auto client = MakeClient();
  Result<Trade, PayError> r = client->Query({kNo, ""});  // no sub_mchid anywhere
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, PayErrorKind::kPermanent);
  EXPECT_FALSE(r.error().system_wide);
  EXPECT_FALSE(client->Close({kNo, "19&x"}).ok());
  EXPECT_TRUE(transport_->requests().empty());
}

TEST_F(ClientTest, QueryByTransactionIdUsesTheIdPath) {
  transport_->Then(Signed(200, R"({"trade_state":"SUCCESS","transaction_id":"4200000263"})"));
  auto client = MakeClient();
  Result<Trade, PayError> r = client->QueryByTransactionId("4200000263");
  ASSERT_TRUE(r.ok()) << r.error().Describe();
  EXPECT_EQ(r->transaction_id, "4200000263");
  EXPECT_EQ(transport_->requests()[0].url,
            std::string(kPrimary) + "/v3/pay/transactions/id/4200000263?mchid=1230000109");
}

TEST_F(ClientTest, ReloadKeysSwitchesVerificationKeysAndKeepsThemOnFailure) {
  auto client = MakeClient();
  transport_->Then(Signed(200, R"({"trade_state":"NOTPAY"})", kCertSerial));
  EXPECT_EQ(client->Query({kNo, ""}).error().kind, PayErrorKind::kBadSignature);

  WechatPayConfig rotated = config_;
  rotated.platform_certificates = {VectorPath("v6_java_wechat_pay_certificate.pem")};
  ASSERT_TRUE(client->ReloadKeys(rotated).ok());
  EXPECT_TRUE(client->Query({kNo, ""}).ok());

  WechatPayConfig broken = rotated;
  broken.private_key_file = "/nonexistent/apiclient_key.pem";
  Status s = client->ReloadKeys(broken);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent/apiclient_key.pem"), std::string::npos);
  EXPECT_TRUE(client->Query({kNo, ""}).ok());
}

TEST_F(ClientTest, CreateRefusesBadConfigurationWithClearMessages) {
  struct Case {
    std::function<void(WechatPayConfig&)> change;
    const char* expect;
  };
  std::vector<Case> cases = {
      {[](WechatPayConfig& c) { c.base_url = "http://api.mch.weixin.qq.com"; }, "allow_plain_http"},
      {[](WechatPayConfig& c) { c.backup_base_url = "https://x/v3"; }, "backup_base_url"},
      {[](WechatPayConfig& c) { c.private_key_file = "/nonexistent.pem"; }, "private_key_file"},
      {[](WechatPayConfig& c) { c.merchant_serial_no = ""; }, "merchant_serial_no"},
      {[](WechatPayConfig& c) { c.merchant_serial_no = "408B07E7 9B82"; }, "merchant_serial_no"},
      {[](WechatPayConfig& c) { c.mchid = ""; }, "wechatpay.mchid"},
      {[](WechatPayConfig& c) { c.max_requests_per_second = 0; }, "max_requests_per_second"},
      {[](WechatPayConfig& c) { c.timeout = std::chrono::milliseconds(0); }, "timeout"},
      {[](WechatPayConfig& c) {
         c.public_key_file.clear();
         c.public_key_id.clear();
       },
       "no key to verify"},
  };
  for (const Case& c : cases) {
    WechatPayConfig config = config_;
    c.change(config);
    auto client = WechatPayClient::CreateWithTransport(config, clock_, log_, transport_, {});
    ASSERT_FALSE(client.ok()) << c.expect;
    EXPECT_NE(client.error().message.find(c.expect), std::string::npos) << client.error().message;
  }
  config_.allow_plain_http = true;
  config_.base_url = "http://127.0.0.1:1";
  EXPECT_TRUE(WechatPayClient::CreateWithTransport(config_, clock_, log_, transport_, {}).ok());
}

TEST_F(ClientTest, OneClientServesManyThreads) {
  transport_->Then(Signed(200, R"({"trade_state":"NOTPAY"})"));
  ClientOptions options;
  options.nonces = std::make_shared<RandomNonceSource>();
  auto client = MakeClient(options);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        if (client->Query({kNo, ""}).ok()) ++ok;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 80);
  std::set<std::string> nonces;
  for (const HttpRequest& r : transport_->requests()) {
    nonces.insert(ParamOf(HeaderOf(r, "Authorization"), "nonce_str"));
  }
  EXPECT_EQ(nonces.size(), 80u);
}

TEST_F(ClientTest, QueryAnswerRendersTheVerifiedTrade) {
  transport_->Then(Signed(200, Kat("R2", "body")));
  Result<Trade, PayError> r = MakeClient()->Query({kNo, ""});
  ASSERT_TRUE(r.ok());
  std::string json = QueryAnswerJson(*r);
  EXPECT_NE(json.find("\"verified\":true"), std::string::npos);
  EXPECT_NE(json.find("\"trade_state_desc\":\"支付成功\""), std::string::npos);
}

}  // namespace
}  // namespace wxpay
