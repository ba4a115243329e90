#include "daemon/delivery_loop.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "core/text.h"

namespace wxpay {
namespace {

std::string Seconds(std::chrono::milliseconds d) {
  const long long tenths = (d.count() + 50) / 100;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
}

}  // namespace

void LogDecision(Logger& log, const Decision& d) {
  switch (d.Severity()) {
    case DecisionSeverity::kInfo: log.Info(RenderLogLine(d)); return;
    case DecisionSeverity::kWarning: log.Warning(RenderLogLine(d)); return;
    case DecisionSeverity::kError: log.Error(RenderLogLine(d)); return;
  }
}

DeliveryLoop::DeliveryLoop(DeliveryLoopDeps deps, DeliveryLoopOptions options)
    : d_(deps),
      options_(std::move(options)),
      mailbox_(std::make_shared<Mailbox<WorkResult>>()),
      database_backoff_(options_.database_probe),
      publish_backoff_(options_.publish_retry) {
  options_.concurrency = std::max(options_.concurrency, 1);
}

// ------------------------------------------------------------------ the turn

void DeliveryLoop::Step(std::chrono::milliseconds max_wait) {
  HandleResults();
  CheckBreakers();
  RunTimers();
  DispatchReady();
  UpdateConsuming();
  // A worker's Post() ends the wait at once (the mailbox's wake descriptor).
  const std::chrono::milliseconds wait = mailbox_->empty() ? max_wait : std::chrono::milliseconds(0);
  HandleEvent(d_.broker.Poll(wait, mailbox_->wake_fd()));
  // Deliveries that arrived in this turn can start at once.
  DispatchReady();
  UpdateConsuming();
}

void DeliveryLoop::HandleEvent(BrokerEvent event) {
  if (auto* delivery = std::get_if<Delivery>(&event)) {
    OnDelivery(std::move(*delivery));
  } else if (const auto* confirmed = std::get_if<PublishConfirmed>(&event)) {
    OnPublishConfirmed(confirmed->id);
  } else if (const auto* failed = std::get_if<PublishFailed>(&event)) {
    OnPublishFailed(failed->id, failed->reason);
  } else if (const auto* cancelled = std::get_if<ConsumerCancelled>(&event)) {
    d_.health.DependencyDown(Dependency::kRabbitmq, "consumer cancelled: " + cancelled->reason,
                             "check that rabbitmq.queue exists");
  } else if (const auto* blocked = std::get_if<ConnectionBlocked>(&event)) {
    d_.health.DependencyDown(Dependency::kRabbitmq, "blocked: " + blocked->reason, "broker resource alarm");
  } else if (std::holds_alternative<ConnectionUnblocked>(event)) {
    d_.health.DependencyUp(Dependency::kRabbitmq);
  } else if (const auto* closed = std::get_if<Closed>(&event)) {
    d_.metrics.SetUp(Dependency::kRabbitmq, false);
    d_.health.DependencyDown(Dependency::kRabbitmq, closed->reason, "reconnecting");
    OnConnectionChanged();
  } else if (std::holds_alternative<Connected>(event)) {
    d_.metrics.SetUp(Dependency::kRabbitmq, true);
    d_.health.DependencyUp(Dependency::kRabbitmq);
    OnConnectionChanged();
  } else if (const auto* connect_failed = std::get_if<ConnectFailed>(&event)) {
    d_.metrics.SetUp(Dependency::kRabbitmq, false);
    d_.health.DependencyDown(Dependency::kRabbitmq, connect_failed->reason, "reconnecting");
  }
}

// ------------------------------------------------------------ broker events

void DeliveryLoop::OnDelivery(Delivery delivery) {
  const uint64_t id = next_id_++;
  Tracked& t = tracked_[id];
  t.received_at = SteadyClock::now();
  t.history = ReadDeliveryHistory(delivery, d_.clock.Now());
  t.delivery = std::move(delivery);
  d_.health.OrderStarted();
  if (!t.history.problems.empty()) {
    d_.log.Warning("delivery " + std::to_string(t.delivery.delivery_tag) +
                   ": ignoring malformed x-wxpay headers: " + t.history.problems);
  }
  if (t.history.has_attempt && retrying_ > 0) {
    --retrying_;
    d_.health.SetRetrying(retrying_);
  }

  Result<std::string> order_no = ParseOrderMessage(t.delivery.body, options_.message);
  if (!order_no.ok()) {
    Decision d = InvalidMessageDecision(t.delivery.body, order_no.error().message, t.history.attempt);
    ReportDecision(d);
    t.outcome = "dead_letter";
    StartPublish(id, DeadLetterFor(t.delivery, d, t.history, options_.rabbit), false, false);
    return;
  }
  t.order_no = std::move(order_no).value();
  if (draining_) {
    NackAndFinish(id, "the daemon is stopping");
    return;
  }
  if (d_.claims.TryClaim(t.order_no)) {
    t.claimed = true;
    t.stage = Stage::kReady;
    ready_.push_back(id);
  } else {
    t.stage = Stage::kWaiting;
    d_.log.Debug("order=" + t.order_no + " is already being processed; this delivery waits for it");
  }
}

void DeliveryLoop::OnPublishConfirmed(PublishId publish_id) {
  auto found = by_publish_.find(publish_id);
  if (found == by_publish_.end()) return;
  const uint64_t id = found->second;
  by_publish_.erase(found);
  auto it = tracked_.find(id);
  if (it == tracked_.end()) return;
  Tracked& t = it->second;
  publish_backoff_.Reset();
  if (t.publish_failures > 0 && !t.publish_is_event) d_.health.DependencyUp(Dependency::kRabbitmq);
  if (t.publish_is_reschedule) {
    ++retrying_;
    d_.health.SetRetrying(retrying_);
  }
  AckAndFinish(id);
}

void DeliveryLoop::OnPublishFailed(PublishId publish_id, const std::string& reason) {
  auto found = by_publish_.find(publish_id);
  if (found == by_publish_.end()) return;
  const uint64_t id = found->second;
  by_publish_.erase(found);
  if (tracked_.count(id) != 0) PublishFailedFor(id, reason);
}

void DeliveryLoop::OnConnectionChanged() {
  // The old connection's deliveries are void: the broker requeues them.
  // Those on workers are dropped when their result comes back.
  std::vector<uint64_t> stale;
  for (const auto& [id, t] : tracked_) {
    if (t.stage != Stage::kProcessing && !IsCurrent(t)) stale.push_back(id);
  }
  for (uint64_t id : stale) Drop(id, "its connection is gone");
}

// ------------------------------------------------------------ worker results

void DeliveryLoop::HandleResults() {
  for (WorkResult& r : mailbox_->TakeAll()) {
    switch (r.kind) {
      case WorkResult::Kind::kOrder: OnOrderResult(r); break;
      case WorkResult::Kind::kDatabaseProbe: OnDatabaseProbe(r); break;
      case WorkResult::Kind::kWechatProbe:
        wechat_probe_running_ = false;
        d_.breaker.RecordProbe(r.ok, r.error, d_.clock.Now());
        if (!r.ok) {
          d_.log.Warning("WeChat breaker: probe failed (" + r.error + "); next probe in " +
                         Seconds(d_.breaker.status().probe_delay));
        }
        break;
    }
  }
}

void DeliveryLoop::ReportDecision(const Decision& d) {
  LogDecision(d_.log, d);
  d_.metrics.CountOrder(OutcomeName(d.outcome));
  FeedWechatBreaker(d_.breaker, d, d_.clock.Now());
}

void DeliveryLoop::OnOrderResult(WorkResult& r) {
  --processing_;
  auto it = tracked_.find(r.id);
  if (it == tracked_.end()) return;
  Tracked& t = it->second;
  const Decision& d = r.decision;
  ReportDecision(d);
  CheckBreakers();  // this decision may have opened the breaker

  if (!IsCurrent(t)) {
    Drop(r.id, "its connection was lost while it was processed; the broker redelivers it");
    return;
  }
  switch (d.outcome) {
    case Outcome::kDatabaseError:
      if (draining_) {
        NackAndFinish(r.id, "the database is unavailable and the daemon is stopping");
        return;
      }
      EnterDatabaseOutage(d.error);
      t.stage = Stage::kReady;
      ready_.push_front(r.id);
      return;
    case Outcome::kNothingToDo:
    case Outcome::kPaid:
    case Outcome::kCancelled:
      t.outcome = std::string(OutcomeName(d.outcome));
      if (!options_.rabbit.events_exchange.empty() && d.outcome != Outcome::kNothingToDo && !d.dry_run) {
        StartPublish(r.id, OutcomeEventFor(d, options_.rabbit.events_exchange, d_.clock.Now()), true, false);
        return;
      }
      AckAndFinish(r.id);
      return;
    case Outcome::kReschedule: {
      // A system-wide failure while the breaker is open is not the order's fault.
      const bool charge = !(d.system_wide && d_.breaker.open());
      t.outcome = "reschedule";
      StartPublish(r.id, RescheduleFor(t.delivery, d, t.history, charge, options_.rabbit, options_.tiers), false,
                   true);
      return;
    }
    case Outcome::kDeadLetter:
      t.outcome = "dead_letter";
      StartPublish(r.id, DeadLetterFor(t.delivery, d, t.history, options_.rabbit), false, false);
      return;
  }
}

void DeliveryLoop::OnDatabaseProbe(const WorkResult& r) {
  database_probe_running_ = false;
  if (!database_outage_) return;
  if (r.ok) {
    database_outage_ = false;
    database_backoff_.Reset();
    database_error_.clear();
    d_.metrics.SetUp(Dependency::kDatabase, true);
    d_.health.DependencyUp(Dependency::kDatabase);
    d_.log.Info("database: reachable again; processing the held orders and consuming again");
    return;
  }
  const std::chrono::milliseconds wait = database_backoff_.Next();
  next_database_probe_ = SteadyClock::now() + wait;
  d_.health.DependencyDown(Dependency::kDatabase, r.error, "check the database server");
  if (r.error != database_error_) {
    d_.log.Warning("database: still unavailable (" + r.error + "); next try in " + Seconds(wait));
    database_error_ = r.error;
  }
}

void DeliveryLoop::EnterDatabaseOutage(const std::string& error) {
  if (database_outage_) return;
  database_outage_ = true;
  database_error_ = error;
  database_backoff_.Reset();
  const std::chrono::milliseconds wait = database_backoff_.Next();
  next_database_probe_ = SteadyClock::now() + wait;
  d_.metrics.SetUp(Dependency::kDatabase, false);
  d_.health.DependencyDown(Dependency::kDatabase, error, "check the database server");
  d_.log.Warning("database: " + error + "; not acknowledging, consuming paused, retrying the database in " +
                 Seconds(wait));
}

// ------------------------------------------------------------------ timers

void DeliveryLoop::RunTimers() {
  const auto now = SteadyClock::now();
  std::vector<uint64_t> retry, expired;
  for (const auto& [id, t] : tracked_) {
    const bool held = t.stage == Stage::kWaiting || t.stage == Stage::kReady || t.stage == Stage::kPublishRetry;
    if (held && now - t.received_at >= options_.hold_limit) {
      expired.push_back(id);
    } else if (t.stage == Stage::kPublishRetry && now >= t.retry_at) {
      retry.push_back(id);
    }
  }
  for (uint64_t id : expired) {
    NackAndFinish(id, "held for " + Seconds(options_.hold_limit) +
                          " without finishing; handed back before RabbitMQ's consumer_timeout closes the channel");
  }
  for (uint64_t id : retry) {
    auto it = tracked_.find(id);
    if (it == tracked_.end()) continue;
    if (!IsCurrent(it->second)) {
      Drop(id, "its connection is gone");
      continue;
    }
    SendPublish(id);
  }
  ClaimWaiting();

  if (database_outage_ && !database_probe_running_ && now >= next_database_probe_) {
    database_probe_running_ = true;
    auto mailbox = mailbox_;
    ShopStore& store = d_.store;
    d_.workers.Submit([mailbox, &store] {
      WorkResult r;
      r.kind = WorkResult::Kind::kDatabaseProbe;
      StoreResult<TimePoint> answer = store.DatabaseNow();
      r.ok = answer.ok();
      if (!r.ok) r.error = answer.error().message;
      mailbox->Post(std::move(r));
    });
  }
  if (breaker_open_ && !wechat_probe_running_ && d_.breaker.ProbeDue(d_.clock.Now())) {
    wechat_probe_running_ = true;
    auto mailbox = mailbox_;
    PaymentGateway& gateway = d_.gateway;
    d_.workers.Submit([mailbox, &gateway] {
      WorkResult r;
      r.kind = WorkResult::Kind::kWechatProbe;
      Result<Trade, PayError> answer = gateway.Query(PaymentRef{kProbeOrderNo, ""});
      // Any answer about the order (a trade, 404, ...) shows WeChat Pay works.
      r.ok = answer.ok() || !answer.error().system_wide;
      if (!r.ok) r.error = answer.error().Describe();
      mailbox->Post(std::move(r));
    });
  }
}

void DeliveryLoop::ClaimWaiting() {
  for (auto& [id, t] : tracked_) {
    if (t.stage != Stage::kWaiting) continue;
    if (!d_.claims.TryClaim(t.order_no)) continue;
    t.claimed = true;
    t.stage = Stage::kReady;
    ready_.push_back(id);
  }
}

bool DeliveryLoop::ProcessingAllowed() const { return !draining_ && !database_outage_ && !breaker_open_; }

void DeliveryLoop::DispatchReady() {
  while (ProcessingAllowed() && processing_ < options_.concurrency && !ready_.empty()) {
    const uint64_t id = ready_.front();
    ready_.pop_front();
    auto it = tracked_.find(id);
    if (it == tracked_.end() || it->second.stage != Stage::kReady) continue;
    Tracked& t = it->second;
    if (!IsCurrent(t)) {
      Drop(id, "its connection is gone");
      continue;
    }
    t.stage = Stage::kProcessing;
    ++processing_;
    auto mailbox = mailbox_;
    Engine& engine = d_.engine;
    StateStore& state = d_.state;
    Logger& log = d_.log;
    const bool dry_run = options_.dry_run;
    d_.workers.Submit([mailbox, &engine, &state, &log, dry_run, id, order_no = t.order_no,
                       attempt = t.history.attempt] {
      WorkResult r;
      r.kind = WorkResult::Kind::kOrder;
      r.id = id;
      Result<int> crashes = state.BeginOrder(order_no);
      if (!crashes.ok()) {
        log.Warning("order=" + order_no + ": state DB: " + crashes.error().message +
                    "; processing it without crash detection");
      }
      if (crashes.ok() && *crashes >= kPoisonCrashes) {
        r.decision = PoisonDecision(order_no, attempt, *crashes);
      } else {
        r.decision = engine.Process(order_no, attempt);
      }
      if (crashes.ok()) {
        if (Status s = state.EndOrder(order_no); !s) log.Warning("order=" + order_no + ": state DB: " + s.message());
      }
      if (r.decision.outcome == Outcome::kDeadLetter && !dry_run && !r.decision.dry_run) {
        Status parked = state.Park(order_no, DeadLetterReasonName(r.decision.reason), r.decision.error);
        if (!parked) {
          log.Warning("order=" + order_no + ": could not record it as parked (the sweeper may pick it up): " +
                      parked.message());
        }
      }
      mailbox->Post(std::move(r));
    });
  }
}

void DeliveryLoop::CheckBreakers() {
  const bool open = d_.breaker.open();
  if (open != breaker_open_) {
    breaker_open_ = open;
    d_.metrics.SetBreakerOpen("wechat", open);
    d_.health.SetBreakerOpen("wechat", open);
    if (open) {
      const WechatBreakerStatus s = d_.breaker.status();
      d_.log.Warning("WeChat breaker open: " + s.reason + "; consuming paused, held orders are not charged an " +
                     "attempt; probing WeChat Pay in " + Seconds(s.probe_delay));
    } else {
      d_.log.Info("WeChat breaker closed: WeChat Pay answers again; consuming resumed");
    }
  }
  const bool not_found = d_.engine.not_found_breaker().open();
  if (not_found != not_found_open_) {
    not_found_open_ = not_found;
    d_.metrics.SetBreakerOpen("not_found", not_found);
    d_.health.SetBreakerOpen("not_found", not_found);
    if (not_found) {
      const NotFoundBreakerStatus s = d_.engine.not_found_breaker().status();
      d_.log.Error("not-found breaker open: " + std::to_string(s.consecutive_not_found) +
                   " consecutive first queries answered 404 (policy.not_found_breaker " + std::to_string(s.threshold) +
                   "); further 404s are parked as not_found instead of cancelled. Check database.orders.out_trade_no "
                   "and the merchant/sub-merchant, then reload (systemctl reload) to reset it");
    } else {
      d_.log.Info("not-found breaker reset");
    }
  }
}

bool DeliveryLoop::PublishFailing() const {
  for (const auto& [id, t] : tracked_) {
    if (t.stage == Stage::kPublishRetry && !t.publish_is_event) return true;
  }
  return false;
}

void DeliveryLoop::UpdateConsuming() {
  const bool publish_failing = PublishFailing();
  const bool want = !draining_ && !database_outage_ && !breaker_open_ && !publish_failing;
  if (want == consuming_) return;
  consuming_ = want;
  Status s = d_.broker.SetConsuming(want);
  if (want) {
    d_.log.Info("consuming resumed");
  } else {
    std::string why = draining_           ? "stopping"
                      : database_outage_  ? "the database is unavailable"
                      : breaker_open_     ? "the WeChat breaker is open"
                                          : "follow-up messages cannot be published";
    d_.log.Info("consuming paused: " + why);
  }
  // Not connected: the broker remembers the wish and applies it on reconnect.
  if (!s) d_.log.Debug("rabbitmq: " + s.message());
}

// ------------------------------------------------------------- publishing

void DeliveryLoop::StartPublish(uint64_t id, OutgoingMessage message, bool is_event, bool is_reschedule) {
  Tracked& t = tracked_.at(id);
  t.publish = std::move(message);
  t.publish_is_event = is_event;
  t.publish_is_reschedule = is_reschedule;
  t.publish_failures = 0;
  SendPublish(id);
}

void DeliveryLoop::SendPublish(uint64_t id) {
  Tracked& t = tracked_.at(id);
  Result<PublishId> sent = d_.broker.Publish(*t.publish);
  if (!sent.ok()) {
    PublishFailedFor(id, sent.error().message);
    return;
  }
  t.stage = Stage::kPublishing;
  t.publish_id = *sent;
  by_publish_[*sent] = id;
}

void DeliveryLoop::PublishFailedFor(uint64_t id, const std::string& reason) {
  Tracked& t = tracked_.at(id);
  ++t.publish_failures;
  if (!IsCurrent(t)) {
    Drop(id, "its connection is gone");
    return;
  }
  const std::string what = t.publish_is_event ? "outcome event to '" + t.publish->exchange + "'"
                                              : "follow-up to '" + t.publish->routing_key + "'";
  if (t.publish_is_event && t.publish_failures >= options_.event_attempts) {
    ++counters_.events_failed;
    d_.log.Warning(Describe(t) + ": the " + what + " could not be published after " +
                   std::to_string(t.publish_failures) + " tries (" + reason +
                   "); the change is committed, so the message is acknowledged without the event");
    AckAndFinish(id);
    return;
  }
  const std::chrono::milliseconds wait = publish_backoff_.Next();
  t.stage = Stage::kPublishRetry;
  t.retry_at = SteadyClock::now() + wait;
  if (!t.publish_is_event) {
    d_.health.DependencyDown(Dependency::kRabbitmq, "publishing follow-ups fails: " + reason,
                             "check the retry exchange and queues (setup-topology)");
  }
  d_.log.Warning(Describe(t) + ": the " + what + " was not delivered (" + reason +
                 "); the message stays unacknowledged, retrying in " + Seconds(wait));
}

// ------------------------------------------------------------------ endings

void DeliveryLoop::AckAndFinish(uint64_t id) {
  Tracked& t = tracked_.at(id);
  if (!IsCurrent(t)) {  // its tag would name another delivery on the new channel
    Drop(id, "its connection is gone");
    return;
  }
  if (Status s = d_.broker.Ack(t.delivery.ref()); !s) {
    d_.log.Warning(Describe(t) + ": could not acknowledge (" + s.message() + "); the broker will redeliver it");
  } else {
    ++counters_.acked;
  }
  const bool final_outcome = t.outcome != "reschedule";
  if (t.outcome == "paid" || t.outcome == "cancelled" || t.outcome == "nothing_to_do") {
    d_.health.RecordSuccess();
    d_.metrics.SetLastSuccess(d_.clock.Now());
  }
  Finish(id, final_outcome);
}

void DeliveryLoop::NackAndFinish(uint64_t id, const std::string& why) {
  Tracked& t = tracked_.at(id);
  if (IsCurrent(t)) {
    if (Status s = d_.broker.Nack(t.delivery.ref(), true); !s) {
      d_.log.Warning(Describe(t) + ": could not hand it back (" + s.message() + "); the broker will redeliver it");
    } else {
      ++counters_.requeued;
    }
  }
  d_.log.Info(Describe(t) + ": returned to the queue unacknowledged: " + why);
  Finish(id, false);
}

void DeliveryLoop::Drop(uint64_t id, const std::string& why) {
  Tracked& t = tracked_.at(id);
  ++counters_.dropped_stale;
  d_.log.Info(Describe(t) + ": not acknowledged: " + why);
  Finish(id, false);
}

void DeliveryLoop::Finish(uint64_t id, bool final_outcome) {
  auto it = tracked_.find(id);
  if (it == tracked_.end()) return;
  Tracked& t = it->second;
  if (t.stage == Stage::kPublishing) by_publish_.erase(t.publish_id);
  if (t.claimed) d_.claims.Release(t.order_no);
  if (final_outcome && !t.outcome.empty()) {
    d_.health.OrderFinished(t.outcome);
  } else {
    d_.health.OrderDeferred();
  }
  tracked_.erase(it);
  // Another delivery of the same order may now take the claim.
  ClaimWaiting();
}

// ------------------------------------------------------------------- drain

void DeliveryLoop::StartDrain() {
  if (draining_) return;
  draining_ = true;
  std::vector<uint64_t> unstarted;
  for (const auto& [id, t] : tracked_) {
    if (t.stage == Stage::kWaiting || t.stage == Stage::kReady) unstarted.push_back(id);
  }
  for (uint64_t id : unstarted) NackAndFinish(id, "the daemon is stopping");
  UpdateConsuming();
}

bool DeliveryLoop::Drained() const { return tracked_.empty() && processing_ == 0; }

void DeliveryLoop::ReleaseAll() {
  std::vector<uint64_t> held;
  for (const auto& [id, t] : tracked_) {
    if (t.stage != Stage::kProcessing) held.push_back(id);
  }
  for (uint64_t id : held) NackAndFinish(id, "the daemon is exiting");
}

// ----------------------------------------------------------------- helpers

bool DeliveryLoop::IsCurrent(const Tracked& t) const { return t.delivery.generation == d_.broker.generation(); }

std::string DeliveryLoop::Describe(const Tracked& t) const {
  if (!t.order_no.empty()) return "order=" + t.order_no;
  return "delivery \"" + PreviewBytes(t.delivery.body) + "\"";
}

void DeliveryLoop::SetTiers(DelayTiers tiers) {
  if (!tiers.empty()) options_.tiers = std::move(tiers);
}

DeliveryLoopStats DeliveryLoop::stats() const {
  DeliveryLoopStats s = counters_;
  s.held = tracked_.size();
  s.processing = processing_;
  s.consuming = consuming_;
  s.database_outage = database_outage_;
  s.wechat_breaker_open = breaker_open_;
  s.publish_failing = PublishFailing();
  s.draining = draining_;
  return s;
}

}  // namespace wxpay
