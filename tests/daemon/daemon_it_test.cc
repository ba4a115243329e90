// The daemon end to end: the real binary against a real RabbitMQ
// (WXPAY_TEST_AMQP_URL, WXPAY_TEST_RABBITMQCTL), a SQLite shop database in a
// temporary directory and the WeChat Pay simulator (WXPAY_TEST_SIM,
// WXPAY_TEST_PKI). Every test has its own queues, database and state
// directory; conditions are awaited with deadlines.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "broker/broker_session.h"
#include "broker/delay_tiers.h"
#include "broker/follow_up.h"
#include "broker/rabbit_fixture.h"
#include "broker/topology.h"
#include "core/clock.h"
#include "daemon/daemon_it_fixture.h"
#include "daemon/it_support.h"
#include "store/state_store.h"
#include "wechatpay/sim_fixture.h"

namespace wxpay::testing {
namespace {

using broker_test::RunRabbitmqctl;
using broker_test::UniqueName;

constexpr int kUnpaid = 1, kPaid = 2, kCancelled = 5;

std::string NewOrderNo(const std::string& tag) { return UniqueOrderNo("IT", tag); }

struct ConfigOptions {
  std::string url;  // "" = the test broker
  std::string events_exchange;
  std::string start_timeout = "10s";
  bool dry_run = false;
  std::string queue;  // "" = the test's queue
  int prefetch = 16;
  bool sweeper = false;  // on: every second, no grace
  std::string userpaying_recheck = "1s";
  std::string retry = "{initial: 1s, max: 2s}";
};

class DaemonIt : public DaemonItFixture {
 protected:
  void SetUp() override {
    SetUpDaemonTest(SimOptions{}, "orders", "retry");
    if (HasFatalFailure()) return;
    config_ = WriteConfig("config.yaml", ConfigOptions{});
  }

  void TearDown() override {
    daemon_.reset();
    notify_.reset();
    if (rabbit_.url.empty() || queue_.empty()) return;  // SetUp failed
    BrokerSession& admin = Admin();
    std::vector<std::string> queues = extra_queues_;
    for (const std::string& q : {queue_, dlq_}) queues.push_back(q);
    for (Millis tier : ComputeDelayTiers(RetryPolicy{1s, 2s, 2.0, 20}, 1s, 1s)) {
      queues.push_back(RetryQueueName(queue_, tier));
    }
    for (const std::string& q : queues) (void)admin.DeleteQueue(q);
    (void)admin.DeleteExchange(retry_exchange_);
    for (const std::string& e : extra_exchanges_) (void)admin.DeleteExchange(e);
  }

  std::string WriteConfig(const std::string& name, const ConfigOptions& o) {
    const std::string queue = o.queue.empty() ? queue_ : o.queue;
    std::string yaml = RabbitmqYaml(o.url.empty() ? rabbit_.url : o.url, queue, "5s", o.prefetch);
    if (!o.events_exchange.empty()) yaml += "  events_exchange: " + o.events_exchange + "\n";
    yaml += DatabaseYaml();
    yaml += WechatpayYaml(/*plain_http=*/false);
    yaml += "policy:\n";
    yaml += "  order_ttl: 1s\n  userpaying_recheck: " + o.userpaying_recheck + "\n";
    yaml += "  retry: " + o.retry + "\n";
    yaml += "  concurrency: 2\n  drain_timeout: 8s\n";
    yaml += "  start_timeout: " + o.start_timeout + "\n";
    if (o.dry_run) yaml += "  dry_run: true\n";
    yaml += o.sweeper ? "sweeper:\n  enabled: true\n  interval: 1s\n  grace: 0s\n  max_pass: 5s\n"
                      : "sweeper:\n  enabled: false\n";
    yaml += "state_dir: " + state_dir_ + "\n";
    return dir_.Write(name, yaml);
  }

  // Starts `run`; waits for READY=1 unless told not to.
  ChildProcess* StartDaemon(const std::string& config = "", bool wait_ready = true) {
    daemon_.reset();
    notify_ = std::make_unique<NotifySocket>(dir_.path() + "/notify" + std::to_string(++starts_));
    daemon_ = ChildProcess::Spawn({bin_, "-c", config.empty() ? config_ : config, "run"},
                                  dir_.path() + "/daemon.log", {"NOTIFY_SOCKET=" + notify_->path()});
    if (daemon_ && wait_ready) {
      EXPECT_TRUE(notify_->WaitForLine("READY=1", 20s)) << daemon_->Output();
    }
    return daemon_.get();
  }

  // Stops the daemon with SIGTERM and returns its exit code.
  int StopDaemon() {
    daemon_->Signal(SIGTERM);
    std::optional<int> code = daemon_->Wait(20s);
    EXPECT_TRUE(code.has_value()) << "did not exit after SIGTERM:\n" << daemon_->Output();
    return code.value_or(-1);
  }

  // Rewrites config.yaml, sends SIGHUP and waits until the reload is applied.
  void Reload(const ConfigOptions& options) {
    const size_t applied = Count(DaemonLog(), "reload: applied");
    WriteConfig("config.yaml", options);
    const size_t seen = notify_->count();
    daemon_->Signal(SIGHUP);
    EXPECT_TRUE(notify_->WaitForLine("READY=1", 10s, seen)) << DaemonLog();
    EXPECT_TRUE(Eventually([&] { return Count(DaemonLog(), "reload: applied") > applied; }, 5s)) << DaemonLog();
  }

  // Delay tiers 1s, 3s, 4s, 5s (SetUp's policy has 1s, 2s, 5s); TearDown
  // deletes their queues.
  ConfigOptions NewRetryPolicy() {
    for (Millis tier : ComputeDelayTiers(RetryPolicy{1s, 3s, 2.0, 20}, 4s, 1s)) {
      extra_queues_.push_back(RetryQueueName(queue_, tier));
    }
    ConfigOptions o;
    o.userpaying_recheck = "4s";
    o.retry = "{initial: 1s, max: 3s}";
    return o;
  }

  // An order the daemon reschedules after policy.userpaying_recheck.
  std::string EnqueueUserPaying(const std::string& tag) {
    const std::string order = NewOrderNo(tag);
    sim_->PutOrder(order, R"({"trade_state":"USERPAYING","amount":100})");
    db_->AddUnpaid(order, 100, NowEpoch() - 100);
    Enqueue(order);
    return order;
  }

  CommandResult Cli(std::vector<std::string> args, const std::string& config = "") {
    std::vector<std::string> argv = {bin_, "-c", config.empty() ? config_ : config};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, dir_.path() + "/cli.out");
  }

  void Enqueue(const std::string& order_no) {
    CommandResult r = Cli({"enqueue", order_no});
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }

  uint32_t Depth(const std::string& queue) {
    Result<QueueInfo, AmqpFailure> info = Admin().InspectQueue(queue);
    EXPECT_TRUE(info.ok()) << (info.ok() ? "" : info.error().message);
    return info.ok() ? info->message_count : 0;
  }

  std::string DaemonLog() const { return daemon_ ? daemon_->Output() : ""; }

  std::string config_;
  std::vector<std::string> extra_queues_, extra_exchanges_;
  std::unique_ptr<NotifySocket> notify_;
  std::unique_ptr<ChildProcess> daemon_;
};

TEST_F(DaemonIt, ReconcilesOrdersEndToEndAndPublishesOutcomeEvents) {
  const std::string events = UniqueName("events"), events_queue = UniqueName("events-q");
  extra_exchanges_.push_back(events);
  extra_queues_.push_back(events_queue);
  ASSERT_TRUE(Admin().DeclareExchange(events, "direct").ok());
  ASSERT_TRUE(Admin().DeclareQueue(events_queue, {}).ok());
  ASSERT_TRUE(Admin().BindQueue(events_queue, events, "paid").ok());
  ASSERT_TRUE(Admin().BindQueue(events_queue, events, "cancelled").ok());
  ConfigOptions options;
  options.events_exchange = events;
  config_ = WriteConfig("config-events.yaml", options);

  const std::string notpay = NewOrderNo("np"), success = NewOrderNo("ok"), paying = NewOrderNo("up");
  sim_->PutOrder(notpay, R"({"trade_state":"NOTPAY","amount":100})");
  sim_->PutOrder(success, R"({"trade_state":"SUCCESS","amount":200,"transaction_id":"4200000000000000201",)"
                          R"("success_time":"2024-05-01T12:00:00+08:00"})");
  sim_->PutOrder(paying, R"({"trade_state":"USERPAYING","amount":300})");
  db_->AddUnpaid(notpay, 100, NowEpoch() - 100);
  db_->AddUnpaid(success, 200, NowEpoch() - 100);
  db_->AddUnpaid(paying, 300, NowEpoch() - 100);

  ASSERT_NE(StartDaemon(), nullptr);
  for (const std::string& no : {notpay, success, paying}) Enqueue(no);

  EXPECT_TRUE(db_->WaitForStatus(notpay, kCancelled, 15s)) << DaemonLog();
  EXPECT_TRUE(db_->WaitForStatus(success, kPaid, 15s)) << DaemonLog();
  // USERPAYING goes through a retry tier and comes back.
  EXPECT_TRUE(Eventually([&] { return sim_->OrderRequests(paying, "query") >= 2; }, 15s)) << DaemonLog();
  EXPECT_EQ(db_->Status(paying), kUnpaid);
  sim_->PutOrder(paying, R"({"trade_state":"SUCCESS","amount":300,"transaction_id":"4200000000000000301",)"
                         R"("success_time":"2024-05-01T12:01:00+08:00"})");
  EXPECT_TRUE(db_->WaitForStatus(paying, kPaid, 15s)) << DaemonLog();
  for (const std::string& no : {notpay, success, paying}) EXPECT_EQ(db_->Version(no), 1) << no;

  std::vector<Delivery> got = Take(events_queue, 3, 10s);
  ASSERT_EQ(got.size(), 3u);
  std::multiset<std::string> keys;
  for (const Delivery& d : got) {
    keys.insert(d.routing_key);
    EXPECT_NE(d.body.find("\"order_no\":\"IT"), std::string::npos) << d.body;
    EXPECT_EQ(d.properties.delivery_mode, kPersistentDeliveryMode);
  }
  EXPECT_EQ(keys, (std::multiset<std::string>{"cancelled", "paid", "paid"}));
  EXPECT_TRUE(Eventually([&] { return Depth(queue_) == 0; }, 5s));
  EXPECT_EQ(Depth(dlq_), 0u);
  EXPECT_NE(DaemonLog().find("order=" + notpay + " shop=unpaid wechat=NOTPAY action=close+requery+cancel"),
            std::string::npos);

  EXPECT_EQ(StopDaemon(), 0) << DaemonLog();
  EXPECT_TRUE(notify_->WaitForLine("STOPPING=1", 1s));
}

TEST_F(DaemonIt, KilledMidOrderFinishesItExactlyOnceAfterRestart) {
  const std::string order = NewOrderNo("kill");
  sim_->PutOrder(order, R"({"trade_state":"NOTPAY","amount":100})");
  sim_->AddFault(R"({"fault":"delay","order":")" + order + R"(","endpoint":"close","delay_ms":3000})");
  db_->AddUnpaid(order, 100, NowEpoch() - 100);
  ASSERT_NE(StartDaemon(), nullptr);
  Enqueue(order);

  ASSERT_TRUE(Eventually([&] { return sim_->OrderRequests(order, "close") >= 1; }, 15s)) << DaemonLog();
  daemon_->Signal(SIGKILL);
  ASSERT_EQ(daemon_->Wait(10s), std::optional<int>(128 + SIGKILL));
  EXPECT_EQ(db_->Status(order), kUnpaid);

  ASSERT_NE(StartDaemon(), nullptr);
  EXPECT_TRUE(db_->WaitForStatus(order, kCancelled, 20s)) << DaemonLog();
  EXPECT_EQ(db_->Version(order), 1) << "changed more than once";
  EXPECT_TRUE(Eventually([&] { return Depth(queue_) == 0; }, 5s));
  EXPECT_EQ(Depth(dlq_), 0u);
  EXPECT_EQ(StopDaemon(), 0) << DaemonLog();

  SystemClock clock;
  Result<std::unique_ptr<StateStore>> state = StateStore::Open(state_dir_, clock);
  ASSERT_TRUE(state.ok());
  Result<int> crashes = (*state)->CrashCount(order);
  ASSERT_TRUE(crashes.ok());
  EXPECT_EQ(*crashes, 0) << "finishing clears the crash count";
}

TEST_F(DaemonIt, ReconnectsAfterTheBrokerDropsItsConnections) {
  const std::string first = NewOrderNo("r1"), second = NewOrderNo("r2");
  for (const std::string& no : {first, second}) {
    sim_->PutOrder(no, R"({"trade_state":"SUCCESS","amount":100,"transaction_id":"4200000000000000999",)"
                       R"("success_time":"2024-05-01T12:00:00+08:00"})");
    db_->AddUnpaid(no, 100, NowEpoch() - 100);
  }
  ASSERT_NE(StartDaemon(), nullptr);
  Enqueue(first);
  ASSERT_TRUE(db_->WaitForStatus(first, kPaid, 15s)) << DaemonLog();

  ASSERT_EQ(RunRabbitmqctl(rabbit_, "close_all_connections 'wxpay daemon_it'"), 0);
  EXPECT_TRUE(Eventually([&] { return DaemonLog().find("reconnecting") != std::string::npos; }, 15s)) << DaemonLog();
  EXPECT_TRUE(Eventually([&] { return Count(DaemonLog(), "rabbitmq: connected to") >= 2; }, 20s)) << DaemonLog();
  Enqueue(second);
  EXPECT_TRUE(db_->WaitForStatus(second, kPaid, 15s)) << DaemonLog();
  EXPECT_EQ(StopDaemon(), 0) << DaemonLog();
}

TEST_F(DaemonIt, SigtermDrainsTheInFlightOrderAndExitsZero) {
  const std::string order = NewOrderNo("drain");
  sim_->PutOrder(order, R"({"trade_state":"NOTPAY","amount":100})");
  sim_->AddFault(R"({"fault":"delay","order":")" + order + R"(","endpoint":"query","delay_ms":1500})");
  db_->AddUnpaid(order, 100, NowEpoch() - 100);
  ASSERT_NE(StartDaemon(), nullptr);
  Enqueue(order);
  ASSERT_TRUE(Eventually([&] { return sim_->OrderRequests(order, "query") >= 1; }, 15s)) << DaemonLog();

  const size_t seen = notify_->count();
  EXPECT_EQ(StopDaemon(), 0) << DaemonLog();
  EXPECT_TRUE(notify_->WaitForLine("STOPPING=1", 1s, seen));
  EXPECT_EQ(db_->Status(order), kCancelled) << "the in-flight order was not finished:\n" << DaemonLog();
  EXPECT_EQ(Depth(queue_), 0u);
}

TEST_F(DaemonIt, SetupTopologyIsIdempotentAndReportsAMismatch) {
  CommandResult first = Cli({"setup-topology"});
  EXPECT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("created queue '" + queue_ + "'"), std::string::npos) << first.output;
  EXPECT_NE(first.output.find("created queue '" + RetryQueueName(queue_, 1s) + "'"), std::string::npos);
  CommandResult second = Cli({"setup-topology"});
  EXPECT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("0 created"), std::string::npos) << second.output;

  // A retry queue declared by someone else with another TTL is never changed.
  const std::string other = UniqueName("other");
  extra_queues_ = {other, other + ".dead"};
  for (Millis tier : ComputeDelayTiers(RetryPolicy{1s, 2s, 2.0, 20}, 1s, 1s)) {
    extra_queues_.push_back(RetryQueueName(other, tier));
  }
  const std::string wrong = RetryQueueName(other, 1s);
  ASSERT_TRUE(Admin().DeclareQueue(wrong, DelayQueueArguments(5s, other)).ok());
  ConfigOptions options;
  options.queue = other;
  CommandResult mismatch = Cli({"setup-topology"}, WriteConfig("other.yaml", options));
  EXPECT_EQ(mismatch.exit_code, 69) << mismatch.output;
  EXPECT_NE(mismatch.output.find("'" + wrong + "'"), std::string::npos) << mismatch.output;
  EXPECT_NE(mismatch.output.find("x-message-ttl"), std::string::npos) << mismatch.output;
}

TEST_F(DaemonIt, EnqueueAndRedriveRoundTrip) {
  ASSERT_EQ(Cli({"setup-topology"}).exit_code, 0);
  const std::string now_order = NewOrderNo("enq"), later = NewOrderNo("later");
  Enqueue(now_order);
  std::vector<Delivery> got = Take(queue_, 1, 5s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, now_order);
  EXPECT_EQ(got[0].properties.delivery_mode, kPersistentDeliveryMode);
  EXPECT_EQ(Cli({"enqueue", "no spaces!"}).exit_code, 65);

  CommandResult delayed = Cli({"enqueue", later, "--delay", "1s"});
  EXPECT_EQ(delayed.exit_code, 0) << delayed.output;
  EXPECT_NE(delayed.output.find(RetryQueueName(queue_, 1s)), std::string::npos) << delayed.output;
  got = Take(queue_, 1, 10s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, later);

  // Three dead letters: two unknown_order, one refunded, all parked.
  const std::string u1 = NewOrderNo("u1"), u2 = NewOrderNo("u2"), refunded = NewOrderNo("rf");
  SystemClock clock;
  {
    Result<std::unique_ptr<StateStore>> state = StateStore::Open(state_dir_, clock);
    ASSERT_TRUE(state.ok());
    for (const auto& [no, reason] : std::vector<std::pair<std::string, std::string>>{
             {u1, "unknown_order"}, {u2, "unknown_order"}, {refunded, "refunded"}}) {
      OutgoingMessage m;
      m.routing_key = dlq_;
      m.body = no;
      m.properties.delivery_mode = kPersistentDeliveryMode;
      m.properties.headers = FieldTable{{"x-shop", FieldValue::String("kept")},
                                        {kAttemptHeader, FieldValue::Int32(4)},
                                        {kReasonHeader, FieldValue::String(reason)},
                                        {kErrorHeader, FieldValue::String("no such order")},
                                        {kFirstSeenHeader, FieldValue::String("2024-05-01T04:00:00Z")}};
      ASSERT_TRUE(Admin().PublishAndWait(m, 10s).ok());
      ASSERT_TRUE((*state)->Park(no, reason, "test").ok());
    }
  }
  CommandResult redrive = Cli({"redrive", "--reason", "unknown_order"});
  EXPECT_EQ(redrive.exit_code, 0) << redrive.output;
  EXPECT_NE(redrive.output.find("moved 2 dead letter(s)"), std::string::npos) << redrive.output;
  EXPECT_EQ(Depth(dlq_), 1u);
  got = Take(queue_, 2, 5s);
  ASSERT_EQ(got.size(), 2u);
  for (const Delivery& d : got) {
    EXPECT_TRUE(d.body == u1 || d.body == u2) << d.body;
    ASSERT_TRUE(d.properties.headers.has_value());
    const FieldTable& h = *d.properties.headers;
    EXPECT_EQ(FindField(h, kAttemptHeader), nullptr);
    EXPECT_EQ(FindField(h, kReasonHeader), nullptr);
    EXPECT_EQ(FindField(h, kErrorHeader), nullptr);
    ASSERT_NE(FindField(h, kFirstSeenHeader), nullptr);
    EXPECT_EQ(*FindField(h, kFirstSeenHeader)->AsString(), "2024-05-01T04:00:00Z");
    ASSERT_NE(FindField(h, "x-shop"), nullptr);
  }
  {
    Result<std::unique_ptr<StateStore>> state = StateStore::Open(state_dir_, clock);
    ASSERT_TRUE(state.ok());
    for (const auto& [no, parked] : std::vector<std::pair<std::string, bool>>{{u1, false}, {u2, false}, {refunded, true}}) {
      Result<bool> is = (*state)->IsParked(no);
      ASSERT_TRUE(is.ok());
      EXPECT_EQ(*is, parked) << no;
    }
  }

  CommandResult rest = Cli({"redrive", "--limit", "1"});
  EXPECT_EQ(rest.exit_code, 0) << rest.output;
  EXPECT_NE(rest.output.find("moved 1 dead letter(s)"), std::string::npos) << rest.output;
  EXPECT_EQ(Depth(dlq_), 0u);
  EXPECT_EQ(Take(queue_, 1, 5s).size(), 1u);
}

TEST_F(DaemonIt, SighupKeepsTheRunningConfigurationOnABadFileAndAppliesAGoodOne) {
  ASSERT_NE(StartDaemon(), nullptr);
  dir_.Write("config.yaml", "rabbitmq: [this is not a mapping\n");
  const size_t seen = notify_->count();
  daemon_->Signal(SIGHUP);
  EXPECT_TRUE(notify_->WaitForLine("RELOADING=1", 10s, seen)) << DaemonLog();
  EXPECT_TRUE(notify_->WaitForLine("READY=1", 10s, seen)) << DaemonLog();
  EXPECT_TRUE(Eventually([&] { return DaemonLog().find("keeping the running configuration") != std::string::npos; },
                         5s))
      << DaemonLog();

  ConfigOptions changed;
  changed.prefetch = 8;  // needs a restart: refused with a warning
  Reload(changed);
  EXPECT_NE(DaemonLog().find("rabbitmq.prefetch"), std::string::npos) << DaemonLog();

  const std::string order = NewOrderNo("hup");
  sim_->PutOrder(order, R"({"trade_state":"CLOSED","amount":100})");
  db_->AddUnpaid(order, 100, NowEpoch() - 100);
  Enqueue(order);
  EXPECT_TRUE(db_->WaitForStatus(order, kCancelled, 15s)) << DaemonLog();
  EXPECT_EQ(StopDaemon(), 0) << DaemonLog();
}

TEST_F(DaemonIt, SighupWithANewRetryPolicyDeclaresItsTiersAndReschedulesIntoThem) {
  const ConfigOptions changed = NewRetryPolicy();
  const std::string new_tier = RetryQueueName(queue_, 4s), old_tier = RetryQueueName(queue_, 5s);
  ASSERT_NE(StartDaemon(), nullptr);
  EXPECT_FALSE(Admin().InspectQueue(new_tier).ok());

  Reload(changed);
  EXPECT_NE(DaemonLog().find("reload: delay tiers now 1000, 3000, 4000, 5000 ms"), std::string::npos) << DaemonLog();
  Result<QueueInfo, AmqpFailure> declared = Admin().InspectQueue(new_tier);
  EXPECT_TRUE(declared.ok()) << declared.error().message;

  // USERPAYING waits userpaying_recheck, now 4 s: its own tier, where the
  // old tiers rounded it up to 5 s.
  const std::string order = EnqueueUserPaying("tier");
  EXPECT_TRUE(Eventually([&] { return Depth(new_tier) == 1; }, 10s)) << DaemonLog();
  EXPECT_EQ(Depth(old_tier), 0u);
  // ... and comes back from there.
  EXPECT_TRUE(Eventually([&] { return sim_->OrderRequests(order, "query") >= 2; }, 15s)) << DaemonLog();
  EXPECT_EQ(StopDaemon(), 0) << DaemonLog();
}

TEST_F(DaemonIt, SighupKeepsTheOldTiersWhenANewRetryQueueCannotBeDeclared) {
  const ConfigOptions changed = NewRetryPolicy();
  const std::string taken = RetryQueueName(queue_, 4s), old_tier = RetryQueueName(queue_, 5s);
  ASSERT_NE(StartDaemon(), nullptr);
  ASSERT_TRUE(Admin().DeclareQueue(taken, DelayQueueArguments(9s, queue_)).ok());  // another TTL

  Reload(changed);
  const std::string log = DaemonLog();
  EXPECT_NE(log.find("could not be declared"), std::string::npos) << log;
  EXPECT_NE(log.find("'" + taken + "'"), std::string::npos) << log;
  EXPECT_EQ(log.find("reload: delay tiers now"), std::string::npos) << log;

  // Never into the queue that is not ours: the old 5 s tier.
  EnqueueUserPaying("keep");
  EXPECT_TRUE(Eventually([&] { return Depth(old_tier) == 1; }, 10s)) << DaemonLog();
  EXPECT_EQ(Depth(taken), 0u);
  EXPECT_EQ(StopDaemon(), 0) << DaemonLog();
}

TEST_F(DaemonIt, SweeperFindsAnOrderNoMessageBroughtBack) {
  ConfigOptions options;
  options.sweeper = true;
  const std::string order = NewOrderNo("sweep");
  sim_->PutOrder(order, R"({"trade_state":"NOTPAY","amount":100})");
  db_->AddUnpaid(order, 100, NowEpoch() - 100);
  ASSERT_NE(StartDaemon(WriteConfig("sweep.yaml", options)), nullptr);
  EXPECT_TRUE(db_->WaitForStatus(order, kCancelled, 15s)) << DaemonLog();
  EXPECT_NE(DaemonLog().find("sweeper: pass examined"), std::string::npos) << DaemonLog();
  EXPECT_EQ(StopDaemon(), 0) << DaemonLog();
}

TEST_F(DaemonIt, GivesUpWithExit69WhenTheBrokerStaysDownAtStart) {
  ConfigOptions options;
  options.url = "amqp://guest:guest@127.0.0.1:" + std::to_string(ClosedLoopbackPort()) + "/%2f";
  options.start_timeout = "2s";
  ChildProcess* daemon = StartDaemon(WriteConfig("down.yaml", options), false);
  ASSERT_NE(daemon, nullptr);
  std::optional<int> code = daemon->Wait(20s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 69) << DaemonLog();
  const std::vector<std::string> messages = notify_->messages();
  EXPECT_TRUE(std::any_of(messages.begin(), messages.end(),
                          [](const std::string& m) { return m.rfind("EXTEND_TIMEOUT_USEC=", 0) == 0; }));
  EXPECT_TRUE(std::any_of(messages.begin(), messages.end(), [](const std::string& m) {
    return m.rfind("STATUS=starting: waiting for RabbitMQ", 0) == 0;
  }));
  EXPECT_FALSE(notify_->WaitForLine("READY=1", 0ms));
}

TEST_F(DaemonIt, RefusesDryRun) {
  ConfigOptions options;
  options.dry_run = true;
  CommandResult r = Cli({"run"}, WriteConfig("dry.yaml", options));
  EXPECT_EQ(r.exit_code, 78) << r.output;
  EXPECT_NE(r.output.find("dry_run"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace wxpay::testing
