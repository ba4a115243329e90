// bench_floor: the machine's RSA-2048 signing floor (scenario 3 of `make bench`).
//
//   bench_floor --key PKI/merchant_key.pem [--seconds 3]
//
// Signs WeChat Pay request strings with the daemon's own key and the daemon's
// own code (LoadPrivateKeyFile, RequestStringToSign, SignSha256WithRsa) in
// one thread until `seconds` of that thread's CPU time are spent, then
// verifies an answer-sized message for a second. CPU time, not wall time, is
// the figure: the machine is shared, and the floor is what one signature
// costs the daemon wherever it runs. Prints one JSON object on stdout.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "wechatpay/base64.h"
#include "wechatpay/pem_files.h"
#include "wechatpay/request_signer.h"
#include "wechatpay/rsa_sha256.h"

namespace {

double Seconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Loop {
  long count = 0;
  double cpu_s = 0;
  double wall_s = 0;
};

// Runs `once` until `cpu_budget_s` of this thread's CPU time are used; false
// as soon as one call fails.
template <typename F>
bool Measure(double cpu_budget_s, Loop& loop, F&& once) {
  const double cpu0 = Seconds(CLOCK_THREAD_CPUTIME_ID);
  const double wall0 = Seconds(CLOCK_MONOTONIC);
  double cpu = cpu0;
  while (cpu - cpu0 < cpu_budget_s) {
    for (int i = 0; i < 16; ++i) {
      if (!once(loop.count)) return false;
      ++loop.count;
    }
    cpu = Seconds(CLOCK_THREAD_CPUTIME_ID);
  }
  loop.cpu_s = cpu - cpu0;
  loop.wall_s = Seconds(CLOCK_MONOTONIC) - wall0;
  return true;
}

int Usage() {
  std::fprintf(stderr, "usage: bench_floor --key MERCHANT_KEY_PEM [--seconds S]\n");
  return 64;
}

}  // namespace

int main(int argc, char** argv) {
  std::string key_path;
  double seconds = 3.0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--key" && i + 1 < argc) {
      key_path = argv[++i];
    } else if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else {
      return Usage();
    }
  }
  if (key_path.empty() || seconds <= 0) return Usage();

  wxpay::Result<wxpay::EvpPkeyPtr> key = wxpay::LoadPrivateKeyFile(key_path);
  if (!key) {
    std::fprintf(stderr, "bench_floor: %s\n", key.error().message.c_str());
    return 1;
  }
  EVP_PKEY* pkey = key->get();

  // What the daemon signs for a query: the string-to-sign of a GET with an
  // empty body (a close adds a 22-byte JSON body; hashing it costs nothing
  // next to the RSA operation).
  const std::string nonce = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS";
  Loop sign;
  std::string last_signature;
  const bool signed_ok = Measure(seconds, sign, [&](long n) {
    const std::string message = wxpay::RequestStringToSign(
        "GET", "/v3/pay/transactions/out-trade-no/BD" + std::to_string(10000000 + n) + "?mchid=1900000001",
        1700000000 + n, nonce, "");
    wxpay::Result<std::string> signature = wxpay::SignSha256WithRsa(pkey, message);
    if (!signature) {
      std::fprintf(stderr, "bench_floor: %s\n", signature.error().message.c_str());
      return false;
    }
    last_signature = std::move(signature).value();
    return true;
  });
  if (!signed_ok) return 1;

  // The daemon also verifies every answer (RSA public operation).
  const std::string answer = wxpay::RequestStringToSign("GET", "/bench", 1700000000, nonce, "");
  wxpay::Result<std::string> answer_signature = wxpay::SignSha256WithRsa(pkey, answer);
  std::optional<std::string> raw;
  if (answer_signature) raw = wxpay::Base64DecodeStrict(*answer_signature);
  if (!raw) {
    std::fprintf(stderr, "bench_floor: preparing the verification loop failed\n");
    return 1;
  }
  Loop verify;
  const bool verified_ok = Measure(std::min(seconds, 1.0), verify, [&](long) {
    if (wxpay::VerifySha256WithRsa(pkey, answer, *raw)) return true;
    std::fprintf(stderr, "bench_floor: a valid signature did not verify\n");
    return false;
  });
  if (!verified_ok) return 1;

  std::printf(
      "{\"signs\": %ld, \"sign_cpu_s\": %.6f, \"sign_wall_s\": %.6f, \"sign_cpu_us\": %.2f, "
      "\"signs_per_cpu_s\": %.1f, \"verifies\": %ld, \"verify_cpu_us\": %.2f}\n",
      sign.count, sign.cpu_s, sign.wall_s, sign.cpu_s * 1e6 / static_cast<double>(sign.count),
      static_cast<double>(sign.count) / sign.cpu_s, verify.count,
      verify.cpu_s * 1e6 / static_cast<double>(verify.count));
  return 0;
}
