#include "broker/reconnecting_broker.h"

#include <thread>
#include <utility>

namespace wxpay {
namespace {

std::string InSeconds(std::chrono::milliseconds d) {
  const long long tenths = (d.count() + 50) / 100;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
}

}  // namespace

ReconnectingBroker::ReconnectingBroker(BrokerOptions options, Logger& logger, Sleep sleep)
    : options_(std::move(options)), logger_(logger), sleep_(std::move(sleep)), backoff_(options_.reconnect) {
  if (!sleep_) sleep_ = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
}

ReconnectingBroker::~ReconnectingBroker() = default;

Status ReconnectingBroker::Connect() {
  session_.reset();
  // Unique per attempt, so no two connections ever share a generation.
  const uint64_t generation = ++last_generation_;
  Result<std::unique_ptr<BrokerSession>> opened = BrokerSession::Open(options_.connect, generation, logger_);
  if (!opened) return opened.error();
  std::unique_ptr<BrokerSession> session = std::move(opened).value();
  if (!options_.redeclare.exchanges.empty() || !options_.redeclare.queues.empty()) {
    Result<TopologyReport> declared = DeclareTopology(*session, options_.redeclare);
    if (!declared) return declared.error();
    for (const std::string& created : declared->created) logger_.Info("rabbitmq: declared " + created);
  }
  if (want_consuming_ && !options_.queue.empty()) {
    if (Status s = session->StartConsuming(options_.queue, options_.prefetch); !s) return s;
  }
  session_ = std::move(session);
  backoff_.Reset();
  last_error_.clear();
  logger_.Info("rabbitmq: connected to " + session_->endpoint() + " (generation " + std::to_string(generation) +
               (session_->consuming() ? ", consuming " + options_.queue : std::string()) + ")");
  return Status::Ok();
}

BrokerEvent ReconnectingBroker::Poll(std::chrono::milliseconds timeout, int wake_fd) {
  if (session_ == nullptr) {
    const Clock::time_point now = Clock::now();
    if (now < next_connect_) {
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_connect_ - now);
      sleep_(std::min(wait, timeout));
      if (Clock::now() < next_connect_) return Idle{};
    }
    if (Status s = Connect(); !s) {
      const std::chrono::milliseconds retry_in = backoff_.Next();
      next_connect_ = Clock::now() + retry_in;
      if (s.message() != last_error_) logger_.Warning(s.message() + "; retrying in " + InSeconds(retry_in));
      last_error_ = s.message();
      return ConnectFailed{s.message(), retry_in};
    }
    return Connected{session_->generation()};
  }

  if (want_consuming_ && !options_.queue.empty() && !session_->consuming() && !session_->closed() &&
      Clock::now() >= next_subscribe_) {
    if (Status s = session_->StartConsuming(options_.queue, options_.prefetch); !s) {
      if (!session_->closed()) {
        const std::chrono::milliseconds retry_in = backoff_.Next();
        next_subscribe_ = Clock::now() + retry_in;
        logger_.Warning(s.message() + "; retrying in " + InSeconds(retry_in));
        return ConnectFailed{s.message(), retry_in};
      }
    } else {
      backoff_.Reset();
      logger_.Info("rabbitmq: consuming " + options_.queue + " again");
    }
  }

  BrokerEvent event = session_->Poll(timeout, wake_fd);
  if (const auto* closed = std::get_if<Closed>(&event)) {
    logger_.Warning(closed->reason + "; reconnecting");
    session_.reset();
    next_connect_ = Clock::now() + backoff_.Next();
  } else if (const auto* cancelled = std::get_if<ConsumerCancelled>(&event)) {
    logger_.Warning(cancelled->reason);
    next_subscribe_ = Clock::now() + backoff_.Next();
  } else if (const auto* blocked = std::get_if<ConnectionBlocked>(&event)) {
    logger_.Warning("rabbitmq: the broker blocks publishers: " + blocked->reason);
  } else if (std::holds_alternative<ConnectionUnblocked>(event)) {
    logger_.Info("rabbitmq: the broker accepts publishes again");
  }
  return event;
}

Status ReconnectingBroker::NotConnected(const char* what) const {
  return Fail(std::string("rabbitmq: cannot ") + what + ": not connected" +
              (last_error_.empty() ? std::string() : " (" + last_error_ + ")"));
}

Status ReconnectingBroker::Ack(const DeliveryRef& ref) {
  if (session_ == nullptr) return NotConnected("ack: the delivery's connection is gone and the broker redelivers it");
  return session_->Ack(ref);
}

Status ReconnectingBroker::Nack(const DeliveryRef& ref, bool requeue) {
  if (session_ == nullptr) return NotConnected("nack: the delivery's connection is gone and the broker redelivers it");
  return session_->Nack(ref, requeue);
}

Result<PublishId> ReconnectingBroker::Publish(const OutgoingMessage& message) {
  if (session_ == nullptr) return Fail(NotConnected("publish").message());
  return session_->Publish(message);
}

Status ReconnectingBroker::PublishAndWait(const OutgoingMessage& message, std::chrono::milliseconds timeout) {
  if (session_ == nullptr) return NotConnected("publish");
  return session_->PublishAndWait(message, timeout);
}

Status ReconnectingBroker::SetConsuming(bool consuming) {
  want_consuming_ = consuming;
  if (session_ == nullptr || options_.queue.empty()) return Status::Ok();
  if (consuming) {
    if (session_->consuming()) return Status::Ok();
    next_subscribe_ = Clock::now();
    return session_->StartConsuming(options_.queue, options_.prefetch);
  }
  return session_->StopConsuming();
}

uint64_t ReconnectingBroker::generation() const { return session_ ? session_->generation() : 0; }

}  // namespace wxpay
