// A MessageBroker that survives connection loss. librabbitmq has no recovery
// of its own, so on any loss this drops the session, waits (capped
// exponential backoff), connects again, re-declares only the daemon's own
// objects (never the shop's), sets the prefetch, consumes again and stamps
// deliveries with a new generation, so that results computed for deliveries
// of the old connection are refused instead of acking the wrong message.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "broker/backoff.h"
#include "broker/broker.h"
#include "broker/broker_session.h"
#include "broker/topology.h"
#include "ops/log.h"

namespace wxpay {

struct BrokerOptions {
  ConnectOptions connect;
  std::string queue;  // consumed from; empty = publish only
  int prefetch = 64;
  TopologyPlan redeclare;  // declared on every connect (e.g. RetryTopology)
  ReconnectPolicy reconnect;
};

class ReconnectingBroker final : public MessageBroker {
 public:
  using Sleep = std::function<void(std::chrono::milliseconds)>;

  // `sleep` waits while disconnected (injectable for tests); by default the
  // calling thread sleeps. Does not connect: call Connect() or Poll().
  ReconnectingBroker(BrokerOptions options, Logger& logger, Sleep sleep = nullptr);
  ~ReconnectingBroker() override;

  // One connection attempt now, ignoring the backoff (a live session is
  // dropped first). For start-up, where the caller bounds the total wait
  // (policy.start_timeout) and reports errors.
  Status Connect();

  // While disconnected: sleeps until the next attempt (at most `timeout`),
  // then tries once and yields Connected or ConnectFailed. While connected:
  // the session's events; after Closed the next call starts reconnecting.
  // After ConsumerCancelled it re-subscribes with backoff.
  BrokerEvent Poll(std::chrono::milliseconds timeout, int wake_fd) override;

  Status Ack(const DeliveryRef& ref) override;
  Status Nack(const DeliveryRef& ref, bool requeue) override;
  Result<PublishId> Publish(const OutgoingMessage& message) override;
  Status PublishAndWait(const OutgoingMessage& message, std::chrono::milliseconds timeout) override;
  Status SetConsuming(bool consuming) override;
  uint64_t generation() const override;

  // SIGHUP: the plan every later connect declares (e.g. the retry topology
  // of new delay tiers). Set it once the live session has declared it.
  void SetRedeclare(TopologyPlan plan) { options_.redeclare = std::move(plan); }

  bool connected() const { return session_ != nullptr; }
  // The live session (null while disconnected), e.g. for DeclareTopology.
  BrokerSession* session() { return session_.get(); }

 private:
  using Clock = std::chrono::steady_clock;
  Status NotConnected(const char* what) const;

  BrokerOptions options_;
  Logger& logger_;  // not owned
  Sleep sleep_;
  Backoff backoff_;
  std::unique_ptr<BrokerSession> session_;
  uint64_t last_generation_ = 0;
  bool want_consuming_ = true;
  Clock::time_point next_connect_{};
  Clock::time_point next_subscribe_{};
  std::string last_error_;
};

}  // namespace wxpay
