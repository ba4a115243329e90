#include "wechatpay/nonce.h"

#include <openssl/rand.h>

#include <array>
#include <string_view>

namespace wxpay {
namespace {

constexpr std::string_view kAlnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr size_t kNonceLength = 32;
// 62 * 4 = 248: bytes >= 248 are dropped so every character is equally likely.
constexpr unsigned kUnbiasedLimit = 248;

}  // namespace

Result<std::string> RandomNonceSource::Next() {
  std::string out;
  out.reserve(kNonceLength);
  std::array<unsigned char, 48> bytes{};
  while (out.size() < kNonceLength) {
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
      return Fail("OpenSSL RAND_bytes failed: no secure random numbers available for the "
                  "request nonce; nothing was sent");
    }
    for (unsigned char b : bytes) {
      if (b >= kUnbiasedLimit) continue;
      out += kAlnum[b % kAlnum.size()];
      if (out.size() == kNonceLength) break;
    }
  }
  return out;
}

}  // namespace wxpay
