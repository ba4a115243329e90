#include "core/decision.h"

#include <array>
#include <utility>

#include "core/text.h"

namespace wxpay {
namespace {

constexpr std::array<std::pair<DeadLetterReason, std::string_view>, 10> kReasonNames{{
    {DeadLetterReason::kInvalidMessage, "invalid_message"},
    {DeadLetterReason::kUnknownOrder, "unknown_order"},
    {DeadLetterReason::kAmountMismatch, "amount_mismatch"},
    {DeadLetterReason::kMchidMismatch, "mchid_mismatch"},
    {DeadLetterReason::kAppidMismatch, "appid_mismatch"},
    {DeadLetterReason::kOutTradeNoMismatch, "out_trade_no_mismatch"},
    {DeadLetterReason::kRefunded, "refunded"},
    {DeadLetterReason::kNotFound, "not_found"},
    {DeadLetterReason::kRetriesExhausted, "retries_exhausted"},
    {DeadLetterReason::kPoison, "poison"},
}};

bool IsBareLogValue(std::string_view v) {
  if (v.empty()) return false;
  for (unsigned char c : v) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    c == '_' || c == '-' || c == '|' || c == '*' || c == '.' || c == ':' ||
                    c == '/' || c == '+' || c == ',' || c == '(' || c == ')';
    if (!ok) return false;
  }
  return true;
}

// key=value with the value quoted (and \, ", control characters escaped) when
// it is not a plain token. UTF-8 text (WeChat Pay's Chinese messages) is kept.
void AppendField(std::string& out, std::string_view key, std::string_view value) {
  out += ' ';
  out += key;
  out += '=';
  if (IsBareLogValue(value)) {
    out += value;
    return;
  }
  out += '"';
  for (unsigned char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f) {
      out += PreviewBytes(std::string_view(reinterpret_cast<const char*>(&c), 1));
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

std::string FirstAnswer(const Decision& d) {
  if (d.calls.empty()) return "-";
  const WechatCall& c = d.calls.front();
  if (c.ok) return c.trade_state.empty() ? "-" : c.trade_state;
  if (!c.code.empty()) return c.code;
  if (c.http_status != 0) return "HTTP" + std::to_string(c.http_status);
  return std::string(PayErrorKindName(c.error_kind));
}

std::string Join(const std::vector<std::string>& items, size_t from, char sep) {
  std::string out;
  for (size_t i = from; i < items.size(); ++i) {
    if (!out.empty()) out += sep;
    out += items[i];
  }
  return out;
}

class JsonObject {
 public:
  explicit JsonObject(std::string& out) : out_(out) { out_ += '{'; }
  void Key(std::string_view k) {
    if (!first_) out_ += ',';
    first_ = false;
    AppendJsonString(out_, k);
    out_ += ':';
  }
  void String(std::string_view k, std::string_view v) {
    Key(k);
    AppendJsonString(out_, v);
  }
  void Int(std::string_view k, long long v) {
    Key(k);
    out_ += std::to_string(v);
  }
  void Bool(std::string_view k, bool v) {
    Key(k);
    out_ += v ? "true" : "false";
  }
  void Null(std::string_view k) {
    Key(k);
    out_ += "null";
  }
  void StringOrNull(std::string_view k, bool present, std::string_view v) {
    if (present) String(k, v);
    else Null(k);
  }
  void StringArray(std::string_view k, const std::vector<std::string>& items) {
    Key(k);
    out_ += '[';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out_ += ',';
      AppendJsonString(out_, items[i]);
    }
    out_ += ']';
  }
  void End() { out_ += '}'; }

 private:
  std::string& out_;
  bool first_ = true;
};

void AppendTradeJson(std::string& out, const Trade& t) {
  JsonObject o(out);
  o.String("trade_state", t.trade_state);
  o.String("out_trade_no", t.out_trade_no);
  o.String("transaction_id", t.transaction_id);
  if (t.amount_total) o.Int("amount_total", *t.amount_total);
  else o.Null("amount_total");
  o.String("mchid", t.mchid);
  o.String("sp_mchid", t.sp_mchid);
  o.String("sub_mchid", t.sub_mchid);
  o.String("appid", t.appid);
  o.String("sub_appid", t.sub_appid);
  o.String("success_time", t.success_time);
  o.String("request_id", t.request_id);
  o.End();
}

void AppendCallJson(std::string& out, const WechatCall& c) {
  JsonObject o(out);
  o.String("endpoint", WechatEndpointName(c.endpoint));
  o.String("result", c.ResultLabel());
  if (c.ok) {
    if (!c.trade_state.empty()) o.String("trade_state", c.trade_state);
  } else {
    o.Int("http_status", c.http_status);
    o.String("code", c.code);
    o.Bool("system_wide", c.system_wide);
    o.String("error", c.description);
  }
  o.String("request_id", c.request_id);
  o.End();
}

}  // namespace

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kNothingToDo: return "nothing_to_do";
    case Outcome::kPaid: return "paid";
    case Outcome::kCancelled: return "cancelled";
    case Outcome::kReschedule: return "reschedule";
    case Outcome::kDeadLetter: return "dead_letter";
    case Outcome::kDatabaseError: return "database_error";
  }
  return "nothing_to_do";
}

std::string_view DeadLetterReasonName(DeadLetterReason reason) {
  for (const auto& [r, name] : kReasonNames) {
    if (r == reason) return name;
  }
  return "";
}

std::optional<DeadLetterReason> ParseDeadLetterReason(std::string_view name) {
  for (const auto& [r, n] : kReasonNames) {
    if (n == name) return r;
  }
  return std::nullopt;
}

std::string_view WechatEndpointName(WechatEndpoint endpoint) {
  return endpoint == WechatEndpoint::kClose ? "close" : "query";
}

std::string_view WechatCall::ResultLabel() const {
  return ok ? std::string_view("ok") : PayErrorKindName(error_kind);
}

std::string Decision::Action() const {
  if (steps.empty()) return "none";
  return Join(steps, 0, '+');
}

DecisionSeverity Decision::Severity() const {
  if (permanent || needs_attention) return DecisionSeverity::kError;
  if (outcome == Outcome::kDeadLetter || outcome == Outcome::kDatabaseError || unknown_trade_state) {
    return DecisionSeverity::kWarning;
  }
  return DecisionSeverity::kInfo;
}

std::string RenderLogLine(const Decision& d) {
  std::string out = "order=";
  if (IsValidOrderNo(d.order_no)) {
    out += d.order_no;
  } else {
    out += '"' + PreviewBytes(d.order_no) + '"';
  }
  AppendField(out, "shop", d.shop_before ? ShopStateName(*d.shop_before) : "-");
  AppendField(out, "wechat", FirstAnswer(d));
  AppendField(out, "action", d.Action());
  AppendField(out, "result", OutcomeName(d.outcome));
  AppendField(out, "attempt", std::to_string(d.attempt));
  AppendField(out, "took", std::to_string(d.took.count()) + "ms");
  const size_t first_trade = (!d.calls.empty() && d.calls.front().ok) ? 1 : 0;
  if (d.trade_states.size() > first_trade) {
    AppendField(out, "requery", Join(d.trade_states, first_trade, ','));
  }
  if (d.shop_before == ShopState::kOther) AppendField(out, "status", d.shop_status_before);
  if (d.outcome == Outcome::kDeadLetter) AppendField(out, "reason", DeadLetterReasonName(d.reason));
  if (d.outcome == Outcome::kReschedule) {
    AppendField(out, "delay", FormatMillis(d.delay));
    AppendField(out, "next_attempt", std::to_string(d.next_attempt));
  }
  if (d.lost_race && d.shop_after) AppendField(out, "lost_race", ShopStateName(*d.shop_after));
  if (d.dry_run) AppendField(out, "dry_run", "true");
  if (d.not_found_breaker_open) AppendField(out, "not_found_breaker", "open");
  if (d.permanent) AppendField(out, "permanent", "true");
  if (d.unknown_trade_state) AppendField(out, "unknown_trade_state", "true");
  if (d.needs_attention) AppendField(out, "attention", "true");
  if (!d.error.empty()) AppendField(out, "error", d.error);
  if (!d.note.empty()) AppendField(out, "note", d.note);
  return out;
}

std::string RenderJson(const Decision& d) {
  std::string out;
  JsonObject o(out);
  o.String("order_no", d.order_no);
  o.Int("attempt", d.attempt);
  o.String("outcome", OutcomeName(d.outcome));
  o.StringOrNull("reason", d.outcome == Outcome::kDeadLetter, DeadLetterReasonName(d.reason));
  o.String("action", d.Action());
  o.StringArray("steps", d.steps);
  o.Int("delay_ms", d.delay.count());
  o.Bool("counts_as_attempt", d.counts_as_attempt);
  o.Int("next_attempt", d.next_attempt);
  o.StringOrNull("shop_before", d.shop_before.has_value(),
                 d.shop_before ? ShopStateName(*d.shop_before) : "");
  o.StringOrNull("shop_status_before", d.shop_before.has_value(), d.shop_status_before);
  o.StringOrNull("shop_after", d.shop_after.has_value(),
                 d.shop_after ? ShopStateName(*d.shop_after) : "");
  o.StringOrNull("shop_status_after", d.shop_after.has_value(), d.shop_status_after);
  o.StringArray("wechat_trade_states", d.trade_states);
  o.Int("wechat_call_count", d.WechatCallCount());
  o.Key("wechat_calls");
  out += '[';
  for (size_t i = 0; i < d.calls.size(); ++i) {
    if (i) out += ',';
    AppendCallJson(out, d.calls[i]);
  }
  out += ']';
  o.StringOrNull("error", !d.error.empty(), d.error);
  o.StringOrNull("note", !d.note.empty(), d.note);
  o.Bool("system_wide", d.system_wide);
  o.Bool("permanent", d.permanent);
  o.Bool("unknown_trade_state", d.unknown_trade_state);
  o.Bool("lost_race", d.lost_race);
  o.Bool("needs_attention", d.needs_attention);
  o.Bool("not_found_breaker_open", d.not_found_breaker_open);
  o.Bool("dry_run", d.dry_run);
  o.Key("trade");
  if (d.trade) AppendTradeJson(out, *d.trade);
  else out += "null";
  o.Int("took_ms", d.took.count());
  o.End();
  return out;
}

}  // namespace wxpay
