// The one place where librabbitmq results become error messages: what
// failed, why (in RabbitMQ's words where it gave any), and what to do.
// Callers pass a context that names the operation and the redacted endpoint;
// nothing here ever sees a password.
#pragma once

#include <amqp.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace wxpay {

// What RabbitMQ said when it closed a channel or the connection.
struct AmqpServerClose {
  bool connection = false;  // connection.close (else channel.close)
  uint16_t code = 0;        // AMQP reply code, e.g. 404, 406
  std::string text;         // e.g. "NOT_FOUND - no queue 'x' in vhost '/'"
};

// A failed librabbitmq call, classified.
struct AmqpFailure {
  enum class Kind {
    kLibrary,      // socket, timeout, protocol: the connection is unusable
    kChannelClosed,     // the broker closed one channel; the connection lives
    kConnectionClosed,  // the broker closed the connection
  };
  Kind kind = Kind::kLibrary;
  int library_status = 0;   // kLibrary: an amqp_status_enum value
  AmqpServerClose server;   // the other kinds
  std::string message;      // context + reason + advice, safe to log
};

// `context`: what was being done, e.g. "declare queue 'x' on amqp://u@h:5672/%2F".
AmqpFailure TranslateReply(std::string_view context, const amqp_rpc_reply_t& reply);
AmqpFailure TranslateStatus(std::string_view context, int status);
// A channel.close / connection.close that arrived as a frame (not as an RPC reply).
AmqpFailure TranslateServerClose(std::string_view context, const AmqpServerClose& close);

// For a frame's or reply's method: the close it carries, if it is one.
bool ExtractServerClose(const amqp_method_t& method, AmqpServerClose& out);

inline Error ToError(const AmqpFailure& f) { return Error{f.message}; }

// Success of an operation that yields nothing, or why it failed.
struct AmqpOk {};
using AmqpStatus = Result<AmqpOk, AmqpFailure>;

// AMQP reply codes this module acts on.
inline constexpr uint16_t kReplyNoRoute = 312;
inline constexpr uint16_t kReplyConnectionForced = 320;
inline constexpr uint16_t kReplyAccessRefused = 403;
inline constexpr uint16_t kReplyNotFound = 404;
inline constexpr uint16_t kReplyPreconditionFailed = 406;

}  // namespace wxpay
