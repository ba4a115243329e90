#include "broker/broker_session.h"

#include <poll.h>
#include <sys/time.h>

#include <algorithm>
#include <utility>

#include "broker/amqp_table.h"

namespace wxpay {
namespace {

constexpr amqp_channel_t kConsumeChannel = 1;
constexpr amqp_channel_t kPublishChannel = 2;
constexpr amqp_channel_t kAdminChannel = 3;

using Clock = std::chrono::steady_clock;

// Poll() with a wake descriptor: how long one read may wait for the rest of a
// frame, and how often a read must run even while wake-ups keep coming.
constexpr std::chrono::milliseconds kReadSlice{1};
constexpr std::chrono::milliseconds kHeartbeatService{1000};

// librabbitmq takes non-const bytes but never writes through them.
amqp_bytes_t Borrow(const std::string& s) {
  return amqp_bytes_t{s.size(), s.empty() ? nullptr : const_cast<char*>(s.data())};
}

timeval ToTimeval(std::chrono::milliseconds d) {
  if (d.count() < 0) d = std::chrono::milliseconds(0);
  timeval tv;
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

// Rounded up: a wait truncated to 0 ms would spin on the socket for the last
// fraction of a millisecond before every deadline.
std::chrono::milliseconds Until(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  return std::max(left, std::chrono::milliseconds(0));
}

std::string Quote(const std::string& name) { return "'" + name + "'"; }

}  // namespace

BrokerSession::BrokerSession(PassKey, AmqpConnection connection, uint64_t generation, std::string where, Logger& logger)
    : conn_(std::move(connection)), generation_(generation), where_(std::move(where)), logger_(logger) {}

Result<std::unique_ptr<BrokerSession>> BrokerSession::Open(const ConnectOptions& options, uint64_t generation,
                                                           Logger& logger) {
  Result<AmqpConnection> conn = OpenAmqpConnection(options);
  if (!conn) return conn.error();
  auto session = std::make_unique<BrokerSession>(PassKey{}, std::move(conn).value(), generation,
                                                 DescribeEndpoint(options.endpoint), logger);
  if (Status s = session->OpenChannel(kConsumeChannel); !s) return Fail(s.message());
  if (Status s = session->OpenPublishChannel(); !s) return Fail(s.message());
  return session;
}

BrokerSession::~BrokerSession() {
  if (!closed_ && conn_) {
    // Best effort: a polite close lets the broker log a clean disconnect.
    amqp_connection_close(conn_.get(), AMQP_REPLY_SUCCESS);
  }
}

Status BrokerSession::OpenChannel(uint16_t channel) {
  amqp_channel_open(conn_.get(), channel);
  AmqpStatus s = CheckRpc("open channel " + std::to_string(channel), channel);
  if (!s) return Fail(s.error().message);
  return Status::Ok();
}

Status BrokerSession::OpenPublishChannel() {
  if (Status s = OpenChannel(kPublishChannel); !s) return s;
  amqp_confirm_select(conn_.get(), kPublishChannel);
  AmqpStatus s = CheckRpc("enable publisher confirms", kPublishChannel);
  if (!s) return Fail(s.error().message);
  return Status::Ok();
}

Status BrokerSession::EnsureAdminChannel() {
  if (closed_) return Fail(close_reason_);
  if (admin_open_) return Status::Ok();
  if (Status s = OpenChannel(kAdminChannel); !s) return s;
  admin_open_ = true;
  return Status::Ok();
}

AmqpStatus BrokerSession::CheckRpc(std::string_view what, uint16_t channel) {
  const amqp_rpc_reply_t reply = amqp_get_rpc_reply(conn_.get());
  if (reply.reply_type == AMQP_RESPONSE_NORMAL) return AmqpOk{};
  return RpcFailure(what, channel, reply);
}

AmqpFailure BrokerSession::RpcFailure(std::string_view what, uint16_t channel, const amqp_rpc_reply_t& reply) {
  AmqpFailure f = TranslateReply(std::string(what) + " on " + where_, reply);
  switch (f.kind) {
    case AmqpFailure::Kind::kChannelClosed:
      HandleChannelClose(channel, f.server);
      break;
    case AmqpFailure::Kind::kConnectionClosed: {
      amqp_connection_close_ok_t ok{};
      amqp_send_method(conn_.get(), 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
      Shutdown(f.message);
      break;
    }
    case AmqpFailure::Kind::kLibrary:
      Shutdown(f.message);
      break;
  }
  return f;
}

Status BrokerSession::StartConsuming(const std::string& queue, int prefetch) {
  if (closed_) return Fail(close_reason_);
  if (consuming()) return Fail("rabbitmq: this session already consumes; open another one for queue " + Quote(queue));
  if (prefetch < 1 || prefetch > 65535) {
    return Fail("rabbitmq: prefetch " + std::to_string(prefetch) + " is outside 1-65535 (rabbitmq.prefetch)");
  }
  Result<QueueInfo, AmqpFailure> info = InspectQueue(queue);
  if (!info) {
    if (info.error().server.code == kReplyNotFound) {
      return Fail("rabbitmq: queue " + Quote(queue) + " does not exist on " + where_ +
                  " (create it with `wxpay-reconciler setup-topology`, or check rabbitmq.queue)");
    }
    return Fail(info.error().message);
  }
  amqp_basic_qos(conn_.get(), kConsumeChannel, 0, static_cast<uint16_t>(prefetch), 0);
  if (AmqpStatus s = CheckRpc("set prefetch " + std::to_string(prefetch), kConsumeChannel); !s) {
    return Fail(s.error().message);
  }
  amqp_basic_consume_ok_t* ok =
      amqp_basic_consume(conn_.get(), kConsumeChannel, Borrow(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
  if (AmqpStatus s = CheckRpc("consume from queue " + Quote(queue), kConsumeChannel); !s || ok == nullptr) {
    return Fail(s ? "rabbitmq: basic.consume returned nothing" : s.error().message);
  }
  consumer_tag_ = ToString(ok->consumer_tag);
  return Status::Ok();
}

Status BrokerSession::StopConsuming() {
  if (closed_) return Fail(close_reason_);
  if (!consuming()) return Status::Ok();
  const std::string tag = consumer_tag_;
  amqp_basic_cancel(conn_.get(), kConsumeChannel, Borrow(tag));
  if (AmqpStatus s = CheckRpc("cancel the consumer", kConsumeChannel); !s) return Fail(s.error().message);
  consumer_tag_.clear();
  return Status::Ok();
}

BrokerEvent BrokerSession::Poll(std::chrono::milliseconds timeout, int wake_fd) {
  if (pending_.empty() && !closed_) {
    const Clock::time_point deadline = Clock::now() + timeout;
    do {
      if (wake_fd < 0) {
        PumpOnce(Until(deadline));
        continue;
      }
      const Readiness ready = WaitForSocketOrWake(Until(deadline), wake_fd);
      // librabbitmq sends our heartbeats and notices missing ones only inside
      // its own reads: without bytes to read, one still runs every second.
      if (ready != Readiness::kSocket && Clock::now() - last_pump_ < kHeartbeatService) {
        if (ready == Readiness::kWake) break;
        continue;
      }
      // A short timeout, not zero: with zero librabbitmq never compares
      // against the broker's heartbeat deadline.
      PumpOnce(kReadSlice);
    } while (pending_.empty() && !closed_ && Clock::now() < deadline);
  }
  if (!pending_.empty()) {
    BrokerEvent e = std::move(pending_.front());
    pending_.pop_front();
    return e;
  }
  if (closed_) return Closed{close_reason_};
  return Idle{};
}

BrokerSession::Readiness BrokerSession::WaitForSocketOrWake(std::chrono::milliseconds timeout, int wake_fd) {
  // Frames or bytes librabbitmq already holds are not visible to poll().
  // (Over TLS, SSL_read without read-ahead leaves no whole record buffered
  // inside OpenSSL: the socket stays readable until librabbitmq takes it.)
  if (amqp_frames_enqueued(conn_.get()) || amqp_data_in_buffer(conn_.get())) return Readiness::kSocket;
  pollfd fds[2] = {{amqp_get_sockfd(conn_.get()), POLLIN, 0}, {wake_fd, POLLIN, 0}};
  if (::poll(fds, 2, static_cast<int>(std::min<int64_t>(timeout.count(), 60'000))) <= 0) {
    return Readiness::kNothing;  // timeout, or EINTR
  }
  if (fds[0].revents != 0) return Readiness::kSocket;  // data, or an error the read reports
  return Readiness::kWake;
}

void BrokerSession::PumpOnce(std::chrono::milliseconds timeout) {
  last_pump_ = Clock::now();
  // Frames handed out earlier live in librabbitmq's pools until this call;
  // everything taken from them has been copied. Channels with queued frames
  // are kept.
  amqp_maybe_release_buffers(conn_.get());
  timeval tv = ToTimeval(timeout);
  amqp_envelope_t envelope;
  const amqp_rpc_reply_t reply = amqp_consume_message(conn_.get(), &envelope, &tv, 0);

  if (reply.reply_type == AMQP_RESPONSE_NORMAL) {
    Delivery d;
    d.delivery_tag = envelope.delivery_tag;
    d.generation = generation_;
    d.redelivered = envelope.redelivered != 0;
    d.exchange = ToString(envelope.exchange);
    d.routing_key = ToString(envelope.routing_key);
    d.body = ToString(envelope.message.body);
    d.properties = FromAmqpProperties(envelope.message.properties, d.header_problem);
    const amqp_channel_t channel = envelope.channel;
    amqp_destroy_envelope(&envelope);
    if (channel != kConsumeChannel) {
      logger_.Warning("rabbitmq: ignoring a delivery on unexpected channel " + std::to_string(channel));
      return;
    }
    pending_.push_back(std::move(d));
    return;
  }
  if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
    if (reply.library_error == AMQP_STATUS_TIMEOUT) return;
    if (reply.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
      // Not a delivery: the frame was put back; read it and dispatch it.
      amqp_frame_t frame;
      const int status = amqp_simple_wait_frame(conn_.get(), &frame);
      if (status != AMQP_STATUS_OK) {
        Shutdown(TranslateStatus("read from " + where_, status).message);
        return;
      }
      HandleFrame(frame);
      return;
    }
  }
  // A close arriving in the middle of a delivery, or a dead connection.
  RpcFailure("receive a delivery", kConsumeChannel, reply);
}

void BrokerSession::HandleFrame(const amqp_frame_t& frame) {
  if (frame.frame_type != AMQP_FRAME_METHOD) {
    logger_.Warning("rabbitmq: ignoring a stray content frame on channel " + std::to_string(frame.channel));
    return;
  }
  const amqp_method_t& method = frame.payload.method;
  switch (method.id) {
    case AMQP_BASIC_ACK_METHOD: {
      const auto* m = static_cast<const amqp_basic_ack_t*>(method.decoded);
      if (frame.channel == kPublishChannel) QueueOutcomes(tracker_.Ack(m->delivery_tag, m->multiple != 0));
      return;
    }
    case AMQP_BASIC_NACK_METHOD: {
      const auto* m = static_cast<const amqp_basic_nack_t*>(method.decoded);
      if (frame.channel == kPublishChannel) QueueOutcomes(tracker_.Nack(m->delivery_tag, m->multiple != 0));
      return;
    }
    case AMQP_BASIC_RETURN_METHOD:
      HandleReturn(frame.channel, *static_cast<const amqp_basic_return_t*>(method.decoded));
      return;
    case AMQP_BASIC_CANCEL_METHOD: {
      const auto* m = static_cast<const amqp_basic_cancel_t*>(method.decoded);
      const std::string tag = ToString(m->consumer_tag);
      if (frame.channel != kConsumeChannel || tag != consumer_tag_) return;
      consumer_tag_.clear();
      pending_.push_back(ConsumerCancelled{"rabbitmq: the broker cancelled consumer " + tag + " on " + where_ +
                                           " (its queue was deleted or its node went down)"});
      return;
    }
    case AMQP_CHANNEL_CLOSE_METHOD:
    case AMQP_CONNECTION_CLOSE_METHOD: {
      AmqpServerClose close;
      ExtractServerClose(method, close);
      if (close.connection) {
        amqp_connection_close_ok_t ok{};
        amqp_send_method(conn_.get(), 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
        Shutdown(TranslateServerClose("connection to " + where_, close).message);
      } else {
        HandleChannelClose(frame.channel, close);
      }
      return;
    }
    case AMQP_CONNECTION_BLOCKED_METHOD: {
      const auto* m = static_cast<const amqp_connection_blocked_t*>(method.decoded);
      blocked_ = true;
      pending_.push_back(ConnectionBlocked{ToString(m->reason)});
      return;
    }
    case AMQP_CONNECTION_UNBLOCKED_METHOD:
      blocked_ = false;
      pending_.push_back(ConnectionUnblocked{});
      return;
    default:
      logger_.Debug("rabbitmq: ignoring AMQP method " + std::to_string(method.id) + " on channel " +
                    std::to_string(frame.channel));
      return;
  }
}

void BrokerSession::HandleReturn(uint16_t channel, const amqp_basic_return_t& method) {
  const std::string exchange = ToString(method.exchange);
  const std::string routing_key = ToString(method.routing_key);
  const std::string reason = std::to_string(method.reply_code) + " " + ToString(method.reply_text);
  amqp_message_t message;
  const amqp_rpc_reply_t reply = amqp_read_message(conn_.get(), channel, &message, 0);
  if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
    RpcFailure("read a returned message", channel, reply);
    return;
  }
  const std::string body = ToString(message.body);
  amqp_destroy_message(&message);
  if (channel == kPublishChannel) tracker_.MarkReturned(exchange, routing_key, body, reason);
}

void BrokerSession::HandleChannelClose(uint16_t channel, const AmqpServerClose& close) {
  if (closed_) return;
  amqp_channel_close_ok_t ok{};
  amqp_send_method(conn_.get(), channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
  const std::string why = TranslateServerClose("channel " + std::to_string(channel) + " on " + where_, close).message;
  switch (channel) {
    case kConsumeChannel:
      // Every unacked delivery is back in its queue and every tag is void:
      // only a new generation can go on.
      Shutdown("the consuming channel was closed: " + why);
      return;
    case kPublishChannel: {
      QueueOutcomes(tracker_.FailAll("the publishing channel was closed before the confirm: " + why));
      if (reopening_publish_channel_) {  // the reopening itself was refused
        Shutdown("cannot reopen the publishing channel: " + why);
        return;
      }
      logger_.Warning("rabbitmq: reopening the publishing channel after: " + why);
      reopening_publish_channel_ = true;
      Status reopened = OpenPublishChannel();
      reopening_publish_channel_ = false;
      if (!reopened) Shutdown(reopened.message());
      return;
    }
    case kAdminChannel:
      admin_open_ = false;
      return;
    default:
      return;
  }
}

void BrokerSession::QueueOutcomes(const std::vector<PublishOutcome>& outcomes) {
  for (const PublishOutcome& o : outcomes) {
    if (o.confirmed) {
      pending_.push_back(PublishConfirmed{o.id});
    } else {
      pending_.push_back(PublishFailed{o.id, o.reason});
    }
  }
}

void BrokerSession::Shutdown(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  close_reason_ = reason;
  admin_open_ = false;
  consumer_tag_.clear();
  QueueOutcomes(tracker_.FailAll("the connection was lost before the broker confirmed the publish: " + reason));
  // Dropping the socket now makes the broker requeue unacked deliveries at
  // once instead of after a heartbeat timeout.
  conn_.reset();
  pending_.push_back(Closed{reason});
}

Status BrokerSession::Ack(const DeliveryRef& ref) {
  if (closed_) {
    return Fail("rabbitmq: cannot ack delivery " + std::to_string(ref.delivery_tag) +
                ": its connection is closed, the broker redelivers the message");
  }
  if (ref.generation != generation_) {
    return Fail("rabbitmq: refusing to ack delivery " + std::to_string(ref.delivery_tag) + " of connection generation " +
                std::to_string(ref.generation) + " on generation " + std::to_string(generation_) +
                ": the broker requeued it when that connection closed, and the tag names another message here");
  }
  const int status = amqp_basic_ack(conn_.get(), kConsumeChannel, ref.delivery_tag, 0);
  if (status != AMQP_STATUS_OK) {
    const AmqpFailure f = TranslateStatus("ack delivery " + std::to_string(ref.delivery_tag) + " on " + where_, status);
    Shutdown(f.message);
    return ToError(f);
  }
  return Status::Ok();
}

Status BrokerSession::Nack(const DeliveryRef& ref, bool requeue) {
  if (closed_) {
    return Fail("rabbitmq: cannot nack delivery " + std::to_string(ref.delivery_tag) +
                ": its connection is closed, the broker redelivers the message");
  }
  if (ref.generation != generation_) {
    return Fail("rabbitmq: refusing to nack delivery " + std::to_string(ref.delivery_tag) +
                " of connection generation " + std::to_string(ref.generation) + " on generation " +
                std::to_string(generation_) + ": the broker already requeued it");
  }
  const int status = amqp_basic_nack(conn_.get(), kConsumeChannel, ref.delivery_tag, 0, requeue ? 1 : 0);
  if (status != AMQP_STATUS_OK) {
    const AmqpFailure f = TranslateStatus("nack delivery " + std::to_string(ref.delivery_tag) + " on " + where_, status);
    Shutdown(f.message);
    return ToError(f);
  }
  return Status::Ok();
}

Result<PublishId> BrokerSession::Publish(const OutgoingMessage& message) {
  const std::string target = "exchange " + Quote(message.exchange) + " routing key " + Quote(message.routing_key);
  if (closed_) return Fail("rabbitmq: cannot publish to " + target + ": " + close_reason_);
  if (blocked_) {
    return Fail("rabbitmq: cannot publish to " + target +
                ": the broker blocks publishers (memory or disk alarm); retry when it unblocks");
  }
  AmqpPool pool;
  Result<amqp_basic_properties_t> properties = ToAmqpProperties(message.properties, pool);
  if (!properties) return Fail("rabbitmq: cannot publish to " + target + ": " + properties.error().message);
  const int status = amqp_basic_publish(conn_.get(), kPublishChannel, Borrow(message.exchange),
                                        Borrow(message.routing_key), message.mandatory ? 1 : 0, 0, &*properties,
                                        Borrow(message.body));
  if (status != AMQP_STATUS_OK) {
    const AmqpFailure f = TranslateStatus("publish to " + target + " on " + where_, status);
    // Encoding failures happen before anything is sent; anything else leaves
    // the connection in an unknown state.
    if (status != AMQP_STATUS_TABLE_TOO_BIG && status != AMQP_STATUS_INVALID_PARAMETER) Shutdown(f.message);
    return ToError(f);
  }
  const PublishId id = ++next_publish_id_;
  tracker_.Track(id, message.exchange, message.routing_key, message.body);
  return id;
}

Status BrokerSession::PublishAndWait(const OutgoingMessage& message, std::chrono::milliseconds timeout) {
  Result<PublishId> id = Publish(message);
  if (!id) return id.error();
  const Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (const auto* ok = std::get_if<PublishConfirmed>(&*it); ok && ok->id == *id) {
        pending_.erase(it);
        return Status::Ok();
      }
      if (const auto* failed = std::get_if<PublishFailed>(&*it); failed && failed->id == *id) {
        Error e{"rabbitmq: publish to exchange " + Quote(message.exchange) + " routing key " +
                Quote(message.routing_key) + " failed: " + failed->reason};
        pending_.erase(it);
        return e;
      }
    }
    if (Clock::now() >= deadline) {
      return Fail("rabbitmq: no confirm within " + std::to_string(timeout.count()) + " ms for the publish to exchange " +
                  Quote(message.exchange) + " routing key " + Quote(message.routing_key) +
                  " on " + where_ + "; treat it as not delivered (the broker may be overloaded)");
    }
    PumpOnce(Until(deadline));
  }
}

Result<QueueInfo, AmqpFailure> BrokerSession::InspectQueue(const std::string& queue) {
  if (Status s = EnsureAdminChannel(); !s) return AmqpFailure{AmqpFailure::Kind::kLibrary, 0, {}, s.message()};
  amqp_queue_declare_ok_t* ok =
      amqp_queue_declare(conn_.get(), kAdminChannel, Borrow(queue), 1, 0, 0, 0, amqp_empty_table);
  if (AmqpStatus s = CheckRpc("look up queue " + Quote(queue), kAdminChannel); !s) return s.error();
  return QueueInfo{ok->message_count, ok->consumer_count};
}

Result<QueueInfo, AmqpFailure> BrokerSession::DeclareQueue(const std::string& queue, const FieldTable& arguments) {
  if (Status s = EnsureAdminChannel(); !s) return AmqpFailure{AmqpFailure::Kind::kLibrary, 0, {}, s.message()};
  AmqpPool pool;
  Result<amqp_table_t> args = ToAmqpTable(arguments, pool);
  if (!args) return AmqpFailure{AmqpFailure::Kind::kLibrary, 0, {}, "rabbitmq: " + args.error().message};
  amqp_queue_declare_ok_t* ok = amqp_queue_declare(conn_.get(), kAdminChannel, Borrow(queue), 0, 1, 0, 0, *args);
  if (AmqpStatus s = CheckRpc("declare queue " + Quote(queue), kAdminChannel); !s) return s.error();
  return QueueInfo{ok->message_count, ok->consumer_count};
}

AmqpStatus BrokerSession::InspectExchange(const std::string& exchange) {
  if (Status s = EnsureAdminChannel(); !s) return AmqpFailure{AmqpFailure::Kind::kLibrary, 0, {}, s.message()};
  amqp_exchange_declare(conn_.get(), kAdminChannel, Borrow(exchange), amqp_empty_bytes, 1, 0, 0, 0, amqp_empty_table);
  return CheckRpc("look up exchange " + Quote(exchange), kAdminChannel);
}

AmqpStatus BrokerSession::DeclareExchange(const std::string& exchange, const std::string& type) {
  if (Status s = EnsureAdminChannel(); !s) return AmqpFailure{AmqpFailure::Kind::kLibrary, 0, {}, s.message()};
  amqp_exchange_declare(conn_.get(), kAdminChannel, Borrow(exchange), Borrow(type), 0, 1, 0, 0, amqp_empty_table);
  return CheckRpc("declare " + type + " exchange " + Quote(exchange), kAdminChannel);
}

AmqpStatus BrokerSession::BindQueue(const std::string& queue, const std::string& exchange,
                                    const std::string& routing_key) {
  if (Status s = EnsureAdminChannel(); !s) return AmqpFailure{AmqpFailure::Kind::kLibrary, 0, {}, s.message()};
  amqp_queue_bind(conn_.get(), kAdminChannel, Borrow(queue), Borrow(exchange), Borrow(routing_key), amqp_empty_table);
  return CheckRpc("bind queue " + Quote(queue) + " to exchange " + Quote(exchange) + " with routing key " +
                      Quote(routing_key),
                  kAdminChannel);
}

AmqpStatus BrokerSession::DeleteQueue(const std::string& queue) {
  if (Status s = EnsureAdminChannel(); !s) return AmqpFailure{AmqpFailure::Kind::kLibrary, 0, {}, s.message()};
  amqp_queue_delete(conn_.get(), kAdminChannel, Borrow(queue), 0, 0);
  return CheckRpc("delete queue " + Quote(queue), kAdminChannel);
}

AmqpStatus BrokerSession::DeleteExchange(const std::string& exchange) {
  if (Status s = EnsureAdminChannel(); !s) return AmqpFailure{AmqpFailure::Kind::kLibrary, 0, {}, s.message()};
  amqp_exchange_delete(conn_.get(), kAdminChannel, Borrow(exchange), 0);
  return CheckRpc("delete exchange " + Quote(exchange), kAdminChannel);
}

}  // namespace wxpay
