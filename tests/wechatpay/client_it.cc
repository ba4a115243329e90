// WechatPayClient against the WeChat Pay simulator (tests/sim/wxpay_sim.py):
// real HTTPS, real signatures both ways, injected faults. Needs
// WXPAY_TEST_SIM and WXPAY_TEST_PKI (scripts/run-tests.sh sets them).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "wechatpay/client.h"
#include "wechatpay/sim_fixture.h"
#include "wechatpay/trade_json.h"

namespace wxpay {
namespace {

using testing::ClosedLoopbackPort;
using testing::PkiFile;
using testing::PkiLine;
using testing::SimOptions;
using testing::Simulator;

constexpr const char* kDirectMchid = "1900000001";
constexpr const char* kSpMchid = "1900000100";
constexpr const char* kSubMchid = "1900000109";

WechatPayConfig DirectConfig(const std::string& base_url) {
  WechatPayConfig c;
  c.base_url = base_url;
  c.mode = WechatPayConfig::Mode::kDirect;
  c.mchid = kDirectMchid;
  c.merchant_serial_no = PkiLine("merchant_serial");
  c.private_key_file = PkiFile("merchant_key.pem");
  c.public_key_file = PkiFile("pub_key.pem");
  c.public_key_id = PkiLine("pub_key_id");
  c.ca_file = PkiFile("ca.pem");
  c.timeout = std::chrono::seconds(5);
  return c;
}

WechatPayConfig PlatformCertConfig(const std::string& base_url) {
  WechatPayConfig c = DirectConfig(base_url);
  c.public_key_file.clear();
  c.public_key_id.clear();
  c.platform_certificates = {PkiFile("platform_cert.pem"), PkiFile("platform2_cert.pem")};
  return c;
}

WechatPayConfig PartnerConfig(const std::string& base_url) {
  WechatPayConfig c = DirectConfig(base_url);
  c.mode = WechatPayConfig::Mode::kPartner;
  c.mchid.clear();
  c.sp_mchid = kSpMchid;
  c.sub_mchid = kSubMchid;
  return c;
}

class ClientIt : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SimOptions options;
    options.idle_timeout_s = 4;
    sim_ = Simulator::Start(options);
  }
  static void TearDownTestSuite() { sim_.reset(); }

  void SetUp() override {
    ASSERT_NE(sim_, nullptr) << "the simulator did not start";
    sim_->ClearFaults();
    sim_->Configure(R"({"sign_with":"platform","clock_offset_s":0})");
    sim_->ResetStats();
  }

  std::unique_ptr<WechatPayClient> Client(const WechatPayConfig& config,
                                          ClientOptions options = {}) {
    Result<std::unique_ptr<WechatPayClient>> client =
        WechatPayClient::Create(config, clock_, log_, std::move(options));
    EXPECT_TRUE(client.ok()) << client.error().message;
    return client ? std::move(client).value() : nullptr;
  }
  std::unique_ptr<WechatPayClient> Direct() { return Client(DirectConfig(sim_->base_url())); }

  static std::string Order(const std::string& state, int amount = 100) {
    return R"({"trade_state":")" + state + R"(","amount":)" + std::to_string(amount) + "}";
  }

  static std::unique_ptr<Simulator> sim_;
  SystemClock clock_;
  CapturingLogger log_;
};

std::unique_ptr<Simulator> ClientIt::sim_;

TEST_F(ClientIt, QueryReturnsVerifiedTradesForEveryState) {
  sim_->PutOrder("ITQ0001", R"({"trade_state":"SUCCESS","amount":100,)"
                            R"("transaction_id":"4200000001202401010000000001"})");
  sim_->PutOrder("ITQ0002", Order("NOTPAY", 250));
  sim_->PutOrder("ITQ0003", Order("CLOSED"));
  auto client = Direct();
  ASSERT_TRUE(client);

  Result<Trade, PayError> paid = client->Query({"ITQ0001", ""});
  ASSERT_TRUE(paid.ok()) << paid.error().Describe();
  EXPECT_EQ(paid->state, TradeState::kSuccess);
  EXPECT_EQ(paid->amount_total, 100);
  EXPECT_EQ(paid->mchid, kDirectMchid);
  EXPECT_EQ(paid->appid, "wxd678efh567hg6787");
  EXPECT_EQ(paid->out_trade_no, "ITQ0001");
  EXPECT_EQ(paid->transaction_id, "4200000001202401010000000001");
  EXPECT_FALSE(paid->success_time.empty());
  EXPECT_FALSE(paid->request_id.empty());
  EXPECT_NE(QueryAnswerJson(*paid).find("\"verified\":true"), std::string::npos);

  Result<Trade, PayError> unpaid = client->Query({"ITQ0002", ""});
  ASSERT_TRUE(unpaid.ok()) << unpaid.error().Describe();
  EXPECT_EQ(unpaid->state, TradeState::kNotPay);
  EXPECT_EQ(unpaid->amount_total, 250);

  Result<Trade, PayError> closed = client->Query({"ITQ0003", ""});
  ASSERT_TRUE(closed.ok()) << closed.error().Describe();
  EXPECT_EQ(closed->state, TradeState::kClosed);

  Result<Trade, PayError> missing = client->Query({"ITQ0404", ""});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, PayErrorKind::kNotFound) << missing.error().Describe();
  EXPECT_EQ(missing.error().http_status, 404);
  EXPECT_EQ(missing.error().code, "ORDER_NOT_EXIST");
  EXPECT_EQ(sim_->Requests("query"), 4);
  EXPECT_EQ(sim_->Rejected("SIGN_ERROR"), 0);
}

TEST_F(ClientIt, OrderNumbersWithReservedCharactersAreEscapedAndSigned) {
  sim_->PutOrder("IT-a%7Cb%2Ac_1", Order("NOTPAY"));
  auto client = Direct();
  Result<Trade, PayError> t = client->Query({"IT-a|b*c_1", ""});
  ASSERT_TRUE(t.ok()) << t.error().Describe();
  EXPECT_EQ(t->out_trade_no, "IT-a|b*c_1");
}

TEST_F(ClientIt, CloseIsAVerified204AndTheRequeryShowsClosed) {
  sim_->PutOrder("ITC0001", Order("NOTPAY"));
  auto client = Direct();
  Result<CloseAccepted, PayError> closed = client->Close({"ITC0001", ""});
  ASSERT_TRUE(closed.ok()) << closed.error().Describe();
  EXPECT_FALSE(closed->request_id.empty());
  Result<Trade, PayError> after = client->Query({"ITC0001", ""});
  ASSERT_TRUE(after.ok()) << after.error().Describe();
  EXPECT_EQ(after->state, TradeState::kClosed);
  EXPECT_EQ(sim_->OrderRequests("ITC0001", "close"), 1);
  EXPECT_EQ(sim_->OrderRequests("ITC0001", "query"), 1);
}

TEST_F(ClientIt, QueryByTransactionId) {
  sim_->PutOrder("ITT0001", R"({"trade_state":"SUCCESS","amount":5,)"
                            R"("transaction_id":"4200000001202401010000000077"})");
  auto client = Direct();
  Result<Trade, PayError> t = client->QueryByTransactionId("4200000001202401010000000077");
  ASSERT_TRUE(t.ok()) << t.error().Describe();
  EXPECT_EQ(t->out_trade_no, "ITT0001");
}

TEST_F(ClientIt, PartnerModeQueriesAndClosesForTheSubMerchant) {
  sim_->PutOrder("ITP0001", R"({"trade_state":"NOTPAY","amount":3,"sp_mchid":"1900000100",)"
                            R"("sub_mchid":"1900000109"})");
  auto client = Client(PartnerConfig(sim_->base_url()));
  ASSERT_TRUE(client);
  Result<Trade, PayError> t = client->Query({"ITP0001", ""});
  ASSERT_TRUE(t.ok()) << t.error().Describe();
  EXPECT_EQ(t->sp_mchid, kSpMchid);
  EXPECT_EQ(t->sub_mchid, kSubMchid);
  EXPECT_EQ(t->amount_total, 3);
  ASSERT_TRUE(client->Close({"ITP0001", kSubMchid}).ok());
  EXPECT_EQ(client->Query({"ITP0001", ""})->state, TradeState::kClosed);

  // A sub-merchant that does not belong to this service provider.
  Result<Trade, PayError> foreign = client->Query({"ITP0001", "1900000999"});
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().kind, PayErrorKind::kPermanent) << foreign.error().Describe();
  EXPECT_EQ(foreign.error().code, "SIGN_ERROR");
  EXPECT_TRUE(foreign.error().system_wide);
}

TEST_F(ClientIt, PlatformCertificateModeFollowsACertificateRotation) {
  sim_->PutOrder("ITR0001", Order("NOTPAY"));
  auto client = Client(PlatformCertConfig(sim_->base_url()));
  ASSERT_TRUE(client);
  Result<Trade, PayError> old_cert = client->Query({"ITR0001", ""});
  ASSERT_TRUE(old_cert.ok()) << old_cert.error().Describe();
  sim_->Configure(R"({"sign_with":"platform2"})");
  Result<Trade, PayError> new_cert = client->Query({"ITR0001", ""});
  ASSERT_TRUE(new_cert.ok()) << new_cert.error().Describe();

  // A client that only knows the old certificate cannot verify the new one.
  WechatPayConfig old_only = PlatformCertConfig(sim_->base_url());
  old_only.platform_certificates = {PkiFile("platform_cert.pem")};
  Result<Trade, PayError> unknown = Client(old_only)->Query({"ITR0001", ""});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().kind, PayErrorKind::kBadSignature);
  EXPECT_NE(unknown.error().message.find("unknown serial"), std::string::npos)
      << unknown.error().message;
  EXPECT_NE(unknown.error().message.find(PkiLine("platform2_serial")), std::string::npos);
}

TEST_F(ClientIt, PublicKeyModeAsksForAndGetsPublicKeySignatures) {
  // The simulator signs with the public-key-mode key only when asked via Wechatpay-Serial.
  sim_->PutOrder("ITK0001", Order("NOTPAY"));
  WechatPayConfig pubkey_only = DirectConfig(sim_->base_url());
  Result<Trade, PayError> t = Client(pubkey_only)->Query({"ITK0001", ""});
  ASSERT_TRUE(t.ok()) << t.error().Describe();
}

TEST_F(ClientIt, BadSignaturesAreRefused) {
  sim_->PutOrder("ITS0001", Order("SUCCESS"));
  auto client = Direct();
  struct Case {
    const char* fault;
    const char* expect;
  };
  for (const Case& c : {Case{"tamper_signature", "signature mismatch"},
                        Case{"stale_timestamp", "stale timestamp"},
                        Case{"unknown_serial", "unknown serial"},
                        Case{"signtest", "WECHATPAY/SIGNTEST/"}}) {
    sim_->AddFault(std::string(R"({"fault":")") + c.fault + R"(","endpoint":"query"})");
    Result<Trade, PayError> t = client->Query({"ITS0001", ""});
    ASSERT_FALSE(t.ok()) << c.fault;
    EXPECT_EQ(t.error().kind, PayErrorKind::kBadSignature) << t.error().Describe();
    EXPECT_TRUE(t.error().system_wide);
    EXPECT_NE(t.error().message.find(c.expect), std::string::npos) << t.error().message;
  }
  // Faults were used up: the next answer verifies again.
  EXPECT_TRUE(client->Query({"ITS0001", ""}).ok());

  // A close whose 204 does not verify: the close may have happened; not "accepted".
  sim_->PutOrder("ITS0002", Order("NOTPAY"));
  sim_->AddFault(R"({"fault":"tamper_signature","endpoint":"close"})");
  Result<CloseAccepted, PayError> closed = client->Close({"ITS0002", ""});
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error().kind, PayErrorKind::kBadSignature);
  EXPECT_EQ(closed.error().http_status, 204);
}

TEST_F(ClientIt, ErrorAnswersAreClassified) {
  sim_->PutOrder("ITE0001", Order("NOTPAY"));
  auto client = Direct();
  struct Case {
    const char* fault;
    bool close;
    PayErrorKind kind;
    bool system_wide;
    int status;
  };
  for (const Case& c : {Case{"http500", false, PayErrorKind::kTransient, true, 500},
                        Case{"http502", true, PayErrorKind::kTransient, true, 502},
                        Case{"system_error", false, PayErrorKind::kTransient, true, 500},
                        Case{"http429", false, PayErrorKind::kThrottled, true, 429},
                        Case{"close_user_paying", true, PayErrorKind::kUserPaying, false, 202},
                        Case{"close_frequency_limited", true, PayErrorKind::kThrottled, false, 403}}) {
    sim_->AddFault(std::string(R"({"fault":")") + c.fault + R"("})");
    PayError e = c.close ? client->Close({"ITE0001", ""}).error()
                         : client->Query({"ITE0001", ""}).error();
    EXPECT_EQ(PayErrorKindName(e.kind), PayErrorKindName(c.kind)) << c.fault << ": " << e.Describe();
    EXPECT_EQ(e.system_wide, c.system_wide) << c.fault;
    EXPECT_EQ(e.http_status, c.status) << c.fault;
  }
  // The buyer pays at the moment the close arrives.
  sim_->AddFault(R"({"fault":"pay_on_close"})");
  Result<CloseAccepted, PayError> close = client->Close({"ITE0001", ""});
  ASSERT_FALSE(close.ok());
  EXPECT_EQ(close.error().kind, PayErrorKind::kPaid) << close.error().Describe();
  EXPECT_EQ(client->Query({"ITE0001", ""})->state, TradeState::kSuccess);
}

TEST_F(ClientIt, ADroppedConnectionIsTransientAndTheRequestIsNeverResent) {
  sim_->PutOrder("ITD0001", Order("NOTPAY"));
  auto client = Direct();
  // Warm a keep-alive connection: libcurl would silently resend on it.
  ASSERT_TRUE(client->Query({"ITD0001", ""}).ok());
  sim_->ResetStats();
  TransportStats before = client->transport_stats();
  sim_->AddFault(R"({"fault":"drop","endpoint":"close"})");
  Result<CloseAccepted, PayError> closed = client->Close({"ITD0001", ""});
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error().kind, PayErrorKind::kTransient);
  EXPECT_TRUE(closed.error().system_wide);
  EXPECT_NE(closed.error().message.find("may have reached WeChat Pay"), std::string::npos)
      << closed.error().message;
  EXPECT_EQ(sim_->Requests("close"), 1);
  EXPECT_EQ(client->transport_stats().replays_blocked, before.replays_blocked + 1);

  // On a fresh connection too.
  sim_->ResetStats();
  sim_->AddFault(R"({"fault":"drop","endpoint":"query"})");
  Result<Trade, PayError> queried = Direct()->Query({"ITD0001", ""});
  ASSERT_FALSE(queried.ok());
  EXPECT_EQ(queried.error().kind, PayErrorKind::kTransient);
  EXPECT_EQ(sim_->Requests("query"), 1);

  // A reset (RST) likewise.
  sim_->ResetStats();
  sim_->AddFault(R"({"fault":"reset","endpoint":"close"})");
  EXPECT_FALSE(client->Close({"ITD0001", ""}).ok());
  EXPECT_EQ(sim_->Requests("close"), 1);
  // And the next request works.
  EXPECT_TRUE(client->Close({"ITD0001", ""}).ok());
}

TEST_F(ClientIt, KeepAliveReusesOneConnection) {
  sim_->PutOrder("ITA0001", Order("NOTPAY"));
  auto client = Direct();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client->Query({"ITA0001", ""}).ok());
  EXPECT_EQ(client->transport_stats().new_connections, 1u);
  EXPECT_EQ(sim_->Requests("query"), 5);
}

TEST_F(ClientIt, ConnectionsIdleLongerThanTheLimitAreNotReused) {
  sim_->PutOrder("ITI0001", Order("NOTPAY"));
  ClientOptions options;
  options.max_idle_connection = std::chrono::seconds(1);
  auto client = Client(DirectConfig(sim_->base_url()), options);
  ASSERT_TRUE(client->Query({"ITI0001", ""}).ok());
  // Idle time is what is being tested: there is nothing to poll for.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  Result<Trade, PayError> again = client->Query({"ITI0001", ""});
  ASSERT_TRUE(again.ok()) << again.error().Describe();
  EXPECT_EQ(client->transport_stats().new_connections, 2u);
  EXPECT_EQ(client->transport_stats().replays_blocked, 0u);
  EXPECT_EQ(sim_->Requests("query"), 2);
}

TEST_F(ClientIt, AConnectionTheServerClosedWhileIdleIsReplacedWithoutReplay) {
  SimOptions options;
  options.idle_timeout_s = 1;  // WeChat Pay closes at ~8 s; here at 1 s
  std::unique_ptr<Simulator> sim = Simulator::Start(options);
  ASSERT_TRUE(sim);
  sim->PutOrder("ITI0002", Order("NOTPAY"));
  auto client = Client(DirectConfig(sim->base_url()));  // default 7 s idle limit
  ASSERT_TRUE(client->Query({"ITI0002", ""}).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  Result<Trade, PayError> again = client->Query({"ITI0002", ""});
  ASSERT_TRUE(again.ok()) << again.error().Describe();
  EXPECT_EQ(client->transport_stats().new_connections, 2u);
  EXPECT_EQ(sim->Requests("query"), 2);
}

TEST_F(ClientIt, FailsOverToTheBackupWhenThePrimaryRefusesConnections) {
  sim_->PutOrder("ITF0001", Order("NOTPAY"));
  WechatPayConfig config =
      DirectConfig("https://127.0.0.1:" + std::to_string(ClosedLoopbackPort()));
  config.backup_base_url = sim_->base_url();
  auto client = Client(config);
  Result<Trade, PayError> t = client->Query({"ITF0001", ""});
  ASSERT_TRUE(t.ok()) << t.error().Describe();
  EXPECT_EQ(sim_->Requests("query"), 1);
  EXPECT_TRUE(log_.Contains("trying " + sim_->base_url()));

  // Nothing reachable: transient, system-wide, nothing sent anywhere.
  WechatPayConfig nowhere =
      DirectConfig("https://127.0.0.1:" + std::to_string(ClosedLoopbackPort()));
  nowhere.backup_base_url = "https://127.0.0.1:" + std::to_string(ClosedLoopbackPort());
  Result<Trade, PayError> none = Client(nowhere)->Query({"ITF0001", ""});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind, PayErrorKind::kTransient);
  EXPECT_TRUE(none.error().system_wide);
  EXPECT_NE(none.error().message.find("cannot connect"), std::string::npos)
      << none.error().message;
}

TEST_F(ClientIt, ServesSeveralThreadsAtOnce) {
  constexpr int kThreads = 8;
  constexpr int kEach = 5;
  for (int t = 0; t < kThreads; ++t) sim_->PutOrder("ITM000" + std::to_string(t), Order("NOTPAY"));
  auto client = Direct();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        Result<Trade, PayError> r = client->Query({"ITM000" + std::to_string(t), ""});
        if (r.ok() && r->out_trade_no == "ITM000" + std::to_string(t)) ++ok;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kEach);
  EXPECT_EQ(sim_->Requests("query"), kThreads * kEach);
  EXPECT_LE(client->transport_stats().new_connections, static_cast<uint64_t>(kThreads));
}

TEST_F(ClientIt, TheRateLimitHoldsBackRequests) {
  sim_->PutOrder("ITL0001", Order("NOTPAY"));
  WechatPayConfig config = DirectConfig(sim_->base_url());
  config.max_requests_per_second = 2;
  ClientOptions options;
  options.max_rate_wait = std::chrono::milliseconds(100);
  auto client = Client(config, options);
  EXPECT_TRUE(client->Query({"ITL0001", ""}).ok());
  EXPECT_TRUE(client->Query({"ITL0001", ""}).ok());
  Result<Trade, PayError> third = client->Query({"ITL0001", ""});
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().kind, PayErrorKind::kThrottled);
  EXPECT_EQ(sim_->Requests("query"), 2);
}

TEST_F(ClientIt, CertificateVerificationIsAlwaysOn) {
  sim_->PutOrder("ITV0001", Order("NOTPAY"));
  WechatPayConfig config = DirectConfig(sim_->base_url());
  config.ca_file.clear();  // the test CA is not in the system store
  Result<Trade, PayError> t = Client(config)->Query({"ITV0001", ""});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().kind, PayErrorKind::kTransient);
  EXPECT_NE(t.error().message.find("TLS"), std::string::npos) << t.error().message;
  EXPECT_EQ(sim_->Requests("query"), 0);
}

TEST_F(ClientIt, SignErrorsFromWeChatPayArePermanentAndSystemWide) {
  sim_->PutOrder("ITX0001", Order("NOTPAY"));
  WechatPayConfig config = DirectConfig(sim_->base_url());
  config.merchant_serial_no = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
  Result<Trade, PayError> t = Client(config)->Query({"ITX0001", ""});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().kind, PayErrorKind::kPermanent) << t.error().Describe();
  EXPECT_EQ(t.error().code, "SIGN_ERROR");
  EXPECT_EQ(t.error().http_status, 401);
  EXPECT_TRUE(t.error().system_wide);
}

TEST_F(ClientIt, ClockSkewIsSystemWideAndSaysCheckTheClock) {
  sim_->PutOrder("ITX0002", Order("NOTPAY"));
  sim_->Configure(R"({"clock_offset_s":600})");
  Result<Trade, PayError> t = Direct()->Query({"ITX0002", ""});
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(t.error().system_wide) << t.error().Describe();
  EXPECT_NE(t.error().message.find("clock"), std::string::npos) << t.error().Describe();
  EXPECT_EQ(sim_->Rejected("SIGN_ERROR"), 1);
}

TEST(ClientItPlainHttp, PlainHttpToLoopbackOnlyWhenAllowed) {
  SimOptions options;
  options.plain_http = true;
  std::unique_ptr<Simulator> sim = Simulator::Start(options);
  ASSERT_TRUE(sim);
  sim->PutOrder("ITH0001", R"({"trade_state":"NOTPAY","amount":1})");
  SystemClock clock;
  CapturingLogger log;
  WechatPayConfig config = DirectConfig(sim->base_url());
  auto refused = WechatPayClient::Create(config, clock, log);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("allow_plain_http"), std::string::npos);
  config.allow_plain_http = true;
  auto client = WechatPayClient::Create(config, clock, log);
  ASSERT_TRUE(client.ok()) << client.error().message;
  Result<Trade, PayError> t = (*client)->Query({"ITH0001", ""});
  ASSERT_TRUE(t.ok()) << t.error().Describe();
  Result<Trade, PayError> missing = (*client)->Query({"ITH0404", ""});
  EXPECT_EQ(missing.error().kind, PayErrorKind::kNotFound);
}

}  // namespace
}  // namespace wxpay
