// The daemon under load and faults, end to end (daemon_batch_it): the real
// binary against a real RabbitMQ (WXPAY_TEST_AMQP_URL, WXPAY_TEST_RABBITMQCTL,
// optionally WXPAY_TEST_RABBITMQ_RESTART), a SQLite shop database and the
// WeChat Pay simulator. Covers what daemon_it does not: a mixed batch handled
// by two processes through a broker restart and a SIGKILL, reschedule timing
// and dead letters after max_attempts, an early message, and heartbeats while
// every worker is blocked in a slow WeChat Pay call.
//
// The mid-run broker outage is a real stop and start of the node through
// WXPAY_TEST_RABBITMQ_RESTART (written by scripts/start-rabbitmq.sh; the
// runner runs integration binaries one at a time, so no other test shares the
// outage); without it, `rabbitmqctl close_all_connections` (said on stderr).
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "broker/broker_session.h"
#include "broker/delay_tiers.h"
#include "broker/follow_up.h"
#include "broker/rabbit_fixture.h"
#include "daemon/daemon_it_fixture.h"
#include "daemon/it_support.h"
#include "wechatpay/sim_fixture.h"

namespace wxpay::testing {
namespace {

using broker_test::RunRabbitmqctl;
using Clock = std::chrono::steady_clock;

constexpr int kUnpaid = 1, kPaid = 2, kCancelled = 5;

std::string NewOrderNo(const std::string& tag) { return UniqueOrderNo("BT", tag); }

std::string SuccessJson(int64_t amount) {
  return R"({"trade_state":"SUCCESS","amount":)" + std::to_string(amount) +
         R"(,"transaction_id":"4200000000000000777","success_time":"2024-05-01T12:00:00+08:00"})";
}

struct BatchConfig {
  std::string heartbeat = "5s";
  std::string order_ttl = "1s";
  std::string retry = "{initial: 1s, max: 2s, max_attempts: 50}";
  std::string userpaying_recheck = "1s";
  std::string wechat_timeout = "5s";
  int concurrency = 4;
  int prefetch = 16;
};

// The SQLite shop in bulk: one transaction, bound parameters.
void InsertOrders(const std::string& path, const std::vector<std::pair<std::string, int>>& order_status,
                  int64_t amount, int64_t created_at) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  sqlite3_busy_timeout(db.get(), 5000);
  ASSERT_EQ(sqlite3_exec(db.get(), "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_stmt* raw_stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db.get(),
                               "INSERT INTO orders (order_no, status, amount, created_at) VALUES (?, ?, ?, ?)", -1,
                               &raw_stmt, nullptr),
            SQLITE_OK);
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw_stmt, &sqlite3_finalize);
  for (const auto& [no, status] : order_status) {
    sqlite3_reset(stmt.get());
    sqlite3_bind_text(stmt.get(), 1, no.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(stmt.get(), 2, status);
    sqlite3_bind_int64(stmt.get(), 3, amount);
    sqlite3_bind_int64(stmt.get(), 4, created_at);
    ASSERT_EQ(sqlite3_step(stmt.get()), SQLITE_DONE) << sqlite3_errmsg(db.get());
  }
  ASSERT_EQ(sqlite3_exec(db.get(), "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
}

// order_no -> (status, version) for every order.
std::map<std::string, std::pair<int, int>> ReadAllOrders(const std::string& path) {
  std::map<std::string, std::pair<int, int>> out;
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(raw);
    return out;
  }
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  sqlite3_busy_timeout(db.get(), 5000);
  sqlite3_stmt* raw_stmt = nullptr;
  if (sqlite3_prepare_v2(db.get(), "SELECT order_no, status, version FROM orders", -1, &raw_stmt, nullptr) !=
      SQLITE_OK) {
    return out;
  }
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw_stmt, &sqlite3_finalize);
  while (sqlite3_step(stmt.get()) == SQLITE_ROW) {
    out[reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0))] = {sqlite3_column_int(stmt.get(), 1),
                                                                            sqlite3_column_int(stmt.get(), 2)};
  }
  return out;
}

// by_order from the simulator's stats: order -> endpoint -> count.
std::map<std::string, std::map<std::string, int>> PerOrderStats(const Simulator& sim) {
  std::map<std::string, std::map<std::string, int>> out;
  ControlAnswer a = sim.Control("GET", "/_sim/stats");
  EXPECT_EQ(a.status, 200) << a.body;
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> root(cJSON_Parse(a.body.c_str()), &cJSON_Delete);
  if (!root) return out;
  const cJSON* by_order = cJSON_GetObjectItemCaseSensitive(root.get(), "by_order");
  const cJSON* order = nullptr;
  cJSON_ArrayForEach(order, by_order) {
    const cJSON* endpoint = nullptr;
    cJSON_ArrayForEach(endpoint, order) {
      if (cJSON_IsNumber(endpoint)) out[order->string][endpoint->string] = endpoint->valueint;
    }
  }
  return out;
}

std::string HeaderString(const Delivery& d, const char* name) {
  if (!d.properties.headers) return "";
  const FieldValue* v = FindField(*d.properties.headers, name);
  if (v == nullptr || v->AsString() == nullptr) return "";
  return *v->AsString();
}

int64_t HeaderInt(const Delivery& d, const char* name) {
  if (!d.properties.headers) return -1;
  const FieldValue* v = FindField(*d.properties.headers, name);
  if (v == nullptr || !v->AsInteger()) return -1;
  return *v->AsInteger();
}

SimOptions PlainHttpSim() {
  SimOptions o;
  o.plain_http = true;
  return o;
}

class DaemonBatchIt : public DaemonItFixture {
 protected:
  void SetUp() override {
    // Plain HTTP: thousands of control calls without a TLS handshake each
    // (daemon_it covers the daemon's TLS to WeChat Pay).
    SetUpDaemonTest(PlainHttpSim(), "batch", "bretry");
    if (HasFatalFailure()) return;
    sim_->ClearFaults();
  }

  void TearDown() override {
    daemons_.clear();
    if (sim_) sim_->ClearFaults();
    if (rabbit_.url.empty() || queue_.empty()) return;
    admin_.reset();
    BrokerSession& admin = Admin();
    std::set<std::string> queues = {queue_, dlq_};
    for (const std::string& q : RetryQueues()) queues.insert(q);
    for (const std::string& q : queues) (void)admin.DeleteQueue(q);
    (void)admin.DeleteExchange(retry_exchange_);
  }

  std::vector<std::string> RetryQueues() const {
    std::vector<std::string> out;
    for (Millis tier : tiers_) out.push_back(RetryQueueName(queue_, tier));
    return out;
  }

  // Writes the config and remembers its delay tiers (for checks and cleanup).
  std::string WriteConfig(const std::string& name, const BatchConfig& c, RetryPolicy retry, Millis recheck,
                          Millis ttl) {
    for (Millis t : ComputeDelayTiers(retry, recheck, ttl)) {
      if (std::find(tiers_.begin(), tiers_.end(), t) == tiers_.end()) tiers_.push_back(t);
    }
    std::string yaml = RabbitmqYaml(rabbit_.url, queue_, c.heartbeat, c.prefetch);
    yaml += DatabaseYaml();
    yaml += WechatpayYaml(/*plain_http=*/true);
    yaml += "  timeout: " + c.wechat_timeout + "\n";
    yaml += "  max_requests_per_second: 2000\n";
    yaml += "policy:\n";
    yaml += "  order_ttl: " + c.order_ttl + "\n  userpaying_recheck: " + c.userpaying_recheck + "\n";
    yaml += "  not_found_breaker: 100000\n";
    yaml += "  retry: " + c.retry + "\n";
    yaml += "  concurrency: " + std::to_string(c.concurrency) + "\n  drain_timeout: 8s\n  start_timeout: 20s\n";
    yaml += "sweeper:\n  enabled: false\n";
    yaml += "state_dir: " + state_dir_ + "\n";
    return dir_.Write(name, yaml);
  }

  // Starts daemon number `slot` (own log, own notify socket, shared state dir
  // like two instances on one host) and waits for READY=1.
  ChildProcess* StartDaemon(size_t slot, const std::string& config) {
    if (daemons_.size() <= slot) daemons_.resize(slot + 1);
    if (notifies_.size() <= slot) notifies_.resize(slot + 1);
    daemons_[slot].reset();
    notifies_[slot] = std::make_unique<NotifySocket>(dir_.path() + "/notify" + std::to_string(++starts_));
    const std::string log = dir_.path() + "/daemon" + std::to_string(slot) + "-" + std::to_string(starts_) + ".log";
    daemons_[slot] = ChildProcess::Spawn({bin_, "-c", config, "run"}, log, {"NOTIFY_SOCKET=" + notifies_[slot]->path()});
    if (daemons_[slot]) {
      EXPECT_TRUE(notifies_[slot]->WaitForLine("READY=1", 30s)) << daemons_[slot]->Output();
    }
    return daemons_[slot].get();
  }

  int StopDaemon(size_t slot) {
    daemons_[slot]->Signal(SIGTERM);
    std::optional<int> code = daemons_[slot]->Wait(20s);
    EXPECT_TRUE(code.has_value()) << "did not exit after SIGTERM:\n" << daemons_[slot]->Output();
    return code.value_or(-1);
  }

  std::string Logs() const {
    std::string all;
    for (const auto& d : daemons_) {
      if (!d) continue;
      std::string out = d->Output();
      if (out.size() > 6000) out = "...\n" + out.substr(out.size() - 6000);
      all += "---- daemon " + std::to_string(d->pid()) + "\n" + out;
    }
    return all;
  }

  CommandResult Cli(const std::string& config, std::vector<std::string> args) {
    std::vector<std::string> argv = {bin_, "-c", config};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, dir_.path() + "/cli.out");
  }

  // Publishes a body to the work queue like a shop would (persistent, confirmed).
  void PublishRaw(const std::string& body) {
    OutgoingMessage m;
    m.routing_key = queue_;
    m.body = body;
    m.properties.delivery_mode = kPersistentDeliveryMode;
    Status s = Admin().PublishAndWait(m, 10s);
    ASSERT_TRUE(s.ok()) << s.message();
  }

  std::optional<uint32_t> Depth(const std::string& queue) {
    Result<QueueInfo, AmqpFailure> info = Admin().InspectQueue(queue);
    if (!info.ok()) return std::nullopt;
    return info->message_count;
  }

  std::vector<Millis> tiers_;
  std::vector<std::unique_ptr<NotifySocket>> notifies_;
  std::vector<std::unique_ptr<ChildProcess>> daemons_;
};

enum class Kind { kNotPay, kSuccess, kClosed, kNotFound, kShopPaid, kUserPaying };
constexpr int kKinds = 6;

TEST_F(DaemonBatchIt, MixedBatchSurvivesTwoDaemonsABrokerRestartAndASigkill) {
  constexpr int kOrders = 3000;
  const auto test_start = Clock::now();
  auto phase = [&](const char* what) {
    std::cerr << "[batch] +" << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - test_start).count()
              << " ms " << what << "\n";
  };
  BatchConfig c;
  c.prefetch = 20;
  const std::string config = WriteConfig("batch.yaml", c, RetryPolicy{1s, 2s, 2.0, 50}, 1s, 1s);

  std::map<std::string, Kind> kind;
  std::vector<std::pair<std::string, int>> rows;
  std::vector<std::string> order_nos;
  for (int i = 0; i < kOrders; ++i) {
    const Kind k = static_cast<Kind>(i % kKinds);
    const std::string no = NewOrderNo("m" + std::to_string(i % kKinds));
    kind[no] = k;
    order_nos.push_back(no);
    switch (k) {
      case Kind::kNotPay: sim_->PutOrder(no, R"({"trade_state":"NOTPAY","amount":100})"); break;
      case Kind::kSuccess: sim_->PutOrder(no, SuccessJson(100)); break;
      case Kind::kClosed: sim_->PutOrder(no, R"({"trade_state":"CLOSED","amount":100})"); break;
      case Kind::kNotFound: break;
      case Kind::kShopPaid: sim_->PutOrder(no, SuccessJson(100)); break;
      case Kind::kUserPaying: sim_->PutOrder(no, R"({"trade_state":"USERPAYING","amount":100})"); break;
    }
    rows.emplace_back(no, k == Kind::kShopPaid ? kPaid : kUnpaid);
  }
  InsertOrders(db_->path(), rows, 100, NowEpoch() - 100);
  sim_->ResetStats();
  phase("orders in the shop and the simulator");

  CommandResult topo = Cli(config, {"setup-topology"});
  ASSERT_EQ(topo.exit_code, 0) << topo.output;
  const std::vector<std::string> invalid = {"",       "has space",        "semi;colon",
                                            "x",      std::string(40, 'A'), "{\"order_no\":\"1\"}",
                                            "订单号", std::string("nul\0byte", 8)};
  const auto started = Clock::now();
  for (size_t i = 0; i < order_nos.size(); ++i) {
    PublishRaw(order_nos[i]);
    if (i % 150 == 0) PublishRaw(invalid[(i / 150) % invalid.size()]);
  }
  const size_t invalid_published = (order_nos.size() + 149) / 150;

  phase("published");
  ASSERT_NE(StartDaemon(0, config), nullptr);
  ASSERT_NE(StartDaemon(1, config), nullptr);
  phase("two daemons ready");

  auto finished = [&] {
    size_t n = 0;
    for (const auto& [no, sv] : ReadAllOrders(db_->path())) {
      const Kind k = kind[no];
      if (k == Kind::kShopPaid || k == Kind::kUserPaying) continue;
      if (sv.first != kUnpaid) ++n;
    }
    return n;
  };
  const size_t decidable = kOrders - 2 * (kOrders / kKinds);

  // The broker goes away mid-run (see the file comment).
  ASSERT_TRUE(Eventually([&] { return finished() >= decidable / 5; }, 40s)) << Logs();
  phase("restarting the broker");
  const char* restart = std::getenv("WXPAY_TEST_RABBITMQ_RESTART");
  admin_.reset();
  if (restart != nullptr && *restart != '\0') {
    ASSERT_EQ(std::system(restart), 0) << "broker restart failed: " << restart;
  } else {
    std::cerr << "[batch] WXPAY_TEST_RABBITMQ_RESTART not set: closing the connections instead of a restart\n";
    ASSERT_EQ(RunRabbitmqctl(rabbit_, "close_all_connections 'batch test'"), 0);
  }
  ASSERT_TRUE(Eventually(
      [&] {
        for (const auto& d : daemons_) {
          if (Count(d->Output(), "rabbitmq: connected to") < 2) return false;
        }
        return true;
      },
      40s))
      << "the daemons did not reconnect:\n" << Logs();
  phase("both reconnected");

  // One daemon dies hard mid-run and comes back.
  const size_t before_kill = finished();
  ASSERT_TRUE(Eventually([&] { return finished() >= before_kill + 50 || finished() >= decidable; }, 30s)) << Logs();
  daemons_[1]->Signal(SIGKILL);
  ASSERT_EQ(daemons_[1]->Wait(10s), std::optional<int>(128 + SIGKILL));
  ASSERT_NE(StartDaemon(1, config), nullptr);
  phase("killed daemon restarted");

  // Every decidable order settles; USERPAYING ones have been rechecked at least once.
  EXPECT_TRUE(Eventually([&] { return finished() == decidable; }, 180s))
      << finished() << " of " << decidable << " settled\n" << Logs();
  std::map<std::string, std::map<std::string, int>> stats = PerOrderStats(*sim_);
  for (const auto& [no, k] : kind) {
    if (k == Kind::kUserPaying) {
      EXPECT_GE(stats[no]["query"], 1) << no;
    }
  }
  phase("decidable orders settled");
  for (const auto& [no, k] : kind) {
    if (k == Kind::kUserPaying) sim_->PutOrder(no, SuccessJson(100));
  }
  EXPECT_TRUE(Eventually(
      [&] {
        for (const auto& [no, sv] : ReadAllOrders(db_->path())) {
          if (kind[no] == Kind::kUserPaying && sv.first != kPaid) return false;
        }
        return true;
      },
      30s))
      << Logs();

  // Nothing lost: the work queue and every retry queue are empty once all settled.
  EXPECT_TRUE(Eventually(
      [&] {
        if (Depth(queue_).value_or(1) != 0) return false;
        for (const std::string& q : RetryQueues()) {
          std::optional<uint32_t> d = Depth(q);
          if (d.has_value() && *d != 0) return false;
        }
        return true;
      },
      20s))
      << Logs();

  // Final states, each order changed at most once, WeChat Pay untouched for shop-paid orders.
  stats = PerOrderStats(*sim_);
  const std::map<std::string, std::pair<int, int>> final_rows = ReadAllOrders(db_->path());
  ASSERT_EQ(final_rows.size(), static_cast<size_t>(kOrders));
  int wrong = 0;
  for (const auto& [no, sv] : final_rows) {
    const auto [status, version] = sv;
    int expected = kUnpaid, expected_version = 1;
    switch (kind[no]) {
      case Kind::kNotPay:
      case Kind::kClosed:
      case Kind::kNotFound: expected = kCancelled; break;
      case Kind::kSuccess:
      case Kind::kUserPaying: expected = kPaid; break;
      case Kind::kShopPaid: expected = kPaid, expected_version = 0; break;
    }
    if (status != expected || version != expected_version) {
      if (++wrong <= 20) {
        ADD_FAILURE() << no << " status " << status << " version " << version << ", expected " << expected
                      << " version " << expected_version;
      }
    }
    if (kind[no] == Kind::kShopPaid) {
      EXPECT_EQ(stats[no]["query"] + stats[no]["close"], 0) << "WeChat Pay asked about shop-paid " << no;
    }
    if (kind[no] == Kind::kNotPay) {
      ControlAnswer a = sim_->Control("GET", "/_sim/orders/" + no);
      EXPECT_NE(a.body.find("\"CLOSED\""), std::string::npos) << "cancelled without a close: " << no << a.body;
    }
    if (kind[no] == Kind::kSuccess || kind[no] == Kind::kUserPaying) {
      EXPECT_EQ(stats[no]["close"], 0) << "a paid order was closed: " << no;
    }
  }
  EXPECT_EQ(wrong, 0) << Logs();

  // The dead-letter queue holds exactly the invalid bodies.
  std::vector<Delivery> dead = Take(dlq_, invalid_published + 5, 3s);
  std::multiset<std::string> dead_bodies, expected_dead;
  for (const Delivery& d : dead) {
    dead_bodies.insert(d.body);
    EXPECT_EQ(HeaderString(d, kReasonHeader), "invalid_message") << d.body;
  }
  for (size_t i = 0; i < invalid_published; ++i) expected_dead.insert(invalid[i % invalid.size()]);
  EXPECT_EQ(dead_bodies, expected_dead);

  for (size_t slot = 0; slot < daemons_.size(); ++slot) EXPECT_EQ(StopDaemon(slot), 0) << Logs();
  std::cerr << "[batch] " << kOrders << " orders + " << invalid_published << " invalid bodies settled in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count() << " ms\n";
}

TEST_F(DaemonBatchIt, PerOrderFailuresDeadLetterAfterMaxAttemptsAndEarlyMessagesWaitForTheWindow) {
  BatchConfig c;
  c.order_ttl = "4s";
  c.retry = "{initial: 1s, max: 2s, max_attempts: 3}";
  const std::string config = WriteConfig("retry.yaml", c, RetryPolicy{1s, 2s, 2.0, 3}, 1s, 4s);

  // SPEC §3 / engine.h: a 5xx storm is system-wide and must not burn orders, so
  // it keeps rescheduling without charging attempts; the attempt budget is
  // tested with a per-order failure (close refused 403 FREQUENCY_LIMITED).
  const std::string limited = NewOrderNo("freq"), storm = NewOrderNo("5xx"), early = NewOrderNo("early");
  for (const std::string& no : {limited, storm, early}) sim_->PutOrder(no, R"({"trade_state":"NOTPAY","amount":100})");
  db_->AddUnpaid(limited, 100, NowEpoch() - 100);
  db_->AddUnpaid(storm, 100, NowEpoch() - 100);
  const int64_t early_created = NowEpoch();
  db_->AddUnpaid(early, 100, early_created);
  sim_->AddFault(R"({"fault":"close_frequency_limited","count":-1,"order":")" + limited + R"(","endpoint":"close"})");
  sim_->AddFault(R"({"fault":"http500","count":-1,"order":")" + storm + R"("})");

  ASSERT_EQ(Cli(config, {"setup-topology"}).exit_code, 0);
  ASSERT_NE(StartDaemon(0, config), nullptr);
  const auto t0 = Clock::now();
  for (const std::string& no : {limited, storm, early}) PublishRaw(no);

  // The early order is never closed or cancelled inside its window.
  bool early_done_in_window = false;
  Eventually(
      [&] {
        if (db_->Status(early) != kUnpaid || sim_->OrderRequests(early, "close") > 0) early_done_in_window = true;
        return NowEpoch() >= early_created + 3;
      },
      10s);
  EXPECT_FALSE(early_done_in_window) << "touched before created_at + order_ttl\n" << Logs();
  EXPECT_TRUE(db_->WaitForStatus(early, kCancelled, 15s)) << Logs();
  EXPECT_GE(NowEpoch(), early_created + 4);
  EXPECT_EQ(db_->Version(early), 1);

  // The per-order failure: attempts 1, 2 (after 1 s), 3 (after 2 more s), then a dead letter.
  std::vector<Delivery> dead = Take(dlq_, 1, 20s);
  const auto dead_after = Clock::now() - t0;
  ASSERT_EQ(dead.size(), 1u) << Logs();
  EXPECT_EQ(dead[0].body, limited);
  EXPECT_EQ(HeaderString(dead[0], kReasonHeader), "retries_exhausted") << Logs();
  EXPECT_FALSE(HeaderString(dead[0], kErrorHeader).empty());
  EXPECT_EQ(HeaderInt(dead[0], kAttemptHeader), 3);
  EXPECT_EQ(sim_->OrderRequests(limited, "close"), 3);
  EXPECT_GE(dead_after, 2800ms) << "the retries came back before their backoff";
  EXPECT_LE(dead_after, 15s);
  EXPECT_EQ(db_->Status(limited), kUnpaid);

  // The 5xx storm outlives max_attempts without burning the order...
  EXPECT_TRUE(Eventually([&] { return sim_->OrderRequests(storm, "query") >= 5; }, 25s)) << Logs();
  EXPECT_EQ(Depth(dlq_).value_or(99), 0u) << "a system-wide failure was dead-lettered";
  EXPECT_EQ(db_->Status(storm), kUnpaid);
  // ...and the order finishes once WeChat Pay recovers.
  sim_->ClearFaults();
  EXPECT_TRUE(db_->WaitForStatus(storm, kCancelled, 30s)) << Logs();
  EXPECT_TRUE(Eventually([&] { return Depth(queue_).value_or(1) == 0; }, 10s));
  EXPECT_EQ(StopDaemon(0), 0) << Logs();
}

TEST_F(DaemonBatchIt, HeartbeatsFlowWhileEveryWorkerIsBlockedInASlowCall) {
  BatchConfig c;
  c.heartbeat = "2s";
  c.wechat_timeout = "15s";
  c.concurrency = 4;
  const std::string config = WriteConfig("heartbeat.yaml", c, RetryPolicy{1s, 2s, 2.0, 50}, 1s, 1s);
  std::vector<std::string> slow;
  for (int i = 0; i < 4; ++i) {
    slow.push_back(NewOrderNo("slow"));
    sim_->PutOrder(slow.back(), R"({"trade_state":"NOTPAY","amount":100})");
    db_->AddUnpaid(slow.back(), 100, NowEpoch() - 100);
    // 6.5 s > 3 heartbeat intervals: a silent connection would be closed by the broker.
    sim_->AddFault(R"({"fault":"delay","delay_ms":6500,"endpoint":"query","order":")" + slow.back() + R"("})");
  }
  ASSERT_EQ(Cli(config, {"setup-topology"}).exit_code, 0);
  ASSERT_NE(StartDaemon(0, config), nullptr);
  for (const std::string& no : slow) PublishRaw(no);
  ASSERT_TRUE(Eventually(
      [&] {
        return std::all_of(slow.begin(), slow.end(), [&](const std::string& no) {
          return sim_->OrderRequests(no, "query") >= 1;
        });
      },
      10s))
      << Logs();
  for (const std::string& no : slow) EXPECT_TRUE(db_->WaitForStatus(no, kCancelled, 30s)) << Logs();
  const std::string log = daemons_[0]->Output();
  EXPECT_EQ(Count(log, "reconnecting"), 0u) << log;
  EXPECT_EQ(Count(log, "rabbitmq: connected to"), 1u) << log;
  for (const std::string& no : slow) EXPECT_EQ(db_->Version(no), 1) << no;
  EXPECT_EQ(StopDaemon(0), 0) << log;
}

}  // namespace
}  // namespace wxpay::testing
