// Messages as the broker adapter hands them out and takes them in: owned
// copies, independent of librabbitmq's buffers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "broker/field_table.h"

namespace wxpay {

// AMQP basic properties; an absent optional is a property the publisher did
// not set (and that a copy must not set either).
struct MessageProperties {
  std::optional<std::string> content_type;
  std::optional<std::string> content_encoding;
  std::optional<FieldTable> headers;
  std::optional<uint8_t> delivery_mode;  // 2 = persistent
  std::optional<uint8_t> priority;
  std::optional<std::string> correlation_id;
  std::optional<std::string> reply_to;
  std::optional<std::string> expiration;
  std::optional<std::string> message_id;
  std::optional<uint64_t> timestamp;
  std::optional<std::string> type;
  std::optional<std::string> user_id;
  std::optional<std::string> app_id;
  std::optional<std::string> cluster_id;
};

bool operator==(const MessageProperties& a, const MessageProperties& b);

inline constexpr uint8_t kPersistentDeliveryMode = 2;

// Identifies a delivery for Ack/Nack. Delivery tags restart with every
// channel, so a tag is meaningful only together with the generation of the
// connection it came from (SPEC §2 invariant 4).
struct DeliveryRef {
  uint64_t generation = 0;
  uint64_t delivery_tag = 0;
};

struct Delivery {
  uint64_t delivery_tag = 0;
  uint64_t generation = 0;  // of the connection that received it
  bool redelivered = false;
  std::string exchange;
  std::string routing_key;
  std::string body;  // raw bytes: unvalidated, may hold anything
  MessageProperties properties;
  // Non-empty when the headers could not be copied faithfully (nesting too
  // deep); the copy then lacks the offending values.
  std::string header_problem;

  DeliveryRef ref() const { return DeliveryRef{generation, delivery_tag}; }
};

struct OutgoingMessage {
  std::string exchange;  // "" = the default exchange (routing key = queue name)
  std::string routing_key;
  std::string body;
  MessageProperties properties;
  // Unroutable mandatory messages come back (basic.return) and count as
  // failed publishes; without it they would be confirmed and silently lost.
  bool mandatory = true;
};

// Names one publish of a session; see BrokerSession::Publish.
using PublishId = uint64_t;

}  // namespace wxpay
