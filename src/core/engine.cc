#include "core/engine.h"

#include <algorithm>
#include <utility>

#include "core/retry.h"
#include "core/text.h"
#include "core/trade_check.h"

namespace wxpay {
namespace {

// Which query this is, which decides what its answer may lead to.
enum class Phase {
  kFirst,                 // the first query: the whole table applies
  kAfterClose,            // the close was accepted (204 or ORDER_CLOSED): no second close;
                          // a 404 is transient
  kAfterPaidRefusal,      // the close answered ORDER_PAID: may mark paid, never cancels
  kAfterPayErrorRefusal,  // a PAYERROR order's close was refused: cancel if still PAYERROR
};

// A close refused for this order (payment-code orders can only be reversed):
// a definite 4xx answer about the order, not an outage.
bool IsRefusal(const PayError& e) {
  return !e.system_wide && e.http_status >= 400 && e.http_status < 500 &&
         (e.kind == PayErrorKind::kPermanent || e.kind == PayErrorKind::kTransient);
}

// One decision in progress. Each path ends in exactly one terminal call
// (Cancel, MarkPaid, DeadLetter, Reschedule*, StoreFailed, or nothing_to_do).
class Run {
 public:
  Run(ShopStore& store, PaymentGateway& gateway, NotFoundBreaker& not_found,
      const EngineOptions& options, TimePoint now, Decision& decision)
      : store_(store), gateway_(gateway), not_found_(not_found), opts_(options), now_(now), d_(decision) {}

  void Start() {
    d_.dry_run = opts_.dry_run;
    if (!IsValidOrderNo(d_.order_no)) {
      DeadLetter(DeadLetterReason::kInvalidMessage,
                 "not an order number (6-32 characters of [0-9A-Za-z_-|*]): \"" +
                     PreviewBytes(d_.order_no) + "\"");
      return;
    }
    auto loaded = store_.LoadOrder(d_.order_no);
    if (!loaded.ok()) {
      StoreFailed(loaded.error(), "loading the order");
      return;
    }
    if (!loaded->has_value()) {
      DeadLetter(DeadLetterReason::kUnknownOrder,
                 "no order " + d_.order_no +
                     " in the shop database (or excluded by database.orders.filter)");
      return;
    }
    order_ = std::move(**loaded);
    d_.shop_before = d_.shop_after = order_.state;
    d_.shop_status_before = d_.shop_status_after = order_.raw_status;

    if (order_.state != ShopState::kUnpaid) {
      d_.outcome = Outcome::kNothingToDo;
      AddNote("the order is " + std::string(ShopStateName(order_.state)) + " in the shop");
      return;
    }
    if (!IsValidOrderNo(order_.out_trade_no)) {
      DeadLetter(DeadLetterReason::kUnknownOrder,
                 "the order's out_trade_no \"" + PreviewBytes(order_.out_trade_no) +
                     "\" is not a valid WeChat Pay out_trade_no: check database.orders.out_trade_no");
      return;
    }
    const TimePoint window_end = order_.created_at + opts_.order_ttl;
    if (window_end > now_) {
      d_.steps.push_back("wait");
      d_.outcome = Outcome::kReschedule;
      d_.counts_as_attempt = false;
      d_.delay = std::max(Millis(1), std::chrono::ceil<Millis>(window_end - now_));
      AddNote("payment window not over: " + FormatMillis(d_.delay) + " left of policy.order_ttl");
      return;
    }
    ref_ = PaymentRef{order_.out_trade_no, order_.sub_mchid};
    Query(Phase::kFirst);
  }

 private:
  // ------------------------------------------------------------ WeChat Pay

  void Query(Phase phase) {
    if (phase != Phase::kFirst) d_.steps.push_back("requery");
    auto answer = gateway_.Query(ref_);
    if (answer.ok()) {
      WechatCall call;
      call.endpoint = WechatEndpoint::kQuery;
      call.ok = true;
      call.trade_state = answer->trade_state;
      call.request_id = answer->request_id;
      d_.calls.push_back(std::move(call));
      OnTrade(*answer, phase);
    } else {
      RecordFailedCall(WechatEndpoint::kQuery, answer.error());
      OnQueryError(answer.error(), phase);
    }
  }

  void OnTrade(const Trade& trade, Phase phase) {
    d_.trade_states.push_back(trade.trade_state);
    d_.trade = trade;
    if (phase == Phase::kFirst) not_found_.RecordFound();
    const std::string state = PreviewBytes(trade.trade_state, 32);
    switch (trade.state) {
      case TradeState::kSuccess:
        MarkPaid(trade);
        return;
      case TradeState::kRefund:
        if (opts_.refund_action == RefundAction::kPark) {
          DeadLetter(DeadLetterReason::kRefunded,
                     "WeChat Pay reports REFUND (transaction " + PreviewBytes(trade.transaction_id) +
                         "): the order was paid and a refund started; policy.refund_action is park");
          return;
        }
        MarkPaid(trade);
        return;
      case TradeState::kNotPay:
        if (phase == Phase::kFirst) {
          Close(trade.state);
          return;
        }
        RescheduleBackoff("WeChat Pay still reports NOTPAY after " + AfterWhat(phase) +
                              ": not cancelling; will query again",
                          nullptr);
        return;
      case TradeState::kPayError:
        if (phase == Phase::kFirst) {
          Close(trade.state);
          return;
        }
        if (phase == Phase::kAfterPaidRefusal) {
          RescheduleBackoff("WeChat Pay reports PAYERROR after " + AfterWhat(phase) + ": not cancelling",
                            nullptr);
          return;
        }
        Cancel();
        return;
      case TradeState::kClosed:
      case TradeState::kRevoked:
        if (phase == Phase::kAfterPaidRefusal) {
          RescheduleBackoff("WeChat Pay reports " + state + " after " + AfterWhat(phase) +
                                ": contradictory, not cancelling; will query again",
                            nullptr);
          return;
        }
        Cancel();
        return;
      case TradeState::kUserPaying:
        RescheduleRecheck("WeChat Pay reports USERPAYING: the buyer is paying; query again later");
        return;
      case TradeState::kUnknown:
        d_.unknown_trade_state = true;
        RescheduleRecheck("WeChat Pay reports an unknown trade_state \"" + state +
                          "\": treated as not final; query again later");
        return;
    }
  }

  void OnQueryError(const PayError& e, Phase phase) {
    if (e.kind == PayErrorKind::kNotFound && phase == Phase::kFirst) {
      NotFound();
      return;
    }
    if (e.kind == PayErrorKind::kNotFound) {
      RescheduleBackoff("query after " + AfterWhat(phase) + " answered 404 (transient here)", &e);
      return;
    }
    RescheduleBackoff(phase == Phase::kFirst ? "query" : "query after " + AfterWhat(phase), &e);
  }

  void NotFound() {
    const std::string what = "WeChat Pay has no order " + order_.out_trade_no + " (404 ORDER_NOT_EXIST)";
    if (not_found_.RecordNotFound(opts_.not_found_breaker)) {
      d_.not_found_breaker_open = true;
      DeadLetter(DeadLetterReason::kNotFound,
                 what + " and the not-found breaker is open (" +
                     std::to_string(not_found_.status().consecutive_not_found) +
                     " consecutive first queries answered 404): check database.orders.out_trade_no, "
                     "the merchant and sub-merchant, then reload to reset it");
      return;
    }
    if (opts_.not_found_action == NotFoundAction::kPark) {
      DeadLetter(DeadLetterReason::kNotFound, what + "; policy.not_found_action is park");
      return;
    }
    AddNote(what + ": the buyer never opened the payment");
    Cancel();
  }

  void Close(TradeState seen) {
    d_.steps.push_back("close");
    if (opts_.dry_run) {
      // Without a real close there is nothing new to query; report the
      // expected end of the row.
      AddNote("dry run: would close at WeChat Pay, query again and cancel once closed");
      d_.steps.push_back("cancel");
      d_.outcome = Outcome::kCancelled;
      return;
    }
    auto answer = gateway_.Close(ref_);
    if (answer.ok()) {
      WechatCall call;
      call.endpoint = WechatEndpoint::kClose;
      call.ok = true;
      call.request_id = answer->request_id;
      d_.calls.push_back(std::move(call));
      Query(Phase::kAfterClose);  // a 204 proves nothing (wrong out_trade_no answers 204 too)
      return;
    }
    const PayError& e = answer.error();
    RecordFailedCall(WechatEndpoint::kClose, e);
    switch (e.kind) {
      case PayErrorKind::kClosed:
        Query(Phase::kAfterClose);
        return;
      case PayErrorKind::kPaid:
        Query(Phase::kAfterPaidRefusal);
        return;
      case PayErrorKind::kUserPaying:
        RescheduleRecheck("close answered USER_PAYING: the buyer is paying; query again later");
        return;
      case PayErrorKind::kThrottled:
        RescheduleBackoff("close", &e);
        return;
      default:
        break;
    }
    if (seen == TradeState::kPayError && IsRefusal(e)) {
      Query(Phase::kAfterPayErrorRefusal);
      return;
    }
    RescheduleBackoff("close", &e);
  }

  void RecordFailedCall(WechatEndpoint endpoint, const PayError& e) {
    WechatCall call;
    call.endpoint = endpoint;
    call.ok = false;
    call.error_kind = e.kind;
    call.http_status = e.http_status;
    call.code = e.code;
    call.system_wide = e.system_wide;
    call.description = e.Describe();
    call.request_id = e.request_id;
    d_.calls.push_back(std::move(call));
  }

  static std::string AfterWhat(Phase phase) {
    switch (phase) {
      case Phase::kAfterClose: return "the close";
      case Phase::kAfterPaidRefusal: return "the close answered ORDER_PAID";
      case Phase::kAfterPayErrorRefusal: return "the close was refused";
      case Phase::kFirst: break;
    }
    return "the first query";
  }

  // ------------------------------------------------------------ shop writes

  void MarkPaid(const Trade& trade) {
    if (auto mismatch = CheckTradeMatchesOrder(trade, order_, opts_)) {
      DeadLetter(mismatch->reason, mismatch->message);
      return;
    }
    d_.steps.push_back("mark_paid");
    if (opts_.dry_run) {
      d_.outcome = Outcome::kPaid;
      AddNote("dry run: would mark the order paid");
      return;
    }
    auto written = store_.MarkPaid(order_, trade);
    if (!written.ok()) {
      StoreFailed(written.error(), "marking the order paid");
      return;
    }
    ApplyTransition(*written, ShopState::kPaid);
  }

  void Cancel() {
    d_.steps.push_back("cancel");
    if (opts_.dry_run) {
      d_.outcome = Outcome::kCancelled;
      AddNote("dry run: would mark the order cancelled");
      return;
    }
    auto written = store_.MarkCancelled(order_);
    if (!written.ok()) {
      StoreFailed(written.error(), "marking the order cancelled");
      return;
    }
    ApplyTransition(*written, ShopState::kCancelled);
  }

  void ApplyTransition(const Transition& t, ShopState target) {
    if (t.applied) {
      d_.outcome = target == ShopState::kPaid ? Outcome::kPaid : Outcome::kCancelled;
      d_.shop_after = target;
      d_.shop_status_after.clear();  // written through status_values; the raw value is the store's
      return;
    }
    if (t.current == ShopState::kUnpaid) {
      // The conditional update matched nothing, yet the row reads unpaid: a
      // store anomaly, not a race. Try again later rather than guess.
      RescheduleBackoff("the conditional update changed no row although the order still reads unpaid",
                        nullptr);
      return;
    }
    d_.outcome = Outcome::kNothingToDo;
    d_.lost_race = true;
    d_.shop_after = t.current;
    d_.shop_status_after = t.raw_status;
    const std::string now_state = std::string(ShopStateName(t.current)) + " (status \"" +
                                  PreviewBytes(t.raw_status) + "\")";
    if (target == ShopState::kPaid && t.current != ShopState::kPaid) {
      d_.needs_attention = true;
      d_.error = "WeChat Pay reports the order paid (transaction " +
                 PreviewBytes(d_.trade ? d_.trade->transaction_id : "") + ") but the shop changed it to " +
                 now_state + " meanwhile: refund or review it by hand";
      return;
    }
    AddNote("the order became " + now_state + " meanwhile (another writer won, e.g. the payment callback): "
            "nothing changed");
  }

  void StoreFailed(const StoreError& e, std::string_view what) {
    if (e.kind == StoreError::Kind::kBadRow) {
      DeadLetter(DeadLetterReason::kUnknownOrder,
                 "the order's row cannot be interpreted while " + std::string(what) + " (" + e.message +
                     "); dead-lettered as unknown_order");
      return;
    }
    d_.outcome = Outcome::kDatabaseError;
    d_.error = "database unavailable while " + std::string(what) + ": " + e.message;
  }

  // ------------------------------------------------------------ follow-ups

  void DeadLetter(DeadLetterReason reason, std::string error) {
    d_.steps.push_back("dead_letter");
    d_.outcome = Outcome::kDeadLetter;
    d_.reason = reason;
    d_.error = std::move(error);
  }

  void RescheduleRecheck(std::string why) {
    d_.steps.push_back("reschedule");
    d_.outcome = Outcome::kReschedule;
    d_.counts_as_attempt = true;
    d_.delay = opts_.userpaying_recheck;
    d_.error = std::move(why);
  }

  // `e` null: the reason is ours, not a failed call.
  void RescheduleBackoff(std::string context, const PayError* e) {
    d_.steps.push_back("reschedule");
    d_.outcome = Outcome::kReschedule;
    d_.counts_as_attempt = true;
    d_.delay = BackoffDelay(opts_.retry, d_.attempt);
    d_.error = e ? context + ": " + e->Describe() : std::move(context);
    if (e) {
      d_.system_wide = e->system_wide;
      d_.permanent = e->kind == PayErrorKind::kPermanent;
    }
  }

  void AddNote(std::string_view note) {
    if (!d_.note.empty()) d_.note += "; ";
    d_.note += note;
  }

  ShopStore& store_;
  PaymentGateway& gateway_;
  NotFoundBreaker& not_found_;
  const EngineOptions& opts_;
  const TimePoint now_;
  Decision& d_;
  ShopOrder order_;
  PaymentRef ref_;
};

}  // namespace

Engine::Engine(ShopStore& store, PaymentGateway& gateway, const Clock& clock, EngineOptions options)
    : store_(store),
      gateway_(gateway),
      clock_(clock),
      options_(std::make_shared<const EngineOptions>(std::move(options))) {}

void Engine::SetOptions(EngineOptions options) {
  auto next = std::make_shared<const EngineOptions>(std::move(options));
  std::lock_guard<std::mutex> lock(options_mu_);
  options_ = std::move(next);
}

EngineOptions Engine::options() const { return *Snapshot(); }

std::shared_ptr<const EngineOptions> Engine::Snapshot() const {
  std::lock_guard<std::mutex> lock(options_mu_);
  return options_;
}

Decision Engine::Process(std::string_view order_no, int attempt) {
  const auto options = Snapshot();
  const TimePoint start = clock_.Now();
  Decision d;
  d.order_no = std::string(order_no);
  d.attempt = std::max(attempt, 1);
  d.next_attempt = d.attempt;

  Run(store_, gateway_, not_found_breaker_, *options, start, d).Start();

  if (d.outcome == Outcome::kReschedule && d.counts_as_attempt) {
    if (AttemptsExhausted(options->retry, d.attempt) && !d.system_wide) {
      d.steps.back() = "dead_letter";
      d.outcome = Outcome::kDeadLetter;
      d.reason = DeadLetterReason::kRetriesExhausted;
      d.error = "gave up after " + std::to_string(d.attempt) +
                " attempts (policy.retry.max_attempts); last error: " + d.error;
      d.delay = Millis(0);
      d.counts_as_attempt = false;
    } else {
      d.next_attempt = d.attempt + 1;
    }
  }
  d.took = std::max(Millis(0), std::chrono::duration_cast<Millis>(clock_.Now() - start));
  return d;
}

}  // namespace wxpay
