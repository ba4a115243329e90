// The broker thread's work (SPEC §2 invariant 4, §3, §6): take deliveries,
// hand them to workers, and acknowledge each one only once its outcome is
// committed or its follow-up is confirmed and routed.
//
// Life of a delivery:
//   received   the body is validated (core/message.h); an invalid body is
//              dead-lettered `invalid_message` without touching SQL or HTTP.
//   waiting    another delivery of the same order (or the sweeper) is working
//              on it: this one waits for the claim (never processed twice at
//              once, never acked blindly).
//   ready      claimed; waits for a free worker, or while processing is
//              paused (database outage, WeChat breaker open).
//   processing on a worker: poison check (StateStore::BeginOrder; 3 crashes
//              -> dead-letter `poison`), Engine::Process, EndOrder, and for
//              dead letters StateStore::Park.
//   publishing the follow-up (reschedule into a retry tier, dead letter, or
//              outcome event) awaits its confirm; only PublishConfirmed acks
//              the original. PublishFailed (nack, basic.return, lost channel)
//              keeps the original unacked, pauses consuming and retries with
//              backoff.
//   done       acked (or handed back with nack+requeue, or dropped because
//              its connection is gone, which makes the broker redeliver it).
//
// Every delivery carries the generation of the connection that received it;
// a result for an older generation is dropped, never acked on the new
// connection (delivery tags restart per channel).
//
// Database outage (a decision says database_error): nothing is acked; the
// delivery is held, consuming stops, the database is probed with backoff
// (ShopStore::DatabaseNow on a worker) and held deliveries are processed
// again once it answers. RabbitMQ closes a channel whose delivery stays
// unacked longer than consumer_timeout (30 min by default), which would also
// void the tags of deliveries whose follow-ups are already confirmed; so a
// delivery held longer than `hold_limit` (15 min) is handed back with
// nack+requeue instead. Since the daemon is not consuming then, the broker
// keeps it for another consumer or for our resume; no attempt is charged.
//
// WeChat breaker (core/wechat_breaker.h), fed by every decision: while open,
// consuming stops, ready deliveries are held (not processed, not charged),
// a probe query (an order number that cannot exist; a 404 is success) runs
// with the breaker's backoff, and processing resumes once a probe succeeds.
// A reschedule whose failure was system-wide while the breaker is open keeps
// its attempt number (x-wxpay-attempt unchanged): outages do not burn orders.
//
// Outcome events (rabbitmq.events_exchange): after a paid/cancelled commit an
// event is published (persistent, confirmed, not mandatory) and the original
// acked once it is confirmed. The commit is already done, so an event that
// still fails after `event_attempts` tries is given up: a warning, the
// events_failed counter, and the original is acked (re-processing would find
// nothing to do and send no event either).
//
// Threading: every method runs on the broker thread, the only thread that
// touches the MessageBroker. Workers only post results to a mailbox.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "broker/backoff.h"
#include "broker/broker.h"
#include "broker/delay_tiers.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/engine.h"
#include "core/message.h"
#include "core/ports.h"
#include "core/wechat_breaker.h"
#include "daemon/follow_ups.h"
#include "daemon/mailbox.h"
#include "daemon/order_claims.h"
#include "daemon/worker_pool.h"
#include "ops/health.h"
#include "ops/log.h"
#include "ops/metrics.h"
#include "store/state_store.h"

namespace wxpay {

// An order whose processing ended the daemon this many times is poison.
inline constexpr int kPoisonCrashes = 3;
// Queried while the WeChat breaker is open: cannot exist, so a 404 proves
// that WeChat Pay answers and accepts our signature.
inline constexpr char kProbeOrderNo[] = "wxpayreconcilerprobe";

struct DeliveryLoopOptions {
  RabbitConfig rabbit;  // queue names, retry exchange, events exchange
  DelayTiers tiers;     // REQUIRES: not empty
  MessageOptions message;
  int concurrency = 8;  // orders processed at once (the pool needs 2 more threads for probes)
  bool dry_run = false;  // never park (the daemon refuses dry_run; kept for symmetry with the engine)
  std::chrono::milliseconds hold_limit{15 * 60 * 1000};
  ReconnectPolicy database_probe{std::chrono::milliseconds(1000), std::chrono::milliseconds(30'000), 2.0};
  ReconnectPolicy publish_retry{std::chrono::milliseconds(500), std::chrono::milliseconds(30'000), 2.0};
  int event_attempts = 3;
};

// Everything is borrowed and must outlive the loop; the worker pool must be
// shut down before the objects its tasks use (engine, stores, gateway, log).
struct DeliveryLoopDeps {
  MessageBroker& broker;
  Engine& engine;
  ShopStore& store;          // database probes
  PaymentGateway& gateway;   // WeChat breaker probes
  StateStore& state;
  WechatBreaker& breaker;
  OrderClaims& claims;
  WorkerPool& workers;
  Health& health;
  Metrics& metrics;
  Logger& log;
  const Clock& clock;
};

struct DeliveryLoopStats {
  size_t held = 0;        // deliveries not yet acked
  int processing = 0;     // on workers
  bool consuming = true;  // what the loop asked of the broker
  bool database_outage = false;
  bool wechat_breaker_open = false;
  bool publish_failing = false;
  bool draining = false;
  uint64_t acked = 0;
  uint64_t requeued = 0;       // handed back with nack+requeue
  uint64_t dropped_stale = 0;  // connection gone: the broker redelivers
  uint64_t events_failed = 0;  // outcome events given up (commit kept)
};

class DeliveryLoop {
 public:
  using SteadyClock = std::chrono::steady_clock;

  DeliveryLoop(DeliveryLoopDeps deps, DeliveryLoopOptions options);
  DeliveryLoop(const DeliveryLoop&) = delete;
  DeliveryLoop& operator=(const DeliveryLoop&) = delete;

  // One turn: worker results, due timers (probes, publish retries, hold
  // limit), dispatch, then one broker event (waiting at most `max_wait`
  // when no result is pending).
  void Step(std::chrono::milliseconds max_wait);

  // SIGTERM: stop consuming, hand back what has not started, let in-flight
  // orders finish (their results are acked as usual).
  void StartDrain();
  bool draining() const { return draining_; }
  // Nothing left: no delivery held, no order on a worker.
  bool Drained() const;
  // At exit: nack+requeue every delivery of the live connection still held
  // (those on workers are requeued by the connection's close).
  void ReleaseAll();

  // True while processing may run (no outage, breaker closed, not draining);
  // the sweeper follows it.
  bool ProcessingAllowed() const;
  DeliveryLoopStats stats() const;

  // SIGHUP: reschedules chosen from now on round up to `tiers`. Publishes
  // already built keep their tier. The caller declares the new retry queues
  // first: a reschedule into a tier without its queue would be unroutable.
  // REQUIRES: ascending (ComputeDelayTiers); an empty list is ignored.
  void SetTiers(DelayTiers tiers);
  const DelayTiers& tiers() const { return options_.tiers; }

 private:
  enum class Stage { kWaiting, kReady, kProcessing, kPublishing, kPublishRetry };

  struct Tracked {
    Delivery delivery;
    DeliveryHistory history;
    std::string order_no;  // validated; empty for an invalid body
    Stage stage = Stage::kReady;
    bool claimed = false;
    SteadyClock::time_point received_at;
    std::optional<OutgoingMessage> publish;
    bool publish_is_event = false;
    bool publish_is_reschedule = false;
    int publish_failures = 0;
    PublishId publish_id = 0;
    SteadyClock::time_point retry_at;
    std::string outcome;  // Health's label once acked: "paid", "dead_letter", ...
  };

  struct WorkResult {
    enum class Kind { kOrder, kDatabaseProbe, kWechatProbe };
    Kind kind = Kind::kOrder;
    uint64_t id = 0;
    Decision decision;
    bool ok = false;
    std::string error;
  };

  void HandleEvent(BrokerEvent event);
  void OnDelivery(Delivery delivery);
  void OnPublishConfirmed(PublishId id);
  void OnPublishFailed(PublishId id, const std::string& reason);
  void OnConnectionChanged();

  void HandleResults();
  void OnOrderResult(WorkResult& result);
  void OnDatabaseProbe(const WorkResult& result);
  void ReportDecision(const Decision& d);

  void RunTimers();
  void ClaimWaiting();
  void DispatchReady();
  void CheckBreakers();
  void UpdateConsuming();
  void EnterDatabaseOutage(const std::string& error);

  void StartPublish(uint64_t id, OutgoingMessage message, bool is_event, bool is_reschedule);
  void SendPublish(uint64_t id);
  void PublishFailedFor(uint64_t id, const std::string& reason);

  void AckAndFinish(uint64_t id);
  void NackAndFinish(uint64_t id, const std::string& why);
  void Drop(uint64_t id, const std::string& why);
  // Forgets the delivery: releases its claim, updates Health.
  void Finish(uint64_t id, bool final_outcome);

  bool IsCurrent(const Tracked& t) const;
  bool PublishFailing() const;
  std::string Describe(const Tracked& t) const;

  DeliveryLoopDeps d_;
  DeliveryLoopOptions options_;
  std::shared_ptr<Mailbox<WorkResult>> mailbox_;

  std::map<uint64_t, Tracked> tracked_;  // by arrival
  std::map<PublishId, uint64_t> by_publish_;
  std::deque<uint64_t> ready_;  // ids in kReady, in order; stale ids are skipped
  uint64_t next_id_ = 1;
  int processing_ = 0;

  bool draining_ = false;
  bool consuming_ = true;  // the broker starts out consuming
  bool database_outage_ = false;
  bool database_probe_running_ = false;
  SteadyClock::time_point next_database_probe_{};
  Backoff database_backoff_;
  std::string database_error_;
  bool wechat_probe_running_ = false;
  bool breaker_open_ = false;
  bool not_found_open_ = false;
  Backoff publish_backoff_;
  int64_t retrying_ = 0;
  DeliveryLoopStats counters_;
};

// Logs one decision line (RenderLogLine) at the decision's severity.
void LogDecision(Logger& log, const Decision& d);

}  // namespace wxpay
