#include "wechatpay/rsa_sha256.h"

#include <openssl/err.h>
#include <openssl/rsa.h>

#include <vector>

#include "wechatpay/base64.h"
#include "wechatpay/openssl_handles.h"

namespace wxpay {

Result<std::string> SignSha256WithRsa(EVP_PKEY* key, std::string_view message) {
  ERR_clear_error();
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
    return Fail("signing the request failed: " + DrainOpenSslErrors());
  }
  size_t length = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(message.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &length, data, message.size()) != 1) {
    return Fail("signing the request failed: " + DrainOpenSslErrors());
  }
  std::vector<unsigned char> signature(length);
  if (EVP_DigestSign(ctx.get(), signature.data(), &length, data, message.size()) != 1) {
    return Fail("signing the request failed: " + DrainOpenSslErrors());
  }
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(signature.data()), length));
}

bool VerifySha256WithRsa(EVP_PKEY* key, std::string_view message, std::string_view signature) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key) == 1 &&
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(),
                             reinterpret_cast<const unsigned char*>(message.data()),
                             message.size()) == 1;
  // A mismatch leaves reasons on the thread's error queue; they say nothing
  // useful to an operator and must not leak into the next unrelated error.
  ERR_clear_error();
  return ok;
}

}  // namespace wxpay
