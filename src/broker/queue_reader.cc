#include "broker/queue_reader.h"

#include "broker/amqp_endpoint.h"
#include "broker/amqp_error.h"
#include "broker/amqp_table.h"

namespace wxpay {
namespace {

constexpr amqp_channel_t kChannel = 1;

amqp_bytes_t Borrow(const std::string& s) {
  return amqp_bytes_t{s.size(), s.empty() ? nullptr : const_cast<char*>(s.data())};
}

}  // namespace

Result<std::unique_ptr<QueueReader>> QueueReader::Open(const ConnectOptions& options) {
  const std::string where = DescribeEndpoint(options.endpoint);
  Result<AmqpConnection> conn = OpenAmqpConnection(options);
  if (!conn) return conn.error();
  amqp_channel_open(conn->get(), kChannel);
  const amqp_rpc_reply_t reply = amqp_get_rpc_reply(conn->get());
  if (reply.reply_type != AMQP_RESPONSE_NORMAL) return ToError(TranslateReply("open a channel on " + where, reply));
  return std::make_unique<QueueReader>(Key{}, std::move(conn).value(), where);
}

QueueReader::QueueReader(Key, AmqpConnection connection, std::string where)
    : conn_(std::move(connection)), where_(std::move(where)) {}

QueueReader::~QueueReader() {
  if (!usable_ || !conn_) return;
  amqp_channel_close(conn_.get(), kChannel, AMQP_REPLY_SUCCESS);
  amqp_connection_close(conn_.get(), AMQP_REPLY_SUCCESS);
}

Result<std::optional<Delivery>> QueueReader::Get(const std::string& queue) {
  if (!usable_) return Fail("rabbitmq: the connection to " + where_ + " is closed");
  const std::string what = "basic.get from queue '" + queue + "' on " + where_;
  amqp_rpc_reply_t reply = amqp_basic_get(conn_.get(), kChannel, Borrow(queue), /*no_ack=*/0);
  if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
    usable_ = false;
    return ToError(TranslateReply(what, reply));
  }
  if (reply.reply.id == AMQP_BASIC_GET_EMPTY_METHOD) return std::optional<Delivery>();
  if (reply.reply.id != AMQP_BASIC_GET_OK_METHOD) {
    usable_ = false;
    return Fail("rabbitmq: " + what + ": unexpected answer from the broker");
  }
  // Copied before reading the content: librabbitmq reuses its frame memory.
  const auto* ok = static_cast<const amqp_basic_get_ok_t*>(reply.reply.decoded);
  Delivery d;
  d.generation = 1;
  d.delivery_tag = ok->delivery_tag;
  d.redelivered = ok->redelivered != 0;
  d.exchange = ToString(ok->exchange);
  d.routing_key = ToString(ok->routing_key);

  amqp_message_t message;
  reply = amqp_read_message(conn_.get(), kChannel, &message, 0);
  if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
    usable_ = false;
    return ToError(TranslateReply(what + " (reading the message)", reply));
  }
  d.body = ToString(message.body);
  d.properties = FromAmqpProperties(message.properties, d.header_problem);
  amqp_destroy_message(&message);
  amqp_maybe_release_buffers(conn_.get());
  return std::optional<Delivery>(std::move(d));
}

Status QueueReader::Ack(uint64_t delivery_tag) {
  if (!usable_) return Fail("rabbitmq: the connection to " + where_ + " is closed");
  const int status = amqp_basic_ack(conn_.get(), kChannel, delivery_tag, /*multiple=*/0);
  if (status != AMQP_STATUS_OK) {
    usable_ = false;
    return ToError(TranslateStatus("ack on " + where_, status));
  }
  return Status::Ok();
}

Status QueueReader::RequeueAll() {
  if (!usable_) return Fail("rabbitmq: the connection to " + where_ + " is closed (its messages were requeued)");
  // Tag 0 with multiple=1 covers every unacknowledged message of the channel.
  const int status = amqp_basic_nack(conn_.get(), kChannel, 0, /*multiple=*/1, /*requeue=*/1);
  if (status != AMQP_STATUS_OK) {
    usable_ = false;
    return ToError(TranslateStatus("requeue on " + where_, status));
  }
  return Status::Ok();
}

}  // namespace wxpay
