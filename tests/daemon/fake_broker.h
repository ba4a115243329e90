// A MessageBroker in memory, for the daemon's tests: the test queues
// deliveries and events, decides what happens to each publish (confirmed,
// failed as a nack or basic.return would, or left pending for the test to
// settle), can simulate a reconnect, and sees every ack, nack, publish and
// consuming switch. Acks of a delivery from another generation are refused
// and recorded, like the real adapter does.
//
// Thread-safe: the loop may run on another thread than the test.
#pragma once

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "broker/broker.h"
#include "broker/follow_up.h"

namespace wxpay::testing {

class FakeBroker final : public MessageBroker {
 public:
  enum class PublishMode {
    kConfirm,  // confirmed (and routed) on the next poll
    kFail,     // failed on the next poll (nack / basic.return / channel closed)
    kManual,   // left outstanding until Confirm() or FailPublish()
  };

  struct Published {
    PublishId id = 0;
    OutgoingMessage message;
  };

  // ---------------------------------------------------------- test side

  // Queues a delivery on the current connection; returns its delivery tag.
  uint64_t Deliver(std::string body, std::optional<FieldTable> headers = std::nullopt) {
    std::lock_guard<std::mutex> lock(mu_);
    Delivery d;
    d.delivery_tag = ++last_tag_;
    d.generation = generation_;
    d.body = std::move(body);
    d.properties.delivery_mode = kPersistentDeliveryMode;
    d.properties.headers = std::move(headers);
    d.routing_key = "orders";
    events_.push_back(std::move(d));
    changed_.notify_all();
    return last_tag_;
  }

  void SetPublishMode(PublishMode mode) {
    std::lock_guard<std::mutex> lock(mu_);
    mode_ = mode;
  }

  void Confirm(PublishId id) { Settle(id, true, ""); }
  void FailPublish(PublishId id, std::string reason) { Settle(id, false, std::move(reason)); }

  // The connection drops and comes back: outstanding publishes fail, then
  // Closed, then Connected with a new generation (delivery tags restart).
  void Reconnect() {
    std::lock_guard<std::mutex> lock(mu_);
    for (PublishId id : outstanding_) events_.push_back(PublishFailed{id, "connection lost"});
    outstanding_.clear();
    events_.push_back(Closed{"connection reset by test"});
    ++generation_;
    last_tag_ = 0;
    events_.push_back(Connected{generation_});
    changed_.notify_all();
  }

  std::vector<DeliveryRef> acks() const { return Locked(acks_); }
  std::vector<DeliveryRef> refused_acks() const { return Locked(refused_acks_); }
  std::vector<std::pair<DeliveryRef, bool>> nacks() const { return Locked(nacks_); }
  std::vector<Published> publishes() const { return Locked(publishes_); }
  std::vector<bool> consuming_changes() const { return Locked(consuming_changes_); }
  bool consuming() const {
    std::lock_guard<std::mutex> lock(mu_);
    return consuming_;
  }
  std::vector<PublishId> outstanding() const { return Locked(outstanding_); }

  // Waits until the loop has entered Poll() more than `polls` times in all.
  bool WaitForPoll(int polls, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, timeout, [&] { return polls_ > polls; });
  }
  int polls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return polls_;
  }

  // Runs inside Ack (with no lock held), e.g. to check what was committed.
  void OnAck(std::function<void(const DeliveryRef&)> hook) {
    std::lock_guard<std::mutex> lock(mu_);
    on_ack_ = std::move(hook);
  }

  // ------------------------------------------------------ MessageBroker

  // Like the real broker, returns early once `wake_fd` is readable (checked
  // every millisecond: the fake has no socket to poll() beside it).
  BrokerEvent Poll(std::chrono::milliseconds timeout, int wake_fd) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock<std::mutex> lock(mu_);
    ++polls_;
    changed_.notify_all();
    while (events_.empty() && !Readable(wake_fd)) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) break;
      changed_.wait_for(lock, std::min<std::chrono::steady_clock::duration>(deadline - now, std::chrono::milliseconds(1)));
    }
    if (events_.empty()) return Idle{};
    BrokerEvent e = std::move(events_.front());
    events_.pop_front();
    return e;
  }

  Status Ack(const DeliveryRef& ref) override {
    std::function<void(const DeliveryRef&)> hook;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (ref.generation != generation_) {
        refused_acks_.push_back(ref);
        return Fail("fake broker: ack of a delivery from generation " + std::to_string(ref.generation) + " refused");
      }
      acks_.push_back(ref);
      hook = on_ack_;
    }
    if (hook) hook(ref);
    return Status::Ok();
  }

  Status Nack(const DeliveryRef& ref, bool requeue) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (ref.generation != generation_) return Fail("fake broker: nack from another generation refused");
    nacks_.emplace_back(ref, requeue);
    return Status::Ok();
  }

  Result<PublishId> Publish(const OutgoingMessage& message) override {
    std::lock_guard<std::mutex> lock(mu_);
    const PublishId id = ++last_publish_;
    publishes_.push_back(Published{id, message});
    switch (mode_) {
      case PublishMode::kConfirm: events_.push_back(PublishConfirmed{id}); break;
      case PublishMode::kFail: events_.push_back(PublishFailed{id, "312 NO_ROUTE"}); break;
      case PublishMode::kManual: outstanding_.push_back(id); break;
    }
    changed_.notify_all();
    return id;
  }

  Status PublishAndWait(const OutgoingMessage& message, std::chrono::milliseconds) override {
    Result<PublishId> id = Publish(message);
    return id.ok() ? Status::Ok() : Status(id.error());
  }

  Status SetConsuming(bool consuming) override {
    std::lock_guard<std::mutex> lock(mu_);
    consuming_ = consuming;
    consuming_changes_.push_back(consuming);
    return Status::Ok();
  }

  uint64_t generation() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return generation_;
  }

 private:
  static bool Readable(int fd) {
    if (fd < 0) return false;
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
  }

  template <typename T>
  T Locked(const T& value) const {
    std::lock_guard<std::mutex> lock(mu_);
    return value;
  }

  void Settle(PublishId id, bool confirmed, std::string reason) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = outstanding_.begin(); it != outstanding_.end(); ++it) {
      if (*it != id) continue;
      outstanding_.erase(it);
      if (confirmed) {
        events_.push_back(PublishConfirmed{id});
      } else {
        events_.push_back(PublishFailed{id, std::move(reason)});
      }
      changed_.notify_all();
      return;
    }
  }

  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::deque<BrokerEvent> events_;
  uint64_t generation_ = 1;
  int polls_ = 0;  // Poll() calls so far
  uint64_t last_tag_ = 0;
  PublishId last_publish_ = 0;
  PublishMode mode_ = PublishMode::kConfirm;
  bool consuming_ = true;
  std::vector<DeliveryRef> acks_;
  std::vector<DeliveryRef> refused_acks_;
  std::vector<std::pair<DeliveryRef, bool>> nacks_;
  std::vector<Published> publishes_;
  std::vector<PublishId> outstanding_;
  std::vector<bool> consuming_changes_;
  std::function<void(const DeliveryRef&)> on_ack_;
};

// The x-wxpay-* header `key` of a published message ("" when absent).
inline std::string HeaderText(const OutgoingMessage& m, const char* key) {
  if (!m.properties.headers) return "";
  const FieldValue* v = FindField(*m.properties.headers, key);
  if (v == nullptr) return "";
  if (const std::string* s = v->AsString()) return *s;
  if (auto n = v->AsInteger()) return std::to_string(*n);
  return "?";
}

}  // namespace wxpay::testing
