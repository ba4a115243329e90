// Shared pieces of the RabbitMQ integration tests (broker_it): the server
// from scripts/start-rabbitmq.sh (WXPAY_TEST_AMQP_URL, WXPAY_TEST_RABBITMQCTL),
// unique names, polling with deadlines, cleanup.
#pragma once

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/broker_session.h"
#include "ops/log.h"

namespace wxpay::broker_test {

using std::chrono::milliseconds;

struct RabbitEnv {
  std::string url;
  std::string rabbitmqctl;  // command line prefix
};

// The test server's coordinates, or a message saying how to get them.
Result<RabbitEnv> LoadRabbitEnv();

// Connect options for the test server: short timeouts, 5 s heartbeat.
ConnectOptions TestConnectOptions(const RabbitEnv& env);

// "wxpay-test-<pid>-<n>-<tag>": unique per process and call.
std::string UniqueName(const std::string& tag);

// Runs `rabbitmqctl ARGS` for the test node; returns its exit status.
int RunRabbitmqctl(const RabbitEnv& env, const std::string& args);

using PollFn = std::function<BrokerEvent(milliseconds)>;
using EventPredicate = std::function<bool(const BrokerEvent&)>;

// Polls until an event satisfies `pred` or `timeout` passes. Events that do
// not match are appended to `others` (when given).
std::optional<BrokerEvent> PollUntil(const PollFn& poll, const EventPredicate& pred, milliseconds timeout,
                                     std::vector<BrokerEvent>* others = nullptr);

// The next `count` deliveries (fewer if `timeout` passes first).
std::vector<Delivery> CollectDeliveries(const PollFn& poll, size_t count, milliseconds timeout,
                                        std::vector<BrokerEvent>* others = nullptr);

PollFn PollOf(BrokerSession& session);

// RunRabbitmqctl while this thread keeps polling `poll` (events other than
// Idle go to `events`). librabbitmq sends heartbeats only from inside its
// calls, and on a loaded machine rabbitmqctl (an Erlang VM starting) can take
// longer than two heartbeat intervals: the broker would drop a connection
// left idle meanwhile ("missed heartbeats from client").
int RunRabbitmqctlWhilePolling(const RabbitEnv& env, const std::string& args, const PollFn& poll,
                               std::vector<BrokerEvent>& events);

// The first of `events` that satisfies `pred`, else PollUntil's; everything
// polled is appended to `events`, which keeps the order of arrival.
std::optional<BrokerEvent> SeenOrPolled(const PollFn& poll, const EventPredicate& pred, milliseconds timeout,
                                        std::vector<BrokerEvent>& events);

template <typename T>
bool Is(const BrokerEvent& e) {
  return std::holds_alternative<T>(e);
}

// An eventfd standing in for the daemon's worker mailbox in Poll(timeout, wake_fd).
class EventFd {
 public:
  EventFd() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~EventFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  EventFd(const EventFd&) = delete;
  EventFd& operator=(const EventFd&) = delete;
  int fd() const { return fd_; }
  void Signal() const {
    const uint64_t one = 1;
    EXPECT_EQ(::write(fd_, &one, sizeof one), static_cast<ssize_t>(sizeof one));
  }
  void Clear() const {
    uint64_t count;
    (void)!::read(fd_, &count, sizeof count);
  }

 private:
  const int fd_;
};

// A fixture with a live admin session and the queues it must delete.
class RabbitTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A new session (generation as given) to the test server.
  std::unique_ptr<BrokerSession> OpenSession(uint64_t generation = 1);
  // Declares a fresh durable queue that TearDown deletes.
  std::string MakeQueue(const std::string& tag, const FieldTable& arguments = {});
  void DeleteLater(const std::string& queue) { queues_.push_back(queue); }
  // Publishes `body` to `queue` through the default exchange and waits for the confirm.
  void PublishTo(const std::string& queue, const std::string& body);

  RabbitEnv env_;
  CapturingLogger log_;
  std::unique_ptr<BrokerSession> admin_;
  std::vector<std::string> queues_;
  std::vector<std::string> exchanges_;
};

}  // namespace wxpay::broker_test
