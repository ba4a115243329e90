#include "broker/follow_up.h"

#include <utility>

namespace wxpay {
namespace {

// Cuts to at most `max` bytes without splitting a UTF-8 sequence.
std::string Truncate(std::string text, size_t max) {
  if (text.size() <= max) return text;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  return text;
}

void AddProblem(std::string& problems, std::string problem) {
  if (!problems.empty()) problems += "; ";
  problems += problem;
}

std::optional<std::string> ReadText(const FieldTable& headers, const char* key, std::string& problems) {
  const FieldValue* v = FindField(headers, key);
  if (v == nullptr) return std::nullopt;
  const std::string* s = v->AsString();
  if (s == nullptr) {
    AddProblem(problems, std::string(key) + " is a " + std::string(FieldKindName(v->kind)) + ", not a string");
    return std::nullopt;
  }
  if (s->size() > kMaxFollowUpText) {
    AddProblem(problems, std::string(key) + " is longer than " + std::to_string(kMaxFollowUpText) + " bytes");
    return std::nullopt;
  }
  return *s;
}

OutgoingMessage CopyWithHeaders(const Delivery& original, const FollowUpHeaders& headers) {
  OutgoingMessage out;
  out.body = original.body;
  out.properties = WithFollowUpHeaders(original.properties, headers);
  out.mandatory = true;
  return out;
}

}  // namespace

FollowUpState ReadFollowUpHeaders(const MessageProperties& properties) {
  FollowUpState state;
  if (!properties.headers) return state;
  const FieldTable& headers = *properties.headers;
  if (const FieldValue* v = FindField(headers, kAttemptHeader)) {
    const std::optional<int64_t> n = v->AsInteger();
    if (!n) {
      AddProblem(state.problems,
                 std::string(kAttemptHeader) + " is a " + std::string(FieldKindName(v->kind)) + ", not an integer");
    } else if (*n < 1 || *n > kMaxAttemptHeader) {
      AddProblem(state.problems, std::string(kAttemptHeader) + " is " + std::to_string(*n) + ", outside 1.." +
                                     std::to_string(kMaxAttemptHeader));
    } else {
      state.attempt = static_cast<int>(*n);
    }
  }
  state.reason = ReadText(headers, kReasonHeader, state.problems);
  state.error = ReadText(headers, kErrorHeader, state.problems);
  state.first_seen = ReadText(headers, kFirstSeenHeader, state.problems);
  return state;
}

MessageProperties WithFollowUpHeaders(const MessageProperties& original, const FollowUpHeaders& headers) {
  MessageProperties out = original;
  FieldTable table = original.headers.value_or(FieldTable{});
  UpsertField(table, kAttemptHeader, FieldValue::Int32(headers.attempt));
  if (!headers.reason.empty()) UpsertField(table, kReasonHeader, FieldValue::String(headers.reason));
  if (!headers.error.empty()) {
    UpsertField(table, kErrorHeader, FieldValue::String(Truncate(headers.error, kMaxFollowUpText)));
  }
  if (!headers.first_seen.empty()) UpsertField(table, kFirstSeenHeader, FieldValue::String(headers.first_seen));
  out.headers = std::move(table);
  return out;
}

OutgoingMessage MakeReschedule(const Delivery& original, const RabbitConfig& config, const DelayTiers& tiers,
                               Millis delay, const FollowUpHeaders& headers) {
  OutgoingMessage out = CopyWithHeaders(original, headers);
  out.exchange = config.retry_exchange;
  out.routing_key = RetryQueueName(config.queue, TierFor(tiers, delay));
  return out;
}

OutgoingMessage MakeDeadLetter(const Delivery& original, const RabbitConfig& config,
                               const FollowUpHeaders& headers) {
  OutgoingMessage out = CopyWithHeaders(original, headers);
  out.exchange = "";
  out.routing_key = config.dead_letter_queue;
  return out;
}

}  // namespace wxpay
