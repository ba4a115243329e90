// Checks of the rabbitmq section.
#include "config/checks.h"
#include "config/duration.h"
#include "config/url.h"

#include <utility>

namespace wxpay {

void ConfigChecker::CheckBroker() {
  RabbitConfig& rabbit = config_.rabbitmq;

  bool tls = false;
  if (Usable("rabbitmq.url")) {
    Result<AmqpUrl> url = ParseAmqpUrl(rabbit.url);
    if (!url) {
      Error("rabbitmq.url", url.error().message);
    } else {
      tls = url->tls;
      if (rabbit.password_file.empty()) rabbit.password = url->password;
      if (tls && rabbit.tls.verify_peer && IsIpLiteral(url->host)) {
        Warning("rabbitmq.url",
                "amqps:// to the IP address " + url->host +
                    ": librabbitmq 0.11 cannot verify a certificate for an IP address; use the "
                    "broker's DNS name");
      }
      if (!tls) {
        const std::pair<std::string_view, const std::string*> tls_files[] = {
            {"rabbitmq.tls.ca_file", &rabbit.tls.ca_file},
            {"rabbitmq.tls.cert_file", &rabbit.tls.cert_file},
            {"rabbitmq.tls.key_file", &rabbit.tls.key_file}};
        for (const auto& [key, value] : tls_files) {
          if (!value->empty()) Warning(key, "ignored: rabbitmq.url is amqp://, not amqps://");
        }
      }
      if (tls && !rabbit.tls.verify_peer) {
        Warning("rabbitmq.tls.verify_peer",
                "false: the broker's certificate is not checked, so anyone on the network path can "
                "pose as the broker");
      }
    }
  }
  if (Usable("rabbitmq.password_file") && !rabbit.password_file.empty()) {
    ReadPassword("rabbitmq.password_file", rabbit.password_file, rabbit.password);
  }

  if (tls) {
    if (Usable("rabbitmq.tls.ca_file") && !rabbit.tls.ca_file.empty()) {
      CheckFile("rabbitmq.tls.ca_file", rabbit.tls.ca_file, false);
    }
    if (UsableAll({"rabbitmq.tls.cert_file", "rabbitmq.tls.key_file"})) {
      if (!rabbit.tls.cert_file.empty() && rabbit.tls.key_file.empty()) {
        Error("rabbitmq.tls.key_file", "required when rabbitmq.tls.cert_file is set (the client certificate's private key)");
      }
      if (rabbit.tls.cert_file.empty() && !rabbit.tls.key_file.empty()) {
        Error("rabbitmq.tls.cert_file", "required when rabbitmq.tls.key_file is set (the client certificate)");
      }
      if (!rabbit.tls.cert_file.empty()) CheckFile("rabbitmq.tls.cert_file", rabbit.tls.cert_file, false);
      if (!rabbit.tls.key_file.empty()) CheckFile("rabbitmq.tls.key_file", rabbit.tls.key_file, true);
    }
  }

  if (Usable("rabbitmq.queue")) CheckAmqpName("rabbitmq.queue", rabbit.queue);
  if (Usable("rabbitmq.dead_letter_queue")) CheckAmqpName("rabbitmq.dead_letter_queue", rabbit.dead_letter_queue);
  if (Usable("rabbitmq.retry_exchange")) CheckAmqpName("rabbitmq.retry_exchange", rabbit.retry_exchange);
  if (Usable("rabbitmq.events_exchange") && !rabbit.events_exchange.empty()) {
    CheckAmqpName("rabbitmq.events_exchange", rabbit.events_exchange);
  }
  if (UsableAll({"rabbitmq.queue", "rabbitmq.dead_letter_queue"}) && !rabbit.queue.empty() &&
      rabbit.queue == rabbit.dead_letter_queue) {
    Error("rabbitmq.dead_letter_queue", "must differ from rabbitmq.queue, or dead letters would come straight back");
  }
  if (UsableAll({"rabbitmq.retry_exchange", "rabbitmq.events_exchange"}) && !rabbit.events_exchange.empty() &&
      rabbit.events_exchange == rabbit.retry_exchange) {
    Error("rabbitmq.events_exchange", "must differ from rabbitmq.retry_exchange, or outcome events would be taken for reschedules");
  }

  if (Usable("rabbitmq.heartbeat") && rabbit.heartbeat.count() % 1000 != 0) {
    Error("rabbitmq.heartbeat", "must be whole seconds (AMQP counts heartbeats in seconds), got " +
                                    FormatDuration(rabbit.heartbeat));
  } else if (Usable("rabbitmq.heartbeat") && rabbit.heartbeat.count() == 0) {
    Warning("rabbitmq.heartbeat", "0s disables heartbeats: a broker connection that died silently goes unnoticed");
  }

  if (UsableAll({"rabbitmq.message.format", "rabbitmq.message.json_field"}) &&
      rabbit.message_format == RabbitConfig::MessageFormat::kJson && rabbit.json_field.empty()) {
    Error("rabbitmq.message.json_field", "must not be empty when rabbitmq.message.format is json (e.g. orderNo)");
  }

  const ShopDelay& delay = rabbit.shop_delay;
  if (UsableAll({"rabbitmq.shop_delay.exchange", "rabbitmq.shop_delay.queue", "rabbitmq.shop_delay.ttl"})) {
    if (delay.exchange.empty()) {
      if (!delay.queue.empty()) {
        Error("rabbitmq.shop_delay.queue", "set without rabbitmq.shop_delay.exchange; set both, or neither");
      }
      if (delay.ttl.count() != 0) {
        Error("rabbitmq.shop_delay.ttl", "set without rabbitmq.shop_delay.exchange; set exchange, queue and ttl, or none");
      }
    } else {
      CheckAmqpName("rabbitmq.shop_delay.exchange", delay.exchange);
      if (delay.queue.empty()) {
        Error("rabbitmq.shop_delay.queue", "required when rabbitmq.shop_delay.exchange is set (the TTL queue, e.g. order.delay.wait)");
      } else {
        CheckAmqpName("rabbitmq.shop_delay.queue", delay.queue);
        if (Usable("rabbitmq.queue") && delay.queue == rabbit.queue) {
          Error("rabbitmq.shop_delay.queue", "must differ from rabbitmq.queue (it is the queue order numbers wait in before they reach it)");
        }
      }
      if (delay.ttl.count() == 0) {
        Error("rabbitmq.shop_delay.ttl", "required when rabbitmq.shop_delay.exchange is set (at least policy.order_ttl, e.g. 15m)");
      } else if (Usable("policy.order_ttl") && config_.policy.order_ttl.count() > 0 &&
                 delay.ttl < config_.policy.order_ttl) {
        Error("rabbitmq.shop_delay.ttl",
              FormatDuration(delay.ttl) + " is shorter than policy.order_ttl (" +
                  FormatDuration(config_.policy.order_ttl) +
                  "): orders would arrive before their payment window ends; set it to at least " +
                  FormatDuration(config_.policy.order_ttl));
      }
    }
  }
}

}  // namespace wxpay
