// Known-answer tests from wechatpay-vectors.md: V1, V6, V11, D1-D5.
#include <gtest/gtest.h>

#include <set>

#include "wechatpay/base64.h"
#include "wechatpay/pem_files.h"
#include "wechatpay/request_signer.h"
#include "wechatpay/rsa_sha256.h"
#include "wechatpay/test_data.h"

namespace wxpay {
namespace {

using testing::AuthorizationParams;
using testing::FixedNonceSource;
using testing::FromUnixSeconds;
using testing::Kat;
using testing::LoadPrivateKeyOrDie;
using testing::VectorPath;

std::string Sign(std::string_view key_file, std::string_view message) {
  EvpPkeyPtr key = LoadPrivateKeyOrDie(key_file);
  if (!key) return "";
  Result<std::string> signature = SignSha256WithRsa(key.get(), message);
  EXPECT_TRUE(signature.ok()) << (signature ? "" : signature.error().message);
  return signature ? *signature : "";
}

TEST(RsaSha256, V1SignsSourceWithGoKey) {
  EXPECT_EQ(Sign(Kat("V1", "key"), Kat("V1", "message")), Kat("V1", "signature"));
}

TEST(RsaSha256, V6SignsMessageWithJavaMerchantKey) {
  EXPECT_EQ(Sign(Kat("V6", "key"), Kat("V6", "message")), Kat("V6", "signature"));
}

TEST(RsaSha256, V11SignsTheOfficialDocRequestWithPkcs8AndPkcs1Keys) {
  EXPECT_EQ(Sign(Kat("V11", "key"), Kat("V11", "string_to_sign")), Kat("V11", "signature"));
  EXPECT_EQ(Sign(Kat("V11", "key_pkcs1"), Kat("V11", "string_to_sign")), Kat("V11", "signature"));
}

TEST(RsaSha256, V2VerifiesV1AndRefusesAnotherMessageOrKey) {
  Result<EvpPkeyPtr> pub = LoadPublicKeyFile(VectorPath("v2_go_public_key.pem"));
  ASSERT_TRUE(pub.ok()) << pub.error().message;
  std::string raw = *Base64DecodeStrict(Kat("V1", "signature"));
  EXPECT_TRUE(VerifySha256WithRsa(pub->get(), "source", raw));
  EXPECT_FALSE(VerifySha256WithRsa(pub->get(), "wrong source", raw));
  EXPECT_FALSE(VerifySha256WithRsa(pub->get(), "", raw));
  EXPECT_FALSE(VerifySha256WithRsa(pub->get(), "source", ""));
  // V6 negative: the merchant's signature does not verify with WeChat Pay's key.
  Result<EvpPkeyPtr> wxp = LoadPublicKeyFile(VectorPath("v6_java_wechat_pay_public_key.pem"));
  ASSERT_TRUE(wxp.ok());
  EXPECT_FALSE(
      VerifySha256WithRsa(wxp->get(), "message", *Base64DecodeStrict(Kat("V6", "signature"))));
  Result<Certificate> cert = LoadCertificateFile(VectorPath("v6_java_merchant_certificate.pem"));
  ASSERT_TRUE(cert.ok());
  EXPECT_TRUE(VerifySha256WithRsa(cert->public_key.get(), "message",
                                  *Base64DecodeStrict(Kat("V6", "signature"))));
}

// D1-D5: the daemon's exact request shapes, built from their parts.
struct DerivedCase {
  const char* vector;
  const char* method;
  const char* path_and_query;
  int64_t timestamp;
  const char* nonce;
  const char* body;
};

class DerivedRequestVectors : public ::testing::TestWithParam<DerivedCase> {};

TEST_P(DerivedRequestVectors, StringToSignAndSignatureMatch) {
  const DerivedCase& c = GetParam();
  std::string sts = RequestStringToSign(c.method, c.path_and_query, c.timestamp, c.nonce, c.body);
  EXPECT_EQ(sts, Kat(c.vector, "string_to_sign"));
  EXPECT_EQ(Sign(Kat(c.vector, "key"), sts), Kat(c.vector, "signature"));
}

constexpr const char* kNo = "1217752501201407033233368018";
constexpr const char* kDocNonce = "593BEC0C930BF1AFEB40B4A08C8FB242";

INSTANTIATE_TEST_SUITE_P(
    Kat, DerivedRequestVectors,
    ::testing::Values(
        DerivedCase{"D1", "GET", "/v3/pay/transactions/id/1217752501201407033233368018?mchid=1230000109",
                    1652750623, "eBYqCOxa0QudMnPvVilkTzOg3gHh5Z3u", ""},
        DerivedCase{"D2", "GET",
                    "/v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid=1230000109",
                    1554208460, kDocNonce, ""},
        DerivedCase{"D3", "POST",
                    "/v3/pay/transactions/out-trade-no/1217752501201407033233368018/close",
                    1554208460, kDocNonce, "{\"mchid\":\"1230000109\"}"},
        DerivedCase{"D4", "GET",
                    "/v3/pay/partner/transactions/out-trade-no/"
                    "1217752501201407033233368018?sp_mchid=1230000109&sub_mchid=1900000109",
                    1554208460, kDocNonce, ""},
        DerivedCase{"D5", "POST",
                    "/v3/pay/partner/transactions/out-trade-no/1217752501201407033233368018/close",
                    1554208460, kDocNonce,
                    "{\"sp_mchid\":\"1230000109\",\"sub_mchid\":\"1900000109\"}"}),
    [](const auto& param_info) { return std::string(param_info.param.vector); });

TEST(RequestSigner, V11AuthorizationHeaderIsByteIdenticalToTheOfficialExample) {
  AuthorizationFields f;
  f.mchid = "1900007291";
  f.nonce = kDocNonce;
  f.signature = Kat("V11", "signature");
  f.timestamp = 1554208460;
  f.serial_no = "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB";
  EXPECT_EQ(FormatAuthorization(f), Kat("V11", "authorization"));
}

TEST(RequestSigner, D1AuthorizationWithInjectedClockAndNonce) {
  ManualClock clock(FromUnixSeconds(1652750623));
  FixedNonceSource nonces({"eBYqCOxa0QudMnPvVilkTzOg3gHh5Z3u"});
  RequestSigner signer(clock, nonces);
  EvpPkeyPtr key = LoadPrivateKeyOrDie(Kat("D1", "key"));
  ASSERT_TRUE(key);
  Result<std::string> header = signer.Authorize(
      {key.get(), "1234567891", "5F1C72E2A8931B72A2E13AF8DEE92471EB397115"}, "GET",
      "/v3/pay/transactions/id/1217752501201407033233368018?mchid=1230000109", "");
  ASSERT_TRUE(header.ok()) << header.error().message;
  EXPECT_EQ(AuthorizationParams(*header), AuthorizationParams(Kat("D1", "authorization")));
}

TEST(RequestSigner, D2AuthorizationWithInjectedClockAndNonce) {
  ManualClock clock(FromUnixSeconds(1554208460));
  FixedNonceSource nonces({kDocNonce});
  RequestSigner signer(clock, nonces);
  EvpPkeyPtr key = LoadPrivateKeyOrDie(Kat("D2", "key"));
  ASSERT_TRUE(key);
  Result<std::string> header =
      signer.Authorize({key.get(), "1230000109", "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB"},
                       "GET", std::string("/v3/pay/transactions/out-trade-no/") + kNo +
                                  "?mchid=1230000109", "");
  ASSERT_TRUE(header.ok()) << header.error().message;
  EXPECT_EQ(AuthorizationParams(*header), AuthorizationParams(Kat("D2", "authorization")));
}

TEST(RequestSigner, EverySignatureTakesTheCurrentTimeAndANewNonce) {
  ManualClock clock(FromUnixSeconds(1554208460));
  RandomNonceSource nonces;
  RequestSigner signer(clock, nonces);
  EvpPkeyPtr key = LoadPrivateKeyOrDie(Kat("D2", "key"));
  ASSERT_TRUE(key);
  SigningIdentity who{key.get(), "1230000109", "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB"};
  Result<std::string> first = signer.Authorize(who, "GET", "/v3/x", "");
  clock.Advance(std::chrono::seconds(7));
  Result<std::string> second = signer.Authorize(who, "GET", "/v3/x", "");
  ASSERT_TRUE(first.ok() && second.ok());
  auto a = AuthorizationParams(*first);
  auto b = AuthorizationParams(*second);
  ASSERT_EQ(a.size(), 5u);
  ASSERT_EQ(b.size(), 5u);
  // Sorted keys: mchid, nonce_str, serial_no, signature, timestamp.
  EXPECT_NE(a[1].second, b[1].second);
  EXPECT_NE(a[3].second, b[3].second);
  EXPECT_EQ(a[4].second, "1554208460");
  EXPECT_EQ(b[4].second, "1554208467");
}

TEST(RandomNonceSource, Gives32AlphanumericCharactersNeverTheSameTwice) {
  RandomNonceSource nonces;
  std::set<std::string> seen;
  std::set<char> chars;
  for (int i = 0; i < 200; ++i) {
    Result<std::string> n = nonces.Next();
    ASSERT_TRUE(n.ok());
    ASSERT_EQ(n->size(), 32u);
    for (char c : *n) {
      ASSERT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << *n;
      chars.insert(c);
    }
    seen.insert(*n);
  }
  EXPECT_EQ(seen.size(), 200u);
  EXPECT_EQ(chars.size(), 62u);  // 6400 draws reach every character
}

}  // namespace
}  // namespace wxpay
