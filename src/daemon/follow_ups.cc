#include "daemon/follow_ups.h"

#include <time.h>

#include <cstdio>

#include "broker/follow_up.h"
#include "core/text.h"

namespace wxpay {
namespace {

FollowUpHeaders HeadersFor(const Decision& d, const DeliveryHistory& history, int attempt) {
  FollowUpHeaders h;
  h.attempt = attempt;
  if (d.outcome == Outcome::kDeadLetter) h.reason = std::string(DeadLetterReasonName(d.reason));
  h.error = d.error.empty() ? d.note : d.error;
  h.first_seen = history.first_seen;
  return h;
}

}  // namespace

std::string FormatRfc3339Utc(TimePoint t) {
  const time_t secs = std::chrono::system_clock::to_time_t(t);
  tm utc{};
  gmtime_r(&secs, &utc);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                utc.tm_hour, utc.tm_min, utc.tm_sec);
  return buf;
}

DeliveryHistory ReadDeliveryHistory(const Delivery& delivery, TimePoint now) {
  DeliveryHistory history;
  const FollowUpState state = ReadFollowUpHeaders(delivery.properties);
  if (state.attempt) {
    history.attempt = *state.attempt;
    history.has_attempt = true;
  }
  history.first_seen = state.first_seen && !state.first_seen->empty() ? *state.first_seen : FormatRfc3339Utc(now);
  history.problems = state.problems;
  if (!delivery.header_problem.empty()) {
    if (!history.problems.empty()) history.problems += "; ";
    history.problems += delivery.header_problem;
  }
  return history;
}

OutgoingMessage RescheduleFor(const Delivery& delivery, const Decision& d, const DeliveryHistory& history,
                              bool charge_attempt, const RabbitConfig& config, const DelayTiers& tiers) {
  const int attempt = charge_attempt ? d.next_attempt : d.attempt;
  return MakeReschedule(delivery, config, tiers, d.delay, HeadersFor(d, history, attempt));
}

OutgoingMessage DeadLetterFor(const Delivery& delivery, const Decision& d, const DeliveryHistory& history,
                              const RabbitConfig& config) {
  return MakeDeadLetter(delivery, config, HeadersFor(d, history, d.attempt));
}

OutgoingMessage OutcomeEventFor(const Decision& d, const std::string& exchange, TimePoint at) {
  const std::string outcome(OutcomeName(d.outcome));
  std::string json = "{\"order_no\":";
  AppendJsonString(json, d.order_no);
  json += ",\"outcome\":";
  AppendJsonString(json, outcome);
  json += ",\"trade_state\":";
  if (d.trade && !d.trade->trade_state.empty()) {
    AppendJsonString(json, d.trade->trade_state);
  } else {
    json += "null";
  }
  json += ",\"transaction_id\":";
  if (d.trade && !d.trade->transaction_id.empty()) {
    AppendJsonString(json, d.trade->transaction_id);
  } else {
    json += "null";
  }
  json += ",\"amount\":";
  json += d.trade && d.trade->amount_total ? std::to_string(*d.trade->amount_total) : std::string("null");
  json += ",\"at\":";
  AppendJsonString(json, FormatRfc3339Utc(at));
  json += '}';

  OutgoingMessage out;
  out.exchange = exchange;
  out.routing_key = outcome;
  out.body = std::move(json);
  out.properties.content_type = "application/json";
  out.properties.delivery_mode = kPersistentDeliveryMode;
  out.properties.app_id = "wxpay-reconciler";
  out.properties.timestamp = static_cast<uint64_t>(std::chrono::system_clock::to_time_t(at));
  out.mandatory = false;
  return out;
}

Decision InvalidMessageDecision(std::string_view body, const std::string& error, int attempt) {
  Decision d;
  d.order_no = PreviewBytes(body);
  d.attempt = attempt;
  d.next_attempt = attempt;
  d.outcome = Outcome::kDeadLetter;
  d.reason = DeadLetterReason::kInvalidMessage;
  d.steps.push_back("dead_letter");
  d.error = error;
  return d;
}

Decision PoisonDecision(const std::string& order_no, int attempt, int crashes) {
  Decision d;
  d.order_no = order_no;
  d.attempt = attempt;
  d.next_attempt = attempt;
  d.outcome = Outcome::kDeadLetter;
  d.reason = DeadLetterReason::kPoison;
  d.steps.push_back("dead_letter");
  d.error = "processing this order ended the daemon " + std::to_string(crashes) +
            " times without finishing (crash, kill or power loss); not processed again until redrive";
  return d;
}

}  // namespace wxpay
