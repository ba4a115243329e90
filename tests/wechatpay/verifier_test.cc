// Response verification: R1 (204), R2 (200), V4 (real SDK vector), key
// selection by Wechatpay-Serial, rotation, probes and clock-skew boundaries.
#include "wechatpay/response_verifier.h"

#include <gtest/gtest.h>

#include "wechatpay/pem_files.h"
#include "wechatpay/test_data.h"

namespace wxpay {
namespace {

using testing::FromUnixSeconds;
using testing::Kat;
using testing::LoadPrivateKeyOrDie;
using testing::SignAnswer;
using testing::VectorPath;

constexpr const char* kPubKeyId = "PUB_KEY_ID_0114232134912410000000000000000001";
constexpr int64_t kR = 1722850421;  // R1/R2 timestamp
constexpr const char* kRNonce = "d824f2e086d3c1df967785d13fcd22ef";
constexpr const char* kJavaCertSerial = "440024045C4A427599D09BB4E3DE0279F2E813FD";
constexpr const char* kGoCertSerial = "F5765756002FDD77";

SharedPkey PublicKey(std::string_view file) {
  Result<EvpPkeyPtr> key = LoadPublicKeyFile(VectorPath(file));
  EXPECT_TRUE(key.ok()) << (key ? "" : key.error().message);
  return key ? Share(std::move(key).value()) : nullptr;
}

PlatformCertificate Cert(std::string_view file) {
  Result<Certificate> cert = LoadCertificateFile(VectorPath(file));
  EXPECT_TRUE(cert.ok()) << (cert ? "" : cert.error().message);
  if (!cert) return {};
  return {cert->serial, Share(std::move(cert->public_key)), cert->not_after};
}

KeySet PublicKeyMode() {
  KeySet keys;
  keys.public_key_id = kPubKeyId;
  keys.wechatpay_public_key = PublicKey("v6_java_wechat_pay_public_key.pem");
  return keys;
}

KeySet CertificateMode() {
  KeySet keys;
  keys.platform_certificates.push_back(Cert("v6_java_wechat_pay_certificate.pem"));
  keys.platform_certificates.push_back(Cert("v2_go_cert_F5765756002FDD77.pem"));
  return keys;
}

HttpHeaders VectorHeaders(std::string_view vector, std::string_view serial) {
  HttpHeaders h;
  h.Add("Wechatpay-Timestamp", std::to_string(kR));
  h.Add("Wechatpay-Nonce", kRNonce);
  h.Add("Wechatpay-Signature", Kat(vector, "signature"));
  h.Add("Wechatpay-Serial", std::string(serial));
  return h;
}

class VerifierTest : public ::testing::Test {
 protected:
  ManualClock clock_{FromUnixSeconds(kR)};
  ResponseVerifier verifier_{clock_};
};

TEST_F(VerifierTest, R1EmptyBodyOf204VerifiesWithThePublicKey) {
  EXPECT_EQ(ResponseStringToSign(std::to_string(kR), kRNonce, ""), Kat("R1", "string_to_sign"));
  Status s = verifier_.Verify(PublicKeyMode(), VectorHeaders("R1", kPubKeyId), "");
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_FALSE(verifier_.Verify(PublicKeyMode(), VectorHeaders("R1", kPubKeyId), "{}").ok());
}

TEST_F(VerifierTest, R2QueryBodyVerifiesWithThePublicKeyAndTheCertificate) {
  std::string body = Kat("R2", "body");
  EXPECT_EQ(ResponseStringToSign(std::to_string(kR), kRNonce, body), Kat("R2", "string_to_sign"));
  Status by_key = verifier_.Verify(PublicKeyMode(), VectorHeaders("R2", kPubKeyId), body);
  EXPECT_TRUE(by_key.ok()) << by_key.message();
  Status by_cert = verifier_.Verify(CertificateMode(), VectorHeaders("R2", kJavaCertSerial), body);
  EXPECT_TRUE(by_cert.ok()) << by_cert.message();
  // Serials match however they are cased or zero-padded.
  Status lower = verifier_.Verify(CertificateMode(),
                                  VectorHeaders("R2", "00440024045c4a427599d09bb4e3de0279f2e813fd"),
                                  body);
  EXPECT_TRUE(lower.ok()) << lower.message();
}

TEST_F(VerifierTest, R2TamperedBodyIsASignatureMismatch) {
  std::string body = Kat("R2", "body");
  body.replace(body.find("\"total\":100"), 11, "\"total\":1  ");
  Status s = verifier_.Verify(PublicKeyMode(), VectorHeaders("R2", kPubKeyId), body);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("signature mismatch"), std::string::npos) << s.message();
}

TEST_F(VerifierTest, V4NotificationFromWechatpayGoVerifiesWithItsPlatformCertificate) {
  clock_.Set(FromUnixSeconds(std::stoll(Kat("V4", "now"))));
  KeySet keys;
  keys.platform_certificates.push_back(Cert("v4_go_cert_D7CE59D1F522D701.pem"));
  ASSERT_EQ(keys.platform_certificates[0].serial, Kat("V4", "serial"));
  HttpHeaders h;
  h.Add("Wechatpay-Nonce", Kat("V4", "nonce"));
  h.Add("Wechatpay-Timestamp", Kat("V4", "timestamp"));
  h.Add("Wechatpay-Serial", Kat("V4", "serial"));
  h.Add("Wechatpay-Signature", Kat("V4", "signature"));
  Status s = verifier_.Verify(keys, h, Kat("V4", "body"));
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_FALSE(verifier_.Verify(keys, h, Kat("V4", "body") + " ").ok());
}

TEST_F(VerifierTest, HeaderNamesAreCaseInsensitive) {
  HttpHeaders h;
  h.Add("wechatpay-timestamp", std::to_string(kR));
  h.Add("WECHATPAY-NONCE", kRNonce);
  h.Add("wechatpay-Signature", Kat("R1", "signature"));
  h.Add("WeChatPay-Serial", kPubKeyId);
  Status s = verifier_.Verify(PublicKeyMode(), h, "");
  EXPECT_TRUE(s.ok()) << s.message();
}

TEST_F(VerifierTest, RotationVerifiesWithWhicheverCertificateTheSerialNames) {
  EvpPkeyPtr go_key = LoadPrivateKeyOrDie("v1_go_private_key.pem");
  EvpPkeyPtr java_key = LoadPrivateKeyOrDie("v6_java_wechat_pay_private_key.pem");
  ASSERT_TRUE(go_key && java_key);
  std::string body = R"({"trade_state":"NOTPAY"})";
  KeySet keys = CertificateMode();
  Status old_cert = verifier_.Verify(
      keys, SignAnswer(java_key.get(), kJavaCertSerial, kR, "n1", body), body);
  EXPECT_TRUE(old_cert.ok()) << old_cert.message();
  Status new_cert =
      verifier_.Verify(keys, SignAnswer(go_key.get(), kGoCertSerial, kR, "n2", body), body);
  EXPECT_TRUE(new_cert.ok()) << new_cert.message();
  // Signed by the new key but claiming the old serial: refused.
  Status crossed =
      verifier_.Verify(keys, SignAnswer(go_key.get(), kJavaCertSerial, kR, "n3", body), body);
  ASSERT_FALSE(crossed.ok());
  EXPECT_NE(crossed.message().find("signature mismatch"), std::string::npos);
}

TEST_F(VerifierTest, UnknownSerialSaysWhatToConfigure) {
  Status s = verifier_.Verify(CertificateMode(), VectorHeaders("R2", "5157F09EFDC096DE"),
                              Kat("R2", "body"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("unknown serial \"5157F09EFDC096DE\""), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("platform_certificates"), std::string::npos) << s.message();
}

TEST_F(VerifierTest, PublicKeyIdMustMatchTheConfiguredOne) {
  Status other = verifier_.Verify(PublicKeyMode(),
                                  VectorHeaders("R1", "PUB_KEY_ID_0000000000000024101100397200000006"), "");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.message().find("unknown serial"), std::string::npos) << other.message();
  EXPECT_NE(other.message().find(kPubKeyId), std::string::npos) << other.message();
  // A PUB_KEY_ID_ serial never falls back to platform certificates.
  Status no_key = verifier_.Verify(CertificateMode(), VectorHeaders("R1", kPubKeyId), "");
  ASSERT_FALSE(no_key.ok());
  EXPECT_NE(no_key.message().find("no WeChat Pay public key configured"), std::string::npos)
      << no_key.message();
}

TEST_F(VerifierTest, SignTestProbeIsRefusedCleanly) {
  HttpHeaders h = VectorHeaders("R1", kPubKeyId);
  HttpHeaders probe;
  for (const auto& [name, value] : h.entries()) {
    probe.Add(name, name == "Wechatpay-Signature" ? "WECHATPAY/SIGNTEST/" + value : value);
  }
  Status s = verifier_.Verify(PublicKeyMode(), probe, "");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("WECHATPAY/SIGNTEST/"), std::string::npos) << s.message();
}

TEST_F(VerifierTest, NonBase64SignatureIsRefusedCleanly) {
  for (const char* garbage : {"%%%not-base64%%%", "abc", "QUJD\n", "QUJD===="}) {
    HttpHeaders h;
    h.Add("Wechatpay-Timestamp", std::to_string(kR));
    h.Add("Wechatpay-Nonce", kRNonce);
    h.Add("Wechatpay-Signature", garbage);
    h.Add("Wechatpay-Serial", kPubKeyId);
    Status s = verifier_.Verify(PublicKeyMode(), h, "");
    ASSERT_FALSE(s.ok()) << garbage;
    EXPECT_NE(s.message().find("not valid Base64"), std::string::npos) << s.message();
  }
  // Valid Base64 of the wrong length is a mismatch, not a crash.
  HttpHeaders h = VectorHeaders("R1", kPubKeyId);
  HttpHeaders short_sig;
  for (const auto& [name, value] : h.entries()) {
    short_sig.Add(name, name == "Wechatpay-Signature" ? "QUJD" : value);
  }
  Status s = verifier_.Verify(PublicKeyMode(), short_sig, "");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("signature mismatch"), std::string::npos) << s.message();
}

TEST_F(VerifierTest, ClockSkewBoundaryIs300SecondsBothWays) {
  KeySet keys = PublicKeyMode();
  HttpHeaders h = VectorHeaders("R1", kPubKeyId);
  clock_.Set(FromUnixSeconds(kR + 299));
  EXPECT_TRUE(verifier_.Verify(keys, h, "").ok());
  clock_.Set(FromUnixSeconds(kR - 299));
  EXPECT_TRUE(verifier_.Verify(keys, h, "").ok());

  clock_.Set(FromUnixSeconds(kR + 300));
  Status past = verifier_.Verify(keys, h, "");
  ASSERT_FALSE(past.ok());
  EXPECT_NE(past.message().find("stale timestamp"), std::string::npos) << past.message();
  EXPECT_NE(past.message().find("300 s in the past"), std::string::npos) << past.message();
  EXPECT_NE(past.message().find("check the server clock"), std::string::npos) << past.message();

  clock_.Set(FromUnixSeconds(kR - 300));
  Status future = verifier_.Verify(keys, h, "");
  ASSERT_FALSE(future.ok());
  EXPECT_NE(future.message().find("300 s in the future"), std::string::npos) << future.message();

  clock_.Set(FromUnixSeconds(kR + 3600));
  Status hour = verifier_.Verify(keys, h, "");
  EXPECT_NE(hour.message().find("3600 s in the past"), std::string::npos) << hour.message();
}

TEST_F(VerifierTest, MalformedTimestampIsRefused) {
  for (const char* ts : {"abc", "", "-1722850421", "+1722850421", "1722850421.0", " 1722850421",
                         "17228504210000000000000"}) {
    HttpHeaders h;
    h.Add("Wechatpay-Timestamp", ts);
    h.Add("Wechatpay-Nonce", kRNonce);
    h.Add("Wechatpay-Signature", Kat("R1", "signature"));
    h.Add("Wechatpay-Serial", kPubKeyId);
    Status s = verifier_.Verify(PublicKeyMode(), h, "");
    EXPECT_FALSE(s.ok()) << ts;
  }
  // Milliseconds are not seconds: far in the future.
  HttpHeaders ms;
  ms.Add("Wechatpay-Timestamp", std::to_string(kR) + "000");
  ms.Add("Wechatpay-Nonce", kRNonce);
  ms.Add("Wechatpay-Signature", Kat("R1", "signature"));
  ms.Add("Wechatpay-Serial", kPubKeyId);
  Status s = verifier_.Verify(PublicKeyMode(), ms, "");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("in the future"), std::string::npos) << s.message();
}

TEST_F(VerifierTest, EveryMissingHeaderIsNamed) {
  HttpHeaders full = VectorHeaders("R1", kPubKeyId);
  for (const char* missing :
       {"Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial"}) {
    HttpHeaders h;
    for (const auto& [name, value] : full.entries()) {
      if (name != missing) h.Add(name, value);
    }
    Status s = verifier_.Verify(PublicKeyMode(), h, "");
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find(std::string("missing ") + missing), std::string::npos)
        << s.message();
    EXPECT_TRUE(HasSignatureHeaders(h));
  }
  EXPECT_FALSE(HasSignatureHeaders(HttpHeaders()));
}

TEST_F(VerifierTest, ForeignSignatureTypeIsRefused) {
  HttpHeaders h = VectorHeaders("R1", kPubKeyId);
  h.Add("Wechatpay-Signature-Type", "WECHATPAY2-SM2-WITH-SM3");
  EXPECT_FALSE(verifier_.Verify(PublicKeyMode(), h, "").ok());
  HttpHeaders ok = VectorHeaders("R1", kPubKeyId);
  ok.Add("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048");
  EXPECT_TRUE(verifier_.Verify(PublicKeyMode(), ok, "").ok());
}

TEST_F(VerifierTest, NetworkTextInMessagesIsShortAndPrintable) {
  HttpHeaders h = VectorHeaders("R1", std::string(200, 'A') + "\n\x01");
  Status s = verifier_.Verify(CertificateMode(), h, "");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().find('\n'), std::string::npos);
  EXPECT_LT(s.message().size(), 400u);
}

}  // namespace
}  // namespace wxpay
