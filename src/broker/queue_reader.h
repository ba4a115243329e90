// basic.get on a connection of its own, for `redrive`: BrokerSession
// consumes but has no basic.get, and a consumer cannot stop at
// "the messages that were there when we started". Messages taken stay
// unacknowledged until Ack() or Requeue*(); closing the connection requeues
// whatever is left, so a crash loses nothing.
//
// One thread; no heartbeat servicing between calls beyond librabbitmq's own
// (every call is a synchronous RPC), which is enough for a command that
// keeps calling.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "broker/amqp_connection.h"
#include "broker/message.h"
#include "core/result.h"

namespace wxpay {

class QueueReader {
  struct Key {
    explicit Key() = default;
  };

 public:
  static Result<std::unique_ptr<QueueReader>> Open(const ConnectOptions& options);
  QueueReader(Key, AmqpConnection connection, std::string where);
  ~QueueReader();  // closes the channel and connection: unacked messages are requeued
  QueueReader(const QueueReader&) = delete;
  QueueReader& operator=(const QueueReader&) = delete;

  // The next message of `queue` (unacknowledged), or nullopt when it is empty.
  // Deliveries carry generation 1 and this channel's delivery tags.
  Result<std::optional<Delivery>> Get(const std::string& queue);
  Status Ack(uint64_t delivery_tag);
  // nack with requeue of every message taken and not acked.
  Status RequeueAll();

 private:
  AmqpConnection conn_;
  std::string where_;
  bool usable_ = true;
};

}  // namespace wxpay
