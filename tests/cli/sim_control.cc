#include "cli/sim_control.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <gtest/gtest.h>

#include "wechatpay/sim_fixture.h"

namespace wxpay::clitest {
namespace {

using JsonPtr = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;

size_t Collect(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

int IntField(const cJSON* object, const char* key) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(object, key);
  return cJSON_IsNumber(v) ? v->valueint : 0;
}

SimControl::Calls CallsOf(const cJSON* object) {
  return SimControl::Calls{IntField(object, "query"), IntField(object, "close")};
}

}  // namespace

struct SimControl::Handle {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl{curl_easy_init(), curl_easy_cleanup};
};

SimControl::SimControl(std::string base_url)
    : base_url_(std::move(base_url)), ca_file_(testing::PkiFile("ca.pem")),
      handle_(std::make_unique<Handle>()) {}

SimControl::~SimControl() = default;

std::pair<long, std::string> SimControl::Call(const std::string& method, const std::string& path,
                                              const std::string& body) {
  std::pair<long, std::string> out{0, ""};
  CURL* h = handle_->curl.get();
  if (h == nullptr) {
    ADD_FAILURE() << "curl_easy_init failed";
    return out;
  }
  curl_easy_reset(h);  // keeps the connection cache
  const std::string url = base_url_ + path;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(h, CURLOPT_CAINFO, ca_file_.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
  if (!body.empty()) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &out.second);
  const CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    ADD_FAILURE() << method << " " << path << ": " << curl_easy_strerror(rc);
    return out;
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out.first);
  return out;
}

void SimControl::PutOrder(const std::string& no, const std::string& order_json) {
  auto [status, body] = Call("POST", "/_sim/orders/" + no, order_json);
  EXPECT_EQ(status, 200) << body;
}

void SimControl::AddFault(const std::string& fault_json) {
  auto [status, body] = Call("POST", "/_sim/faults", fault_json);
  EXPECT_EQ(status, 200) << fault_json << ": " << body;
}

void SimControl::ClearFaults() {
  auto [status, body] = Call("DELETE", "/_sim/faults");
  EXPECT_EQ(status, 200) << body;
}

void SimControl::ResetStats() {
  auto [status, body] = Call("POST", "/_sim/reset");
  EXPECT_EQ(status, 204) << body;
}

void SimControl::Configure(const std::string& settings_json) {
  auto [status, body] = Call("POST", "/_sim/config", settings_json);
  EXPECT_EQ(status, 200) << body;
}

std::string SimControl::TradeState(const std::string& no) {
  auto [status, body] = Call("GET", "/_sim/orders/" + no);
  if (status != 200) return "<missing>";
  JsonPtr json(cJSON_Parse(body.c_str()), cJSON_Delete);
  const cJSON* state = cJSON_GetObjectItemCaseSensitive(json.get(), "trade_state");
  return cJSON_IsString(state) ? state->valuestring : "<" + body + ">";
}

SimControl::Stats SimControl::GetStats() {
  Stats stats;
  auto [status, body] = Call("GET", "/_sim/stats");
  EXPECT_EQ(status, 200) << body;
  JsonPtr json(cJSON_Parse(body.c_str()), cJSON_Delete);
  stats.total = CallsOf(cJSON_GetObjectItemCaseSensitive(json.get(), "requests"));
  const cJSON* by_order = cJSON_GetObjectItemCaseSensitive(json.get(), "by_order");
  const cJSON* entry = nullptr;
  cJSON_ArrayForEach(entry, by_order) {
    if (entry->string != nullptr) stats.by_order[entry->string] = CallsOf(entry);
  }
  return stats;
}

SimControl::Calls SimControl::Stats::Of(const std::string& no) const {
  auto it = by_order.find(no);
  return it == by_order.end() ? Calls{} : it->second;
}

}  // namespace wxpay::clitest
