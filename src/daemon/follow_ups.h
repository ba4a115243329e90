// What the daemon publishes about a delivery, built from the engine's
// Decision (pure: builds messages, sends nothing). SPEC §6:
//   reschedule   the original body and properties, through the retry
//                exchange into the tier the delay rounds up to, with
//                x-wxpay-attempt = the attempt the next delivery is;
//   dead letter  the same into dead_letter_queue, with x-wxpay-reason and
//                x-wxpay-attempt = the attempt that gave up;
//   both carry x-wxpay-error (the last error) and x-wxpay-first-seen.
//   outcome event  {"order_no","outcome","trade_state","transaction_id",
//                "amount","at"} with routing key paid|cancelled.
#pragma once

#include <string>
#include <string_view>

#include "broker/delay_tiers.h"
#include "broker/message.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/decision.h"

namespace wxpay {

// What a delivery says about its own history (x-wxpay-* headers; values of
// the wrong type are ignored and described in `problems`).
struct DeliveryHistory {
  int attempt = 1;            // x-wxpay-attempt, or 1 for a first delivery
  bool has_attempt = false;   // the header was present (the delivery came back from a retry tier)
  std::string first_seen;     // x-wxpay-first-seen, or the time it was first received
  std::string problems;       // malformed headers, for a warning
};

DeliveryHistory ReadDeliveryHistory(const Delivery& delivery, TimePoint now);

// "2024-05-01T04:05:06Z".
std::string FormatRfc3339Utc(TimePoint t);

// A reschedule for decision `d` (outcome reschedule). `charge_attempt`
// false keeps the attempt number (a system-wide failure while the WeChat
// breaker is open must not burn the order's attempts).
OutgoingMessage RescheduleFor(const Delivery& delivery, const Decision& d, const DeliveryHistory& history,
                              bool charge_attempt, const RabbitConfig& config, const DelayTiers& tiers);

// A dead letter for decision `d` (outcome dead_letter).
OutgoingMessage DeadLetterFor(const Delivery& delivery, const Decision& d, const DeliveryHistory& history,
                              const RabbitConfig& config);

// The outcome event for a committed paid/cancelled decision: persistent JSON,
// routing key = outcome. Not mandatory: a shop that binds only "paid" must not
// turn every cancel into a failed publish.
OutgoingMessage OutcomeEventFor(const Decision& d, const std::string& exchange, TimePoint at);

// The decision recorded for a body that is not an order message: dead-letter
// invalid_message, nothing touched.
Decision InvalidMessageDecision(std::string_view body, const std::string& error, int attempt);

// The decision for an order whose processing crashed the daemon `crashes`
// times: dead-letter poison without processing.
Decision PoisonDecision(const std::string& order_no, int attempt, int crashes);

}  // namespace wxpay
