// BrokerSession::Poll with a wake descriptor (the daemon's worker mailbox)
// against a real RabbitMQ: a wake-up ends a long wait, and waiting on both
// descriptors still delivers messages.
#include <gtest/gtest.h>

#include <thread>

#include "broker/rabbit_fixture.h"

namespace wxpay::broker_test {
namespace {

using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

class SessionWakeTest : public RabbitTest {};

TEST_F(SessionWakeTest, AWakeUpEndsALongWaitWithoutReading) {
  const std::string q = MakeQueue("wake");
  std::unique_ptr<BrokerSession> s = OpenSession();
  ASSERT_TRUE(s->StartConsuming(q, 10).ok());
  EventFd wake;
  ASSERT_GE(wake.fd(), 0);

  std::thread signaller([&] { wake.Signal(); });
  const auto started = SteadyClock::now();
  BrokerEvent e = s->Poll(seconds(60), wake.fd());
  const auto waited = SteadyClock::now() - started;
  signaller.join();
  EXPECT_TRUE(Is<Idle>(e));
  EXPECT_LT(waited, seconds(30)) << "the wake descriptor did not end the 60 s wait";
  EXPECT_FALSE(s->closed());
}

TEST_F(SessionWakeTest, DeliveriesArriveWhileWaitingOnBothDescriptors) {
  const std::string q = MakeQueue("wake-deliver");
  std::unique_ptr<BrokerSession> s = OpenSession();
  ASSERT_TRUE(s->StartConsuming(q, 50).ok());
  EventFd wake;
  ASSERT_GE(wake.fd(), 0);
  for (int i = 0; i < 20; ++i) PublishTo(q, "ORDER0000" + std::to_string(10 + i));

  PollFn poll = [&](milliseconds timeout) { return s->Poll(timeout, wake.fd()); };
  std::vector<Delivery> got = CollectDeliveries(poll, 20, seconds(10));
  ASSERT_EQ(got.size(), 20u);
  EXPECT_EQ(got.front().body, "ORDER000010");
  EXPECT_EQ(got.back().body, "ORDER000029");
  for (const Delivery& d : got) ASSERT_TRUE(s->Ack(d.ref()).ok());

  // A wake-up left pending (never cleared) does not hide a delivery: the
  // socket is read first when it has data.
  wake.Signal();
  PublishTo(q, "ORDER000030");
  std::optional<BrokerEvent> more = PollUntil(poll, Is<Delivery>, seconds(10));
  ASSERT_TRUE(more.has_value());
  EXPECT_EQ(std::get<Delivery>(*more).body, "ORDER000030");
  ASSERT_TRUE(s->Ack(std::get<Delivery>(*more).ref()).ok());
  wake.Clear();
  EXPECT_FALSE(s->closed());
}

}  // namespace
}  // namespace wxpay::broker_test
