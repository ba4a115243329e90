// Opening one AMQP connection with librabbitmq 0.11: TCP or TLS, bounded
// connect and RPC times, socket options that make a dead link fail instead of
// hanging, and a login that advertises the capabilities the daemon relies on.
#pragma once

#include <amqp.h>

#include <chrono>
#include <memory>
#include <string>

#include "broker/amqp_endpoint.h"
#include "config/config.h"
#include "core/result.h"

namespace wxpay {

// Owns an amqp_connection_state_t; destroying it closes the socket without
// the AMQP close handshake (the broker then requeues unacked deliveries).
class AmqpConnection {
 public:
  AmqpConnection() = default;
  explicit AmqpConnection(amqp_connection_state_t state) : state_(state) {}
  amqp_connection_state_t get() const { return state_.get(); }
  explicit operator bool() const { return state_ != nullptr; }
  void reset() { state_.reset(); }

 private:
  struct Destroy {
    void operator()(amqp_connection_state_t s) const { amqp_destroy_connection(s); }
  };
  std::unique_ptr<amqp_connection_state_t_, Destroy> state_;
};

struct ConnectOptions {
  AmqpEndpoint endpoint;
  std::string password;  // never logged
  RabbitTls tls;
  std::chrono::milliseconds heartbeat{30'000};        // 0 = off (not recommended)
  std::chrono::milliseconds connect_timeout{10'000};  // TCP + TLS + AMQP handshake
  std::chrono::milliseconds rpc_timeout{15'000};      // each synchronous AMQP method
  // How long unacknowledged sent data may stay unacknowledged before the
  // kernel declares the link dead (TCP_USER_TIMEOUT, SO_SNDTIMEO); also
  // bounds keepalive probing. 0 = twice the heartbeat, at least 10 s.
  std::chrono::milliseconds io_timeout{0};
  std::string connection_name = "wxpay-reconciler";   // shown by rabbitmqctl list_connections
};

// Options from the configuration (url, password, tls, heartbeat).
Result<ConnectOptions> ConnectOptionsFromConfig(const RabbitConfig& config);

inline constexpr char kProductName[] = "wxpay-reconciler";

// Connects and logs in. Error messages name the endpoint without password.
Result<AmqpConnection> OpenAmqpConnection(const ConnectOptions& options);

}  // namespace wxpay
