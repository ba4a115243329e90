#include "wechatpay/request_signer.h"

#include <chrono>

#include "wechatpay/rsa_sha256.h"

namespace wxpay {

std::string RequestStringToSign(std::string_view method, std::string_view path_and_query,
                                int64_t timestamp, std::string_view nonce, std::string_view body) {
  std::string s;
  s.reserve(method.size() + path_and_query.size() + nonce.size() + body.size() + 32);
  s.append(method).append("\n");
  s.append(path_and_query).append("\n");
  s.append(std::to_string(timestamp)).append("\n");
  s.append(nonce).append("\n");
  s.append(body).append("\n");
  return s;
}

std::string FormatAuthorization(const AuthorizationFields& f) {
  return "WECHATPAY2-SHA256-RSA2048 mchid=\"" + f.mchid + "\",nonce_str=\"" + f.nonce +
         "\",signature=\"" + f.signature + "\",timestamp=\"" + std::to_string(f.timestamp) +
         "\",serial_no=\"" + f.serial_no + "\"";
}

Result<std::string> RequestSigner::Authorize(const SigningIdentity& who, std::string_view method,
                                             std::string_view path_and_query,
                                             std::string_view body) const {
  Result<std::string> nonce = nonces_.Next();
  if (!nonce) return nonce.error();
  AuthorizationFields f;
  f.mchid = std::string(who.mchid);
  f.serial_no = std::string(who.serial_no);
  f.nonce = std::move(nonce).value();
  f.timestamp =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  Result<std::string> signature = SignSha256WithRsa(
      who.private_key, RequestStringToSign(method, path_and_query, f.timestamp, f.nonce, body));
  if (!signature) return signature.error();
  f.signature = std::move(signature).value();
  return FormatAuthorization(f);
}

}  // namespace wxpay
