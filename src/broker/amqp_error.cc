#include "broker/amqp_error.h"

#include "broker/amqp_table.h"

namespace wxpay {
namespace {

std::string_view AdviceForCode(uint16_t code) {
  switch (code) {
    case kReplyNoRoute:
      return "the message matched no queue: check the exchange's bindings (wxpay-reconciler setup-topology)";
    case kReplyConnectionForced:
      return "an operator or a broker shutdown closed the connection; the daemon reconnects";
    case kReplyAccessRefused:
      return "check the user name and password (rabbitmq.url, rabbitmq.password_file) and the user's "
             "permissions on the virtual host (rabbitmqctl list_permissions)";
    case kReplyNotFound:
      return "create it with `wxpay-reconciler setup-topology`, or check the names under rabbitmq:";
    case 405:
      return "another connection holds it exclusively";
    case kReplyPreconditionFailed:
      return "an existing queue or exchange was declared with other arguments, or a delivery was acknowledged "
             "twice or too late (consumer_timeout)";
    case 530:
      return "the virtual host does not exist or the user may not use it: check the vhost in rabbitmq.url";
    case 506:
      return "the broker is out of a resource (memory, disk, channels): check its alarms";
    case 541:
      return "the broker hit an internal error: check its log";
    default:
      return "check the RabbitMQ server log";
  }
}

std::string_view AdviceForStatus(int status) {
  switch (status) {
    case AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED:
      return "the host name in rabbitmq.url does not resolve";
    case AMQP_STATUS_SOCKET_ERROR:
    case AMQP_STATUS_TCP_ERROR:
    case AMQP_STATUS_CONNECTION_CLOSED:
    case AMQP_STATUS_SOCKET_CLOSED:
      return "check that RabbitMQ is running and reachable at this address (firewall, port, amqp vs amqps)";
    case AMQP_STATUS_TIMEOUT:
      return "the broker did not answer in time: it is unreachable or overloaded";
    case AMQP_STATUS_HEARTBEAT_TIMEOUT:
      return "no data from the broker for two heartbeat intervals: the network or the broker stalled";
    case AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED:
      return "the broker's certificate does not name the host in rabbitmq.url; use the DNS name from the "
             "certificate (librabbitmq 0.11 cannot verify IP addresses)";
    case AMQP_STATUS_SSL_PEER_VERIFY_FAILED:
      return "the broker's certificate is not signed by a CA in rabbitmq.tls.ca_file";
    case AMQP_STATUS_SSL_ERROR:
    case AMQP_STATUS_SSL_CONNECTION_FAILED:
      return "the TLS handshake failed: check that the port speaks TLS and the files under rabbitmq.tls";
    case AMQP_STATUS_BROKER_UNSUPPORTED_SASL_METHOD:
      return "the broker does not offer PLAIN authentication";
    case AMQP_STATUS_INCOMPATIBLE_AMQP_VERSION:
    case AMQP_STATUS_BAD_AMQP_DATA:
    case AMQP_STATUS_UNKNOWN_CLASS:
    case AMQP_STATUS_UNKNOWN_METHOD:
    case AMQP_STATUS_UNEXPECTED_STATE:
    case AMQP_STATUS_WRONG_METHOD:
      return "the peer does not speak AMQP 0-9-1 as expected: check that rabbitmq.url points at RabbitMQ";
    case AMQP_STATUS_TABLE_TOO_BIG:
      return "the message headers do not fit into one frame";
    case AMQP_STATUS_NO_MEMORY:
      return "the process is out of memory";
    default:
      return "the daemon reconnects; check the network and the broker";
  }
}

std::string Compose(std::string_view context, std::string_view reason, std::string_view advice) {
  std::string out = "rabbitmq: ";
  out += context;
  out += " failed: ";
  out += reason;
  out += " (";
  out += advice;
  out += ")";
  return out;
}

}  // namespace

bool ExtractServerClose(const amqp_method_t& method, AmqpServerClose& out) {
  if (method.id == AMQP_CONNECTION_CLOSE_METHOD && method.decoded != nullptr) {
    const auto* m = static_cast<const amqp_connection_close_t*>(method.decoded);
    out.connection = true;
    out.code = m->reply_code;
    out.text = ToString(m->reply_text);
    return true;
  }
  if (method.id == AMQP_CHANNEL_CLOSE_METHOD && method.decoded != nullptr) {
    const auto* m = static_cast<const amqp_channel_close_t*>(method.decoded);
    out.connection = false;
    out.code = m->reply_code;
    out.text = ToString(m->reply_text);
    return true;
  }
  return false;
}

AmqpFailure TranslateServerClose(std::string_view context, const AmqpServerClose& close) {
  AmqpFailure f;
  f.kind = close.connection ? AmqpFailure::Kind::kConnectionClosed : AmqpFailure::Kind::kChannelClosed;
  f.server = close;
  std::string reason = std::string(close.connection ? "the broker closed the connection: "
                                                    : "the broker closed the channel: ") +
                       std::to_string(close.code) + " " + close.text;
  f.message = Compose(context, reason, AdviceForCode(close.code));
  return f;
}

AmqpFailure TranslateStatus(std::string_view context, int status) {
  AmqpFailure f;
  f.kind = AmqpFailure::Kind::kLibrary;
  f.library_status = status;
  f.message = Compose(context, amqp_error_string2(status), AdviceForStatus(status));
  return f;
}

AmqpFailure TranslateReply(std::string_view context, const amqp_rpc_reply_t& reply) {
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL: {
      AmqpFailure f;
      f.message = Compose(context, "no failure", "this is a bug: please report it");
      return f;
    }
    case AMQP_RESPONSE_NONE: {
      AmqpFailure f;
      f.kind = AmqpFailure::Kind::kLibrary;
      f.library_status = AMQP_STATUS_CONNECTION_CLOSED;
      f.message = Compose(context, "the broker closed the socket", AdviceForStatus(AMQP_STATUS_CONNECTION_CLOSED));
      return f;
    }
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      return TranslateStatus(context, reply.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION: {
      AmqpServerClose close;
      if (ExtractServerClose(reply.reply, close)) return TranslateServerClose(context, close);
      AmqpFailure f;
      f.kind = AmqpFailure::Kind::kLibrary;
      f.library_status = AMQP_STATUS_UNEXPECTED_STATE;
      f.message = Compose(context, "unexpected answer from the broker (method " + std::to_string(reply.reply.id) + ")",
                          AdviceForStatus(AMQP_STATUS_UNEXPECTED_STATE));
      return f;
    }
  }
  return TranslateStatus(context, AMQP_STATUS_UNEXPECTED_STATE);
}

}  // namespace wxpay
