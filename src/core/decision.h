// What the engine decided for one order, as a value: logging, metrics,
// acknowledging and the one-shot commands all read it; nothing else is
// returned from Engine::Process.
//
// What the caller does with each outcome:
//   nothing_to_do, paid, cancelled  -> ack (the outcome is committed, or there was nothing to commit)
//   reschedule                      -> publish a follow-up after `delay` with x-wxpay-attempt =
//                                      next_attempt, then ack once it is confirmed and routed
//   dead_letter                     -> publish to the dead-letter queue with x-wxpay-reason =
//                                      DeadLetterReasonName(reason), x-wxpay-error = error, then ack
//   database_error                  -> do NOT ack; pause consuming and retry the database
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/order.h"
#include "core/trade.h"

namespace wxpay {

enum class Outcome { kNothingToDo, kPaid, kCancelled, kReschedule, kDeadLetter, kDatabaseError };

// "nothing_to_do", "paid", "cancelled", "reschedule", "dead_letter", "database_error"
std::string_view OutcomeName(Outcome outcome);

// SPEC §6 x-wxpay-reason values.
enum class DeadLetterReason {
  kNone,
  kInvalidMessage,
  kUnknownOrder,
  kAmountMismatch,
  kMchidMismatch,
  kAppidMismatch,
  kOutTradeNoMismatch,
  kRefunded,
  kNotFound,
  kRetriesExhausted,
  kPoison,
};

// The SPEC §6 name ("unknown_order", ...); "" for kNone.
std::string_view DeadLetterReasonName(DeadLetterReason reason);
// The inverse, for `redrive --reason`; nullopt for an unknown name or "".
std::optional<DeadLetterReason> ParseDeadLetterReason(std::string_view name);

enum class WechatEndpoint { kQuery, kClose };
std::string_view WechatEndpointName(WechatEndpoint endpoint);  // "query", "close"

// One WeChat Pay call made while deciding.
struct WechatCall {
  WechatEndpoint endpoint = WechatEndpoint::kQuery;
  bool ok = false;
  std::string trade_state;  // a query that returned a verified trade
  PayErrorKind error_kind = PayErrorKind::kTransient;  // when !ok
  int http_status = 0;
  std::string code;
  bool system_wide = false;  // when !ok: feeds the WeChat breaker
  std::string description;   // PayError::Describe() when !ok
  std::string request_id;

  // For metrics' result label: "ok" or PayErrorKindName(error_kind).
  std::string_view ResultLabel() const;
};

enum class DecisionSeverity { kInfo, kWarning, kError };

struct Decision {
  std::string order_no;  // as given to Process (validated unless reason is invalid_message)
  int attempt = 1;       // the attempt this decision was made on (1-based)

  Outcome outcome = Outcome::kNothingToDo;
  DeadLetterReason reason = DeadLetterReason::kNone;  // when outcome == kDeadLetter

  // Reschedules: the delay, whether it counts against policy.retry.max_attempts
  // (window waits do not), and the attempt number the follow-up carries.
  Millis delay{0};
  bool counts_as_attempt = false;
  int next_attempt = 1;

  std::optional<ShopState> shop_before;  // nullopt: order not loaded
  std::string shop_status_before;        // the raw status column value
  std::optional<ShopState> shop_after;   // the shop's state afterwards (unchanged unless written,
                                         // or the winner's when an update lost a race)
  std::string shop_status_after;

  std::vector<std::string> trade_states;  // verified trade_state values, in order seen
  std::vector<std::string> steps;         // "close", "requery", "cancel", "mark_paid", ...
  std::vector<WechatCall> calls;

  std::string error;  // the last error: human-readable, no secrets (x-wxpay-error)
  std::string note;   // why, when it is not an error (lost race, dry run, window)

  bool system_wide = false;          // the failure behind a reschedule is not tied to this order
  bool permanent = false;            // a permanent WeChat Pay error: health shows it
  bool unknown_trade_state = false;  // WeChat Pay answered a trade_state we do not know: warn
  bool lost_race = false;            // our conditional update changed nothing: someone else won
  bool needs_attention = false;      // an operator should look (e.g. paid at WeChat Pay, cancelled in the shop)
  bool not_found_breaker_open = false;  // a 404 was parked because the breaker is open
  bool dry_run = false;              // nothing was closed or written; the outcome is what would happen

  std::optional<Trade> trade;  // the last verified trade, when there was one
  Millis took{0};

  // The steps joined with '+', e.g. "close+requery+cancel"; "none" if empty.
  std::string Action() const;
  int WechatCallCount() const { return static_cast<int>(calls.size()); }
  // Whether the message may be acknowledged once the follow-up (if any) is confirmed.
  bool MayAcknowledge() const { return outcome != Outcome::kDatabaseError; }
  DecisionSeverity Severity() const;
};

// SPEC §7: one line per decision, e.g.
//   order=42 shop=unpaid wechat=NOTPAY action=close+requery+cancel result=cancelled attempt=1 took=23ms
// followed by whatever applies of: requery=<later trade states> status=<raw status, for "other">
// reason= delay= next_attempt= lost_race=<winner> dry_run=true not_found_breaker=open
// permanent=true unknown_trade_state=true attention=true error="..." note="...".
// `wechat` is the first answer: its trade_state, else its error code, else HTTP status or kind;
// "-" when no call was made.
std::string RenderLogLine(const Decision& decision);

// The same as one JSON object (for `reconcile --json`).
std::string RenderJson(const Decision& decision);

}  // namespace wxpay
