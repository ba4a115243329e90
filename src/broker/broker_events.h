// What polling the broker can yield. One event per Poll call.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>

#include "broker/message.h"

namespace wxpay {

// Nothing happened before the timeout (heartbeats may have been serviced).
struct Idle {};

// The broker took responsibility for publish `id` (and it was routed).
struct PublishConfirmed {
  PublishId id = 0;
};

// Publish `id` is not known to be delivered: nacked, returned as unroutable,
// its channel was closed, or the connection was lost before the confirm.
// The original delivery must not be acked on the strength of it.
struct PublishFailed {
  PublishId id = 0;
  std::string reason;
};

// The broker cancelled the consumer (queue deleted, node failure). The
// connection lives; deliveries already received can still be acked.
struct ConsumerCancelled {
  std::string reason;
};

// A resource alarm (memory, disk): the broker stops reading publishes.
struct ConnectionBlocked {
  std::string reason;
};
struct ConnectionUnblocked {};

// The connection is gone; every DeliveryRef of its generation is void (the
// broker requeues those deliveries) and every unconfirmed publish has
// already been reported as PublishFailed.
struct Closed {
  std::string reason;
};

// (ReconnectingBroker) A new connection is consuming; deliveries now carry
// this generation.
struct Connected {
  uint64_t generation = 0;
};

// (ReconnectingBroker) Connecting or re-subscribing failed; the next try is
// in `retry_in`.
struct ConnectFailed {
  std::string reason;
  std::chrono::milliseconds retry_in{0};
};

using BrokerEvent = std::variant<Idle, Delivery, PublishConfirmed, PublishFailed, ConsumerCancelled, ConnectionBlocked,
                                 ConnectionUnblocked, Closed, Connected, ConnectFailed>;

}  // namespace wxpay
