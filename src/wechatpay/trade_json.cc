#include "wechatpay/trade_json.h"

#include <cjson/cJSON.h>

#include <cmath>
#include <memory>

namespace wxpay {
namespace {

using JsonPtr = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;
using PrintedPtr = std::unique_ptr<char, decltype(&cJSON_free)>;

// Doubles hold integers exactly up to 2^53; amounts in fen are far below.
constexpr double kMaxExactInteger = 9007199254740992.0;

// Whole text only: trailing bytes after the JSON value make it invalid.
JsonPtr Parse(std::string_view text) {
  const char* end = nullptr;
  JsonPtr json(cJSON_ParseWithLengthOpts(text.data(), text.size(), &end, false), cJSON_Delete);
  if (!json || end == nullptr) return JsonPtr(nullptr, cJSON_Delete);
  for (const char* p = end; p < text.data() + text.size(); ++p) {
    if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') return JsonPtr(nullptr, cJSON_Delete);
  }
  return json;
}

std::string Print(const cJSON* json) {
  PrintedPtr printed(cJSON_PrintUnformatted(json), cJSON_free);
  return printed ? std::string(printed.get()) : std::string("{}");
}

// An optional string member: absent or null -> "", wrong type -> error.
Status ReadString(const cJSON* object, const char* name, std::string* out) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(object, name);
  if (item == nullptr || cJSON_IsNull(item)) return Status::Ok();
  if (!cJSON_IsString(item)) {
    return Fail(std::string("field \"") + name + "\" is not a string");
  }
  *out = item->valuestring;
  return Status::Ok();
}

Status ReadAmountTotal(const cJSON* object, std::optional<int64_t>* out) {
  const cJSON* amount = cJSON_GetObjectItemCaseSensitive(object, "amount");
  if (amount == nullptr || cJSON_IsNull(amount)) return Status::Ok();
  if (!cJSON_IsObject(amount)) return Fail("field \"amount\" is not an object");
  const cJSON* total = cJSON_GetObjectItemCaseSensitive(amount, "total");
  if (total == nullptr || cJSON_IsNull(total)) return Status::Ok();
  double v = cJSON_GetNumberValue(total);
  if (!cJSON_IsNumber(total) || std::isnan(v) || std::floor(v) != v ||
      std::fabs(v) > kMaxExactInteger) {
    return Fail("field \"amount.total\" is not an integer amount in fen");
  }
  *out = static_cast<int64_t>(v);
  return Status::Ok();
}

}  // namespace

Result<Trade> ParseTradeJson(std::string_view body) {
  JsonPtr json = Parse(body);
  if (!json) return Fail("the answer is not valid JSON");
  if (!cJSON_IsObject(json.get())) return Fail("the answer is not a JSON object");
  const cJSON* root = json.get();

  Trade trade;
  const cJSON* state = cJSON_GetObjectItemCaseSensitive(root, "trade_state");
  if (!cJSON_IsString(state) || state->valuestring[0] == '\0') {
    return Fail("the answer has no trade_state");
  }
  trade.trade_state = state->valuestring;
  trade.state = ParseTradeState(trade.trade_state);

  std::string sp_appid;
  for (auto [name, field] : {std::pair{"mchid", &trade.mchid},
                             std::pair{"sp_mchid", &trade.sp_mchid},
                             std::pair{"sub_mchid", &trade.sub_mchid},
                             std::pair{"appid", &trade.appid},
                             std::pair{"sp_appid", &sp_appid},
                             std::pair{"sub_appid", &trade.sub_appid},
                             std::pair{"out_trade_no", &trade.out_trade_no},
                             std::pair{"transaction_id", &trade.transaction_id},
                             std::pair{"success_time", &trade.success_time}}) {
    if (Status s = ReadString(root, name, field); !s) return Fail("the answer's " + s.message());
  }
  if (trade.appid.empty()) trade.appid = sp_appid;  // partner answers name it sp_appid
  if (Status s = ReadAmountTotal(root, &trade.amount_total); !s) {
    return Fail("the answer's " + s.message());
  }
  trade.raw_json = std::string(body);
  return trade;
}

std::string QueryAnswerJson(const Trade& trade) {
  JsonPtr json = Parse(trade.raw_json);
  if (!json || !cJSON_IsObject(json.get())) {
    // Only a Trade built by hand lacks its body; render what it has.
    json = JsonPtr(cJSON_CreateObject(), cJSON_Delete);
    if (!json) return "{}";
    cJSON_AddStringToObject(json.get(), "trade_state", trade.trade_state.c_str());
    cJSON_AddStringToObject(json.get(), "out_trade_no", trade.out_trade_no.c_str());
  }
  cJSON_DeleteItemFromObjectCaseSensitive(json.get(), "verified");
  cJSON_AddTrueToObject(json.get(), "verified");
  return Print(json.get());
}

std::string QueryNotFoundJson(std::string_view out_trade_no) {
  JsonPtr json(cJSON_CreateObject(), cJSON_Delete);
  if (!json) return "{}";
  cJSON_AddStringToObject(json.get(), "out_trade_no", std::string(out_trade_no).c_str());
  cJSON_AddFalseToObject(json.get(), "exists");
  cJSON_AddStringToObject(json.get(), "code", "ORDER_NOT_EXIST");
  return Print(json.get());
}

}  // namespace wxpay
