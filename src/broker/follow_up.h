// Follow-up messages (SPEC §6): reschedules and dead letters carry the
// original body and properties unchanged plus the daemon's x-wxpay-* headers.
// Pure: builds and reads messages, sends nothing.
#pragma once

#include <optional>
#include <string>

#include "broker/delay_tiers.h"
#include "broker/message.h"
#include "config/config.h"

namespace wxpay {

inline constexpr char kAttemptHeader[] = "x-wxpay-attempt";        // signed int
inline constexpr char kReasonHeader[] = "x-wxpay-reason";          // longstr
inline constexpr char kErrorHeader[] = "x-wxpay-error";            // longstr
inline constexpr char kFirstSeenHeader[] = "x-wxpay-first-seen";   // longstr, RFC 3339

struct FollowUpHeaders {
  int attempt = 1;         // the attempt that produced this follow-up (first delivery = 1)
  std::string reason;      // dead letters: invalid_message, unknown_order, ...; empty for reschedules
  std::string error;       // the last error, human-readable, no secrets; empty = not sent
  std::string first_seen;  // RFC 3339; empty = not sent
};

// What a delivery says about itself in x-wxpay-* headers. Values of the wrong
// type or out of range are treated as absent (a shop or an attacker may have
// set them) and described in `problems`.
struct FollowUpState {
  std::optional<int> attempt;  // 1..kMaxAttemptHeader
  std::optional<std::string> reason;
  std::optional<std::string> error;
  std::optional<std::string> first_seen;
  std::string problems;  // empty when every present header was well-formed
};

inline constexpr int kMaxAttemptHeader = 1'000'000;
inline constexpr size_t kMaxFollowUpText = 1024;  // x-wxpay-error is cut to this

FollowUpState ReadFollowUpHeaders(const MessageProperties& properties);

// The original properties with the x-wxpay-* headers merged in: existing
// headers keep their place and kind, ours replace same-named ones. Empty
// optional texts in `headers` are not written (and any old value is kept).
MessageProperties WithFollowUpHeaders(const MessageProperties& original, const FollowUpHeaders& headers);

// A reschedule: through the retry exchange into the retry queue of the tier
// `delay` rounds up to; it dead-letters back to rabbitmq.queue.
OutgoingMessage MakeReschedule(const Delivery& original, const RabbitConfig& config, const DelayTiers& tiers,
                               Millis delay, const FollowUpHeaders& headers);

// A dead letter: through the default exchange straight into
// rabbitmq.dead_letter_queue.
OutgoingMessage MakeDeadLetter(const Delivery& original, const RabbitConfig& config,
                               const FollowUpHeaders& headers);

}  // namespace wxpay
