#include "wechatpay/test_data.h"

#include <cjson/cJSON.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "wechatpay/pem_files.h"
#include "wechatpay/response_verifier.h"
#include "wechatpay/rsa_sha256.h"

namespace wxpay::testing {

std::string VectorPath(std::string_view name) {
  const char* env = std::getenv("WXPAY_TEST_DATA");
  std::string root = env != nullptr && env[0] != '\0' ? env : "tests/data";
  return root + "/wechatpay-vectors/" + std::string(name);
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path
                  << " (run the tests from the repository root or set WXPAY_TEST_DATA)";
    return "";
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string Kat(std::string_view vector, std::string_view field) {
  // Parsed once; read-only afterwards.
  static const std::string text = ReadFileOrDie(VectorPath("kat.json"));
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> json(cJSON_Parse(text.c_str()), cJSON_Delete);
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(json.get(), std::string(vector).c_str());
  const cJSON* f = cJSON_GetObjectItemCaseSensitive(v, std::string(field).c_str());
  if (cJSON_IsNumber(f)) return std::to_string(static_cast<int64_t>(f->valuedouble));
  if (!cJSON_IsString(f)) {
    ADD_FAILURE() << "kat.json has no " << vector << "." << field;
    return "";
  }
  return f->valuestring;
}

EvpPkeyPtr LoadPrivateKeyOrDie(std::string_view vector_file) {
  Result<EvpPkeyPtr> key = LoadPrivateKeyFile(VectorPath(vector_file));
  if (!key) {
    ADD_FAILURE() << key.error().message;
    return nullptr;
  }
  return std::move(key).value();
}

TimePoint FromUnixSeconds(int64_t seconds) {
  return TimePoint(std::chrono::seconds(seconds));
}

Result<std::string> FixedNonceSource::Next() {
  std::lock_guard<std::mutex> lock(mu_);
  if (nonces_.empty()) return Fail("no nonce");
  std::string out = nonces_[std::min(next_, nonces_.size() - 1)];
  ++next_;
  return out;
}

HttpHeaders SignAnswer(EVP_PKEY* key, std::string_view serial, int64_t timestamp,
                       std::string_view nonce, std::string_view body) {
  std::string ts = std::to_string(timestamp);
  Result<std::string> signature = SignSha256WithRsa(key, ResponseStringToSign(ts, nonce, body));
  EXPECT_TRUE(signature.ok());
  HttpHeaders headers;
  headers.Add("Wechatpay-Timestamp", ts);
  headers.Add("Wechatpay-Nonce", std::string(nonce));
  headers.Add("Wechatpay-Signature", signature ? *signature : "");
  headers.Add("Wechatpay-Serial", std::string(serial));
  headers.Add("Request-ID", "08E68E97CC0610DF0618AC86BCA80120082880CF05-268578704");
  return headers;
}

std::vector<std::pair<std::string, std::string>> AuthorizationParams(std::string_view header) {
  std::vector<std::pair<std::string, std::string>> out;
  constexpr std::string_view kScheme = "WECHATPAY2-SHA256-RSA2048 ";
  if (header.substr(0, kScheme.size()) != kScheme) {
    ADD_FAILURE() << "bad Authorization scheme: " << header;
    return out;
  }
  std::string_view rest = header.substr(kScheme.size());
  while (!rest.empty()) {
    size_t eq = rest.find("=\"");
    size_t close = rest.find('"', eq + 2);
    if (eq == std::string_view::npos || close == std::string_view::npos) {
      ADD_FAILURE() << "bad Authorization parameters: " << header;
      break;
    }
    out.emplace_back(std::string(rest.substr(0, eq)),
                     std::string(rest.substr(eq + 2, close - eq - 2)));
    rest = rest.substr(close + 1);
    if (!rest.empty() && rest.front() == ',') rest.remove_prefix(1);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TempDir::TempDir() {
  const char* base = std::getenv("WXPAY_TEST_TMP");  // the runner's work directory
  std::filesystem::path dir =
      base != nullptr && base[0] != '\0' ? std::filesystem::path(base)
                                         : std::filesystem::temp_directory_path();
  std::string pattern = (dir / "wxpay-wechatpay-XXXXXX").string();
  char* made = mkdtemp(pattern.data());
  if (made == nullptr) ADD_FAILURE() << "mkdtemp failed";
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::Write(std::string_view name, std::string_view content) const {
  std::string file = path_ + "/" + std::string(name);
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << content;
  return file;
}

}  // namespace wxpay::testing
