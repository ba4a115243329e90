#include "broker/amqp_connection.h"

#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "broker/amqp_error.h"
#include "core/version.h"
#include "broker/amqp_table.h"

namespace wxpay {
namespace {

// Debian's bundle; librabbitmq 0.11 has no call to load the system CA store.
constexpr char kSystemCaBundle[] = "/etc/ssl/certs/ca-certificates.crt";
constexpr int kFrameMax = 131072;

timeval ToTimeval(std::chrono::milliseconds d) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

// libcurl initialises OpenSSL for the whole process; a second initialisation
// by librabbitmq (which also installs pre-1.1 locking callbacks) is undefined
// behaviour. Must happen before the first amqp_ssl_socket_new.
void LeaveOpenSslInitialisationToOthers() {
  static std::once_flag once;
  std::call_once(once, [] { amqp_set_initialize_ssl_library(0); });
}

std::chrono::milliseconds EffectiveIoTimeout(const ConnectOptions& o) {
  if (o.io_timeout.count() > 0) return o.io_timeout;
  return std::max<std::chrono::milliseconds>(2 * o.heartbeat, std::chrono::seconds(10));
}

// So that a dead peer surfaces as an error instead of a hang, even inside
// librabbitmq calls that wait without a deadline: the kernel fails the socket
// when sent data stays unacknowledged (TCP_USER_TIMEOUT, which also bounds
// zero-window and keepalive probing), keepalive probes an idle link, and
// blocking sends give up (SO_SNDTIMEO).
Status HardenSocket(int fd, std::chrono::milliseconds io_timeout) {
  const auto fail = [](const char* what) {
    return Fail(std::string("rabbitmq: setting ") + what + " on the broker socket failed: " + std::strerror(errno) +
                " (the kernel refused a standard TCP option)");
  };
  const timeval send_timeout = ToTimeval(io_timeout);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout) != 0) return fail("SO_SNDTIMEO");
  const unsigned int user_timeout_ms = static_cast<unsigned int>(io_timeout.count());
  if (setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof user_timeout_ms) != 0) {
    return fail("TCP_USER_TIMEOUT");
  }
  const int on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) != 0) return fail("SO_KEEPALIVE");
  const int idle_s = std::max(1, static_cast<int>(io_timeout.count() / 2000));
  const int interval_s = std::max(1, idle_s / 3);
  const int probes = 3;
  if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof idle_s) != 0) return fail("TCP_KEEPIDLE");
  if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof interval_s) != 0) return fail("TCP_KEEPINTVL");
  if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes) != 0) return fail("TCP_KEEPCNT");
  return Status::Ok();
}

Result<amqp_socket_t*> CreateSocket(amqp_connection_state_t conn, const ConnectOptions& o, const std::string& where) {
  if (!o.endpoint.tls) {
    amqp_socket_t* s = amqp_tcp_socket_new(conn);
    if (s == nullptr) return Fail("rabbitmq: creating a TCP socket for " + where + " failed (out of memory)");
    return s;
  }
  LeaveOpenSslInitialisationToOthers();
  amqp_socket_t* s = amqp_ssl_socket_new(conn);
  if (s == nullptr) return Fail("rabbitmq: creating a TLS socket for " + where + " failed (OpenSSL could not start)");
  if (amqp_ssl_socket_set_ssl_versions(s, AMQP_TLSv1_2, AMQP_TLSvLATEST) != AMQP_STATUS_OK) {
    return Fail("rabbitmq: this OpenSSL cannot do TLS 1.2, which the daemon requires for " + where);
  }
  const std::string ca = o.tls.ca_file.empty() ? kSystemCaBundle : o.tls.ca_file;
  if (o.tls.verify_peer || !o.tls.ca_file.empty()) {
    if (amqp_ssl_socket_set_cacert(s, ca.c_str()) != AMQP_STATUS_OK) {
      return Fail("rabbitmq: cannot load CA certificates from " + ca +
                  " (set rabbitmq.tls.ca_file to a readable PEM file)");
    }
  }
  if (o.tls.cert_file.empty() != o.tls.key_file.empty()) {
    return Fail("rabbitmq: rabbitmq.tls.cert_file and rabbitmq.tls.key_file must be set together");
  }
  if (!o.tls.cert_file.empty()) {
    // An empty key password makes an encrypted key fail instead of making
    // OpenSSL prompt on a terminal the daemon does not have.
    amqp_ssl_socket_set_key_passwd(s, "");
    if (amqp_ssl_socket_set_key(s, o.tls.cert_file.c_str(), o.tls.key_file.c_str()) != AMQP_STATUS_OK) {
      return Fail("rabbitmq: cannot load the client certificate " + o.tls.cert_file + " with key " +
                  o.tls.key_file + " (readable unencrypted PEM files that belong together?)");
    }
  }
  amqp_ssl_socket_set_verify_peer(s, o.tls.verify_peer ? 1 : 0);
  amqp_ssl_socket_set_verify_hostname(s, o.tls.verify_peer ? 1 : 0);
  return s;
}

FieldTable ClientProperties(const ConnectOptions& o) {
  FieldTable capabilities = {
      {"consumer_cancel_notify", FieldValue::Bool(true)},
      {"connection.blocked", FieldValue::Bool(true)},
      {"basic.nack", FieldValue::Bool(true)},
      {"publisher_confirms", FieldValue::Bool(true)},
      {"authentication_failure_close", FieldValue::Bool(true)},
  };
  return FieldTable{
      {"product", FieldValue::String(kProductName)},
      {"version", FieldValue::String(kVersion)},
      {"platform", FieldValue::String(std::string("C++/librabbitmq ") + amqp_version())},
      {"connection_name", FieldValue::String(o.connection_name)},
      {"capabilities", FieldValue::Table(std::move(capabilities))},
  };
}

}  // namespace

Result<ConnectOptions> ConnectOptionsFromConfig(const RabbitConfig& config) {
  Result<AmqpEndpoint> endpoint = ParseAmqpEndpoint(config.url);
  if (!endpoint) return endpoint.error();
  ConnectOptions o;
  o.endpoint = *endpoint;
  o.password = ResolvePassword(*endpoint, config.password);
  o.tls = config.tls;
  o.heartbeat = config.heartbeat;
  if (!config.queue.empty()) o.connection_name = std::string(kProductName) + " " + config.queue;
  return o;
}

Result<AmqpConnection> OpenAmqpConnection(const ConnectOptions& o) {
  const std::string where = DescribeEndpoint(o.endpoint);
  AmqpConnection conn(amqp_new_connection());
  if (!conn) return Fail("rabbitmq: cannot allocate a connection to " + where + " (out of memory)");

  Result<amqp_socket_t*> socket = CreateSocket(conn.get(), o, where);
  if (!socket) return socket.error();

  timeval connect_tv = ToTimeval(o.connect_timeout);
  const int open_status = amqp_socket_open_noblock(*socket, o.endpoint.host.c_str(), o.endpoint.port, &connect_tv);
  if (open_status != AMQP_STATUS_OK) return ToError(TranslateStatus("connect to " + where, open_status));

  Status hardened = HardenSocket(amqp_get_sockfd(conn.get()), EffectiveIoTimeout(o));
  if (!hardened) return Fail(hardened.message());
  const timeval rpc_tv = ToTimeval(o.rpc_timeout);
  if (amqp_set_handshake_timeout(conn.get(), &connect_tv) != AMQP_STATUS_OK ||
      amqp_set_rpc_timeout(conn.get(), &rpc_tv) != AMQP_STATUS_OK) {
    return Fail("rabbitmq: librabbitmq refused the connect/RPC timeouts for " + where);
  }

  AmqpPool pool;
  Result<amqp_table_t> properties = ToAmqpTable(ClientProperties(o), pool);
  if (!properties) return properties.error();
  // Seconds, rounded up: 0 only when configured 0.
  const int heartbeat_s = static_cast<int>((o.heartbeat.count() + 999) / 1000);
  const amqp_rpc_reply_t login =
      amqp_login_with_properties(conn.get(), o.endpoint.vhost.c_str(), 0, kFrameMax, heartbeat_s, &*properties,
                                 AMQP_SASL_METHOD_PLAIN, o.endpoint.user.c_str(), o.password.c_str());
  if (login.reply_type != AMQP_RESPONSE_NORMAL) return ToError(TranslateReply("log in to " + where, login));
  return conn;
}

}  // namespace wxpay
