// `sweep`: one pass of the safety net over the shop's unpaid orders, end to
// end against the simulator and each database: oldest first, only orders
// older than order_ttl + grace, parked orders skipped, a pass bounded by
// sweeper.max_pass continued by the next one, exit codes of SPEC §4, one
// pass at a time per shop on the database servers (the sweep lock).
#include <chrono>

#include "cli/shop_fixture.h"
#include "config/loader.h"
#include "store/sweep_lock.h"

namespace wxpay::clitest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class CliSweep : public ShopCommandTest {
 protected:
  // The decision lines of a sweep's stdout, without the summary line.
  static std::vector<std::string> DecidedOrders(const CliResult& r) {
    std::vector<std::string> orders;
    for (const std::string& line : r.OutLines()) {
      if (line.rfind("order=", 0) != 0) continue;
      orders.push_back(line.substr(6, line.find(' ') - 6));
    }
    return orders;
  }
  static std::string Summary(const CliResult& r) {
    auto lines = r.OutLines();
    return lines.empty() ? "" : lines.back();
  }
};

TEST_P(CliSweep, ReconcilesOrdersPastTheirWindowOldestFirst) {
  const std::string oldest = No("oldest"), middle = No("middle"), newest = No("newest");
  const std::string young = No("young"), paid = No("paid");
  db_->InsertUnpaid(newest, 100, "2024-01-01 11:00:00");
  db_->InsertUnpaid(oldest, 100, "2024-01-01 09:00:00");
  db_->InsertUnpaid(middle, 100, "2024-01-01 10:00:00");
  // Within order_ttl + grace (1s + 10m): not the sweeper's yet.
  db_->InsertUnpaid(young, 100, ShanghaiDatetime(std::chrono::system_clock::now() - std::chrono::minutes(5)));
  db_->InsertWithStatus(paid, ShopState::kPaid, 100, "2024-01-01 08:00:00");
  SimOrder(oldest, "SUCCESS");
  SimOrder(middle, "CLOSED");
  SimOrder(newest, "NOTPAY");
  SimOrder(young, "NOTPAY");
  SimOrder(paid, "NOTPAY");

  CliResult r = Sweep();
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(DecidedOrders(r), (std::vector<std::string>{oldest, middle, newest})) << r.Describe();
  EXPECT_EQ(Summary(r),
            "sweep: 3 orders: 1 paid, 2 cancelled, 0 nothing to do, 0 to retry later, 0 parked; "
            "0 parked orders skipped");
  EXPECT_EQ(db_->Status(oldest), db_->StoredStatus(ShopState::kPaid));
  EXPECT_EQ(db_->Status(middle), db_->StoredStatus(ShopState::kCancelled));
  EXPECT_EQ(db_->Status(newest), db_->StoredStatus(ShopState::kCancelled));
  EXPECT_EQ(db_->Status(young), db_->StoredStatus(ShopState::kUnpaid));
  EXPECT_EQ(db_->Status(paid), db_->StoredStatus(ShopState::kPaid));
  ExpectCalls(oldest, 1, 0);
  ExpectCalls(middle, 1, 0);
  ExpectCalls(newest, 2, 1);
  ExpectCalls(young, 0, 0);
  ExpectCalls(paid, 0, 0);

  // Nothing left to do: exit 0.
  CliResult again = Sweep();
  EXPECT_EQ(again.exit_code, 0) << again.Describe();
  EXPECT_THAT(Summary(again), StartsWith("sweep: 0 orders: "));
}

TEST_P(CliSweep, SkipsParkedOrders) {
  const std::string mismatch = No("mismatch"), refund = No("refund"), closed = No("closed");
  db_->InsertUnpaid(mismatch, 100, "2024-01-01 09:00:00");
  db_->InsertUnpaid(refund, 100, "2024-01-01 10:00:00");
  db_->InsertUnpaid(closed, 100, "2024-01-01 11:00:00");
  SimOrder(mismatch, "SUCCESS", 999);
  SimOrder(refund, "REFUND");
  SimOrder(closed, "CLOSED");

  // A one-shot reconcile that dead-letters parks the order.
  CliResult parked = Reconcile(mismatch);
  EXPECT_EQ(parked.exit_code, 65) << parked.Describe();

  // The sweep skips it, and parks what it dead-letters itself: exit 65.
  CliResult first = Sweep();
  EXPECT_EQ(first.exit_code, 65) << first.Describe();
  EXPECT_EQ(DecidedOrders(first), (std::vector<std::string>{refund, closed})) << first.Describe();
  EXPECT_EQ(Summary(first),
            "sweep: 2 orders: 0 paid, 1 cancelled, 0 nothing to do, 0 to retry later, 1 parked; "
            "1 parked orders skipped");

  CliResult second = Sweep();
  EXPECT_EQ(second.exit_code, 0) << second.Describe();
  EXPECT_TRUE(DecidedOrders(second).empty()) << second.Describe();
  EXPECT_EQ(Summary(second),
            "sweep: 0 orders: 0 paid, 0 cancelled, 0 nothing to do, 0 to retry later, 0 parked; "
            "2 parked orders skipped");
  ExpectCalls(mismatch, 1, 0);
  ExpectCalls(refund, 1, 0);
  EXPECT_EQ(db_->Status(mismatch), db_->StoredStatus(ShopState::kUnpaid));
  EXPECT_EQ(db_->Status(refund), db_->StoredStatus(ShopState::kUnpaid));
}

TEST_P(CliSweep, PassStoppedByMaxPassIsContinuedByTheNext) {
  const std::string first = No("first"), second = No("second"), third = No("third");
  // The same created_at: the cursor must tell them apart by order number.
  db_->InsertUnpaid(first, 100, "2024-01-01 09:00:00");
  db_->InsertUnpaid(second, 100, "2024-01-01 09:00:00");
  db_->InsertUnpaid(third, 100, "2024-01-01 11:00:00");
  SimOrder(first, "USERPAYING");
  SimOrder(second, "USERPAYING");
  SimOrder(third, "CLOSED");
  // The first order's answer outlasts the whole pass.
  Fault("delay", first, "query", R"("delay_ms":2000)");

  config_.sweeper = {"max_pass: 1500ms"};
  CliResult stopped = Sweep();
  EXPECT_EQ(stopped.exit_code, 75) << stopped.Describe();
  EXPECT_EQ(DecidedOrders(stopped), (std::vector<std::string>{first})) << stopped.Describe();
  EXPECT_THAT(Summary(stopped), HasSubstr("; stopped after sweeper.max_pass, the next pass continues"));
  ExpectCalls(second, 0, 0);

  config_.sweeper = {"max_pass: 60s"};
  CliResult continued = Sweep();
  EXPECT_EQ(continued.exit_code, 75) << continued.Describe();
  EXPECT_EQ(DecidedOrders(continued), (std::vector<std::string>{second, third})) << continued.Describe();
  EXPECT_THAT(Summary(continued), Not(HasSubstr("stopped")));
  ExpectCalls(first, 1, 0);
  EXPECT_EQ(db_->Status(third), db_->StoredStatus(ShopState::kCancelled));

  // That pass reached the end: the next one starts from the beginning.
  CliResult restarted = Sweep();
  EXPECT_EQ(restarted.exit_code, 75) << restarted.Describe();
  EXPECT_EQ(DecidedOrders(restarted), (std::vector<std::string>{first, second})) << restarted.Describe();
  ExpectCalls(first, 2, 0);
  ExpectCalls(second, 2, 0);
}

TEST_P(CliSweep, DryRunChangesNothing) {
  const std::string notpay = No("notpay"), success = No("success"), refund = No("refund");
  db_->InsertUnpaid(notpay, 100, "2024-01-01 09:00:00");
  db_->InsertUnpaid(success, 100, "2024-01-01 10:00:00");
  db_->InsertUnpaid(refund, 100, "2024-01-01 11:00:00");
  SimOrder(notpay, "NOTPAY");
  SimOrder(success, "SUCCESS");
  SimOrder(refund, "REFUND");

  CliResult dry = Sweep({"--dry-run"});
  EXPECT_EQ(dry.exit_code, 65) << dry.Describe();  // the refund would be dead-lettered
  EXPECT_EQ(DecidedOrders(dry), (std::vector<std::string>{notpay, success, refund})) << dry.Describe();
  EXPECT_THAT(Summary(dry), HasSubstr(" (dry run: nothing changed)"));
  for (const std::string& line : dry.OutLines()) {
    if (line.rfind("order=", 0) == 0) {
      EXPECT_THAT(line, HasSubstr(" dry_run=true")) << line;
    }
  }
  for (const std::string& no : {notpay, success, refund}) {
    EXPECT_EQ(db_->Status(no), db_->StoredStatus(ShopState::kUnpaid)) << no;
    ExpectCalls(no, 1, 0);
  }
  EXPECT_TRUE(db_->Payments(success).empty());
  EXPECT_EQ(SimTradeState(notpay), "NOTPAY");

  // Neither the cursor moved nor the refund was parked: a real pass sees all three.
  CliResult real = Sweep();
  EXPECT_EQ(real.exit_code, 65) << real.Describe();
  EXPECT_EQ(DecidedOrders(real), (std::vector<std::string>{notpay, success, refund})) << real.Describe();
  EXPECT_EQ(db_->Status(notpay), db_->StoredStatus(ShopState::kCancelled));
  EXPECT_EQ(db_->Status(success), db_->StoredStatus(ShopState::kPaid));
  EXPECT_EQ(db_->Status(refund), db_->StoredStatus(ShopState::kUnpaid));
}

// SPEC §3: an unbroken run of 404s means a mapping or merchant error; after
// policy.not_found_breaker of them, further 404s are parked, not cancelled.
TEST_P(CliSweep, RunOfNotFoundOrdersOpensTheBreakerAndParksTheRest) {
  config_.policy = {"not_found_breaker: 3"};
  std::vector<std::string> nos;
  for (int i = 1; i <= 5; ++i) {
    nos.push_back(No("absent" + std::to_string(i)));
    db_->InsertUnpaid(nos.back(), 100, "2024-01-01 0" + std::to_string(i) + ":00:00");
  }
  CliResult r = Sweep();
  EXPECT_EQ(r.exit_code, 65) << r.Describe();
  EXPECT_EQ(DecidedOrders(r), nos) << r.Describe();
  EXPECT_EQ(Summary(r),
            "sweep: 5 orders: 0 paid, 3 cancelled, 0 nothing to do, 0 to retry later, 2 parked; "
            "0 parked orders skipped");
  for (int i = 0; i < 5; ++i) {
    const bool parked = i >= 3;
    EXPECT_EQ(db_->Status(nos[i]), db_->StoredStatus(parked ? ShopState::kUnpaid : ShopState::kCancelled))
        << nos[i];
    ExpectCalls(nos[i], 1, 0);
  }
  const std::vector<std::string> lines = r.OutLines();
  ASSERT_EQ(lines.size(), 6u) << r.Describe();
  EXPECT_THAT(lines[3], HasSubstr(" reason=not_found"));
  EXPECT_THAT(lines[3], HasSubstr(" not_found_breaker=open"));
  EXPECT_THAT(lines[2], Not(HasSubstr("not_found_breaker")));
}

TEST_P(CliSweep, UnreachableDatabaseIsUnavailable) {
  config_.database_yaml = db_->Yaml(dir_.path(), "2s", testing::ClosedLoopbackPort());
  const int queries_before = ctl_->GetStats().total.query;
  CliResult r = Sweep();
  EXPECT_EQ(r.exit_code, 69) << r.Describe();
  EXPECT_EQ(ctl_->GetStats().total.query, queries_before);
}

INSTANTIATE_TEST_SUITE_P(Backends, CliSweep,
                         ::testing::Values(Backend::kSqlite, Backend::kMariadb, Backend::kPostgresql),
                         BackendParamName);

// The servers' sweep lock, held by another session the way a daemon's
// sweeper holds it: GET_LOCK with the product's lock name, or the advisory
// lock of its key (store/sweep_lock.h), for the config file the binary reads.
class CliSweepLock : public CliSweep {
 protected:
  struct LockStatements {
    std::string take, release;  // each answers "1" when done
  };
  LockStatements SweepLockStatements() {
    auto loaded = LoadConfigFile(WriteConfig(), ProcessEnv());
    if (!loaded.ok()) {
      ADD_FAILURE() << "the test's config does not load: " << ::testing::PrintToString(loaded.error());
      return {};
    }
    const std::string name = SweepLockName(loaded->config.database);
    if (GetParam() == Backend::kMariadb) {
      return {"SELECT GET_LOCK('" + name + "', 0)", "SELECT RELEASE_LOCK('" + name + "')"};
    }
    const std::string key = std::to_string(SweepLockKey(name));
    return {"SELECT 1 FROM pg_advisory_lock(" + key + ")", "SELECT pg_advisory_unlock(" + key + ")::int"};
  }
  static std::string Answer(TestSession& session, const std::string& sql) {
    auto rows = session.Query(sql);
    if (!rows.ok()) return rows.error().message;
    if (rows->size() != 1 || rows->front().empty() || !rows->front()[0]) return "<no single value>";
    return *rows->front()[0];
  }
};

TEST_P(CliSweepLock, WaitsWhileAnotherSessionSweepsThenSweepsOnceItIsReleased) {
  const std::string notpay = No("notpay"), success = No("success");
  db_->InsertUnpaid(notpay, 100, "2024-01-01 09:00:00");
  db_->InsertUnpaid(success, 100, "2024-01-01 10:00:00");
  SimOrder(notpay, "NOTPAY");
  SimOrder(success, "SUCCESS");

  const LockStatements lock = SweepLockStatements();
  const std::unique_ptr<TestSession> other = db_->Connect();
  ASSERT_NE(other, nullptr);
  ASSERT_EQ(Answer(*other, lock.take), "1") << lock.take;

  const SimControl::Calls calls_before = ctl_->GetStats().total;
  CliResult held = Sweep();
  EXPECT_EQ(held.exit_code, 75) << held.Describe();
  EXPECT_THAT(held.err, HasSubstr("another sweeper")) << held.Describe();
  EXPECT_TRUE(DecidedOrders(held).empty()) << held.Describe();
  const SimControl::Calls calls_after = ctl_->GetStats().total;
  EXPECT_EQ(calls_after.query, calls_before.query) << "WeChat Pay queries while the lock was held elsewhere";
  EXPECT_EQ(calls_after.close, calls_before.close) << "WeChat Pay closes while the lock was held elsewhere";
  for (const std::string& no : {notpay, success}) {
    EXPECT_EQ(db_->Status(no), db_->StoredStatus(ShopState::kUnpaid)) << no;
  }
  EXPECT_TRUE(db_->Payments(success).empty());

  ASSERT_EQ(Answer(*other, lock.release), "1") << lock.release;
  CliResult released = Sweep();
  EXPECT_EQ(released.exit_code, 0) << released.Describe();
  EXPECT_EQ(DecidedOrders(released), (std::vector<std::string>{notpay, success})) << released.Describe();
  EXPECT_EQ(db_->Status(notpay), db_->StoredStatus(ShopState::kCancelled));
  EXPECT_EQ(db_->Status(success), db_->StoredStatus(ShopState::kPaid));
  ExpectCalls(notpay, 2, 1);
  ExpectCalls(success, 1, 0);
}

// SQLite has no sweep lock (store/sweep_lock.h).
INSTANTIATE_TEST_SUITE_P(Servers, CliSweepLock,
                         ::testing::Values(Backend::kMariadb, Backend::kPostgresql), BackendParamName);

}  // namespace
}  // namespace wxpay::clitest
