// One AMQP connection and everything done on it, for ONE thread.
//
// librabbitmq is not thread-safe, and heartbeats are only serviced inside its
// calls, so the thread that owns a session must call Poll() often (well
// within the heartbeat) and do every ack and publish itself; workers hand
// their results to that thread.
//
// Channels:
//   1  consuming: basic.qos prefetch, basic.consume with manual acks, acks.
//   2  publishing in confirm mode (follow-ups, one-shot commands).
//   3  administration: declares and inspections, opened on demand.
// Separate channels because a channel error closes the whole channel: a
// publish to a missing exchange must not take the consumer down (which would
// requeue every in-flight delivery and void its tag), and a failed passive
// declare must disturb neither. It also keeps the two sequence spaces apart:
// basic.ack frames on channel 2 are confirms, delivery tags live on channel 1.
// A closed publishing channel is reopened in place (its unconfirmed publishes
// fail); a closed consuming channel ends the session (its tags are void).
//
// Poll() is the single frame dispatcher: deliveries, confirms, returns,
// cancels, blocked notices and closes all come out of it as events, in the
// order the broker sent them.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "broker/amqp_connection.h"
#include "broker/amqp_error.h"
#include "broker/broker_events.h"
#include "broker/field_table.h"
#include "broker/publish_tracker.h"
#include "core/result.h"
#include "ops/log.h"

namespace wxpay {

struct QueueInfo {
  uint32_t message_count = 0;  // ready messages (not counting unacked ones)
  uint32_t consumer_count = 0;
};

class BrokerSession {
 public:
  // Connects, opens the consuming and publishing channels and puts the
  // publishing channel into confirm mode. `generation` is stamped on every
  // delivery; the caller makes it unique per connection.
  static Result<std::unique_ptr<BrokerSession>> Open(const ConnectOptions& options, uint64_t generation,
                                                     Logger& logger);

  // Closes the connection politely when it is still open (waits at most the
  // RPC timeout for the broker's answer); unacked deliveries go back to their
  // queues.
  ~BrokerSession();
  BrokerSession(const BrokerSession&) = delete;
  BrokerSession& operator=(const BrokerSession&) = delete;

  uint64_t generation() const { return generation_; }
  bool closed() const { return closed_; }
  const std::string& close_reason() const { return close_reason_; }
  bool blocked() const { return blocked_; }
  bool consuming() const { return !consumer_tag_.empty(); }
  const std::string& endpoint() const { return where_; }

  // Checks that `queue` exists (without disturbing channel 1 if it does
  // not), sets the prefetch and starts a manual-ack consumer. One consumer
  // per session.
  Status StartConsuming(const std::string& queue, int prefetch);
  // Cancels the consumer; deliveries already sent may still come out of
  // Poll() and can be acked.
  Status StopConsuming();

  // The next event, waiting at most `timeout`. Idle on timeout; Closed once
  // the connection is gone (and on every call after that). With `wake_fd`
  // >= 0 the wait is a poll() on the socket and `wake_fd`, and ends (Idle)
  // as soon as `wake_fd` is readable; the caller clears it.
  BrokerEvent Poll(std::chrono::milliseconds timeout, int wake_fd = -1);

  // Refuse (error, nothing sent) when `ref` is from another generation: its
  // tag would name a different delivery, or none, on this channel.
  Status Ack(const DeliveryRef& ref);
  Status Nack(const DeliveryRef& ref, bool requeue);

  // Sends on the confirm channel; the outcome comes later from Poll() as
  // PublishConfirmed or PublishFailed with the returned id. Refused while the
  // broker blocks publishers (the send could stall the thread).
  Result<PublishId> Publish(const OutgoingMessage& message);
  // Publish and dispatch frames until this publish is settled or `timeout`
  // passes (for one-shot commands). Other events met meanwhile are kept for
  // Poll(). A timeout counts as failure: the publish may still be confirmed.
  Status PublishAndWait(const OutgoingMessage& message, std::chrono::milliseconds timeout);

  // Administration on channel 3. A broker refusal (404, 406, ...) comes back
  // as kChannelClosed and leaves the session usable; kLibrary and
  // kConnectionClosed mean the session is closed.
  Result<QueueInfo, AmqpFailure> InspectQueue(const std::string& queue);  // passive declare
  Result<QueueInfo, AmqpFailure> DeclareQueue(const std::string& queue, const FieldTable& arguments);  // durable
  AmqpStatus InspectExchange(const std::string& exchange);  // passive declare
  AmqpStatus DeclareExchange(const std::string& exchange, const std::string& type);  // durable
  AmqpStatus BindQueue(const std::string& queue, const std::string& exchange, const std::string& routing_key);
  AmqpStatus DeleteQueue(const std::string& queue);
  AmqpStatus DeleteExchange(const std::string& exchange);

 private:
  struct PassKey {
    explicit PassKey() = default;
  };

 public:
  // Only for Open() (PassKey is private): lets it use std::make_unique.
  BrokerSession(PassKey, AmqpConnection connection, uint64_t generation, std::string where, Logger& logger);

 private:
  Status OpenChannel(uint16_t channel);
  Status OpenPublishChannel();
  Status EnsureAdminChannel();
  // Turns a failed RPC on `channel` into an AmqpFailure and updates state: a
  // channel.close is answered with close-ok; a connection-level failure
  // closes the session.
  AmqpFailure RpcFailure(std::string_view what, uint16_t channel, const amqp_rpc_reply_t& reply);
  AmqpStatus CheckRpc(std::string_view what, uint16_t channel);

  // Reads at most one frame (or delivery) and queues what it means.
  void PumpOnce(std::chrono::milliseconds timeout);
  enum class Readiness { kSocket, kWake, kNothing };
  // Waits until the socket or `wake_fd` is readable or `timeout` passes.
  Readiness WaitForSocketOrWake(std::chrono::milliseconds timeout, int wake_fd);
  void HandleFrame(const amqp_frame_t& frame);
  void HandleReturn(uint16_t channel, const amqp_basic_return_t& method);
  void HandleChannelClose(uint16_t channel, const AmqpServerClose& close);
  void QueueOutcomes(const std::vector<PublishOutcome>& outcomes);
  // Ends the session: fails unconfirmed publishes, drops the socket, queues Closed.
  void Shutdown(const std::string& reason);

  AmqpConnection conn_;
  const uint64_t generation_;
  const std::string where_;  // endpoint, without password
  Logger& logger_;  // not owned

  std::deque<BrokerEvent> pending_;
  PublishTracker tracker_;
  PublishId next_publish_id_ = 0;
  std::string consumer_tag_;
  bool admin_open_ = false;
  bool reopening_publish_channel_ = false;
  bool blocked_ = false;
  bool closed_ = false;
  std::chrono::steady_clock::time_point last_pump_ = std::chrono::steady_clock::now();
  std::string close_reason_;
};

}  // namespace wxpay
