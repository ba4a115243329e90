#include "broker/rabbit_fixture.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <future>

#include "broker/amqp_endpoint.h"

namespace wxpay::broker_test {

Result<RabbitEnv> LoadRabbitEnv() {
  const char* url = std::getenv("WXPAY_TEST_AMQP_URL");
  const char* ctl = std::getenv("WXPAY_TEST_RABBITMQCTL");
  if (url == nullptr || *url == '\0' || ctl == nullptr || *ctl == '\0') {
    return Fail(
        "WXPAY_TEST_AMQP_URL and WXPAY_TEST_RABBITMQCTL are not set: run the integration tests through "
        "scripts/run-tests.sh, or start a test broker with `scripts/start-rabbitmq.sh DIR && source DIR/env`");
  }
  return RabbitEnv{url, ctl};
}

ConnectOptions TestConnectOptions(const RabbitEnv& env) {
  Result<AmqpEndpoint> endpoint = ParseAmqpEndpoint(env.url);
  EXPECT_TRUE(endpoint.ok()) << (endpoint.ok() ? "" : endpoint.error().message);
  ConnectOptions o;
  if (endpoint.ok()) {
    o.endpoint = *endpoint;
    o.password = ResolvePassword(*endpoint, "");
  }
  o.heartbeat = std::chrono::seconds(5);
  o.connect_timeout = std::chrono::seconds(5);
  o.rpc_timeout = std::chrono::seconds(5);
  o.connection_name = "wxpay-reconciler broker_it";
  return o;
}

std::string UniqueName(const std::string& tag) {
  static std::atomic<int> counter{0};
  return "wxpay-test-" + std::to_string(getpid()) + "-" + std::to_string(++counter) + "-" + tag;
}

int RunRabbitmqctl(const RabbitEnv& env, const std::string& args) {
  const std::string command = env.rabbitmqctl + " " + args + " >/dev/null 2>&1";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::optional<BrokerEvent> PollUntil(const PollFn& poll, const EventPredicate& pred, milliseconds timeout,
                                     std::vector<BrokerEvent>* others) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    BrokerEvent e = poll(std::min(left, milliseconds(100)));
    if (pred(e)) return e;
    if (others != nullptr && !Is<Idle>(e)) others->push_back(std::move(e));
  }
  return std::nullopt;
}

std::vector<Delivery> CollectDeliveries(const PollFn& poll, size_t count, milliseconds timeout,
                                        std::vector<BrokerEvent>* others) {
  std::vector<Delivery> out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    std::optional<BrokerEvent> e = PollUntil(poll, Is<Delivery>, left, others);
    if (!e) break;
    out.push_back(std::get<Delivery>(std::move(*e)));
  }
  return out;
}

PollFn PollOf(BrokerSession& session) {
  return [&session](milliseconds timeout) { return session.Poll(timeout); };
}

int RunRabbitmqctlWhilePolling(const RabbitEnv& env, const std::string& args, const PollFn& poll,
                               std::vector<BrokerEvent>& events) {
  std::future<int> done = std::async(std::launch::async, [&env, &args] { return RunRabbitmqctl(env, args); });
  while (done.wait_for(milliseconds(0)) != std::future_status::ready) {
    BrokerEvent e = poll(milliseconds(100));
    if (Is<Idle>(e)) continue;
    const bool closed = Is<Closed>(e);
    events.push_back(std::move(e));
    if (closed) break;  // nothing left to keep alive
  }
  return done.get();
}

std::optional<BrokerEvent> SeenOrPolled(const PollFn& poll, const EventPredicate& pred, milliseconds timeout,
                                        std::vector<BrokerEvent>& events) {
  const auto seen = std::find_if(events.begin(), events.end(), pred);
  if (seen != events.end()) return *seen;
  std::optional<BrokerEvent> e = PollUntil(poll, pred, timeout, &events);
  if (e) events.push_back(*e);
  return e;
}

void RabbitTest::SetUp() {
  Result<RabbitEnv> env = LoadRabbitEnv();
  ASSERT_TRUE(env.ok()) << env.error().message;
  env_ = *env;
  admin_ = OpenSession(1000);
  ASSERT_NE(admin_, nullptr);
}

void RabbitTest::TearDown() {
  // A fresh session: a test may have had the broker close the old one.
  admin_.reset();
  if (env_.url.empty()) return;
  admin_ = OpenSession(1001);
  if (admin_ == nullptr) return;
  for (const std::string& q : queues_) (void)admin_->DeleteQueue(q);
  for (const std::string& x : exchanges_) (void)admin_->DeleteExchange(x);
}

std::unique_ptr<BrokerSession> RabbitTest::OpenSession(uint64_t generation) {
  Result<std::unique_ptr<BrokerSession>> s = BrokerSession::Open(TestConnectOptions(env_), generation, log_);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  if (!s.ok()) return nullptr;
  return std::move(s).value();
}

std::string RabbitTest::MakeQueue(const std::string& tag, const FieldTable& arguments) {
  const std::string name = UniqueName(tag);
  Result<QueueInfo, AmqpFailure> declared = admin_->DeclareQueue(name, arguments);
  EXPECT_TRUE(declared.ok()) << (declared.ok() ? "" : declared.error().message);
  queues_.push_back(name);
  return name;
}

void RabbitTest::PublishTo(const std::string& queue, const std::string& body) {
  OutgoingMessage m;
  m.routing_key = queue;
  m.body = body;
  m.properties.delivery_mode = kPersistentDeliveryMode;
  Status s = admin_->PublishAndWait(m, std::chrono::seconds(5));
  EXPECT_TRUE(s.ok()) << s.message();
}

}  // namespace wxpay::broker_test
