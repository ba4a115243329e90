// The broker as the daemon loop sees it: a stream of events, acks and
// confirmed publishes. Implemented by ReconnectingBroker over RabbitMQ; the
// daemon's tests can implement it with a fake.
//
// Threading: every call on one MessageBroker comes from one thread (the
// broker thread), which must call Poll() often — heartbeats are only serviced
// inside it.
#pragma once

#include <chrono>
#include <cstdint>

#include "broker/broker_events.h"
#include "broker/message.h"
#include "core/result.h"

namespace wxpay {

class MessageBroker {
 public:
  virtual ~MessageBroker() = default;

  // The next event, waiting at most `timeout`. With `wake_fd` >= 0 the wait
  // also ends (Idle) once that descriptor is readable; the caller clears it.
  virtual BrokerEvent Poll(std::chrono::milliseconds timeout, int wake_fd) = 0;

  // Refused (nothing sent) when `ref` comes from an earlier connection.
  virtual Status Ack(const DeliveryRef& ref) = 0;
  virtual Status Nack(const DeliveryRef& ref, bool requeue) = 0;

  // The outcome arrives later through Poll() (PublishConfirmed or
  // PublishFailed with the returned id).
  virtual Result<PublishId> Publish(const OutgoingMessage& message) = 0;
  // Publish and wait for this publish's outcome (one-shot commands).
  virtual Status PublishAndWait(const OutgoingMessage& message, std::chrono::milliseconds timeout) = 0;

  // Pause or resume consuming (breakers, database outage, drain on SIGTERM).
  // Deliveries already received stay ackable.
  virtual Status SetConsuming(bool consuming) = 0;

  // The current connection's generation; 0 while disconnected.
  virtual uint64_t generation() const = 0;
};

}  // namespace wxpay
