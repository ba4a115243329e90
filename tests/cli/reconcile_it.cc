// `reconcile ORDER_NO` end to end: the real binary against the simulator over
// HTTPS and a real shop database, for every row and fault of SPEC §3, on
// SQLite, MariaDB and PostgreSQL. Each case checks the exit code (SPEC §4),
// the decision line (SPEC §7), the shop's row afterwards and exactly how many
// WeChat Pay calls were made for the order.
//
// Cases of one test are independent orders and run as parallel commands.
#include <cjson/cJSON.h>

#include <chrono>

#include "cli/shop_fixture.h"

// Cases are written with designated initializers; every member left out keeps
// its default on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace wxpay::clitest {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// One order through one `reconcile` command.
struct Case {
  std::string tag;  // names the order (and the case in failure messages)
  // The shop's row; in_shop = false: no such order.
  bool in_shop = true;
  ShopState shop = ShopState::kUnpaid;
  std::string created_at = kLongAgo;
  // WeChat Pay's order ("" = it has none) and an optional fault for it.
  std::string sim_state;
  int sim_fen = 100;
  std::string fault;
  std::string fault_endpoint;
  // Config differences: policy lines, order_ttl.
  std::vector<std::string> policy;
  std::string order_ttl = "1s";
  // What must happen.
  int exit_code = 0;
  std::string decision;               // DecisionPrefix(...) without "order=NO "; "" = not checked
  std::vector<std::string> out_has;   // substrings of stdout
  ShopState after = ShopState::kUnpaid;
  int queries = 0;
  int closes = 0;
  int payments = 0;
};

// "shop=S wechat=W action=A result=R attempt=1 took=".
std::string Decision(const std::string& shop, const std::string& wechat, const std::string& action,
                     const std::string& result) {
  return DecisionPrefix("", shop, wechat, action, result).substr(std::string("order= ").size());
}

class CliReconcile : public ShopCommandTest {
 protected:
  // Sets up every case, runs all commands at once, checks every case.
  // Returns the results by case.
  std::vector<CliResult> RunCases(const std::vector<Case>& cases) {
    std::vector<std::vector<std::string>> commands;
    for (const Case& c : cases) {
      const std::string no = No(c.tag);
      if (c.in_shop) db_->InsertWithStatus(no, c.shop, 100, c.created_at);
      if (!c.sim_state.empty()) SimOrder(no, c.sim_state, c.sim_fen);
      if (!c.fault.empty()) Fault(c.fault, no, c.fault_endpoint);
      config_.policy = c.policy;
      config_.order_ttl = c.order_ttl;
      commands.push_back({"-c", WriteConfig(), "reconcile", no});
    }
    config_.policy.clear();
    config_.order_ttl = "1s";
    std::vector<CliResult> results = RunCliAll(commands);
    const SimControl::Stats stats = ctl_->GetStats();
    for (size_t i = 0; i < cases.size(); ++i) {
      const Case& c = cases[i];
      const CliResult& r = results[i];
      const std::string no = No(c.tag);
      SCOPED_TRACE("case " + c.tag + "\n" + r.Describe());
      EXPECT_EQ(r.exit_code, c.exit_code);
      if (!c.decision.empty()) {
        EXPECT_THAT(r.out, StartsWith("order=" + no + " " + c.decision));
      }
      for (const std::string& s : c.out_has) EXPECT_THAT(r.out, HasSubstr(s));
      if (c.in_shop) {
        EXPECT_EQ(db_->Status(no), db_->StoredStatus(c.after));
        EXPECT_EQ(db_->Payments(no).size(), static_cast<size_t>(c.payments));
      }
      EXPECT_EQ(stats.Of(no).query, c.queries) << "queries";
      EXPECT_EQ(stats.Of(no).close, c.closes) << "closes";
    }
    return results;
  }
};

TEST_P(CliReconcile, OrdersThatAreNotUnpaidOrUnknownNeedNoCall) {
  // Each is known to WeChat Pay as NOTPAY: any call would close it.
  RunCases({
      {.tag = "paid", .shop = ShopState::kPaid, .sim_state = "NOTPAY", .exit_code = 0,
       .decision = Decision("paid", "-", "none", "nothing_to_do"), .after = ShopState::kPaid},
      {.tag = "cancelled", .shop = ShopState::kCancelled, .sim_state = "NOTPAY", .exit_code = 0,
       .decision = Decision("cancelled", "-", "none", "nothing_to_do"), .after = ShopState::kCancelled},
      {.tag = "other", .shop = ShopState::kOther, .sim_state = "NOTPAY", .exit_code = 0,
       .decision = Decision("other", "-", "none", "nothing_to_do"), .after = ShopState::kOther},
      {.tag = "unknown", .in_shop = false, .sim_state = "NOTPAY", .exit_code = 65,
       .decision = Decision("-", "-", "dead_letter", "dead_letter"), .out_has = {" reason=unknown_order"}},
  });
}

TEST_P(CliReconcile, InvalidOrderNumberIsBadDataWithoutCall) {
  const int queries_before = ctl_->GetStats().total.query;
  const std::vector<std::string> bads = {"12345", "ORD'; DROP TABLE wx_orders;--", "ORD 000001",
                                         "ORD00000000000000000000000000000001"};
  const std::vector<CliResult> results = ReconcileAll(bads);
  for (size_t i = 0; i < bads.size(); ++i) {
    const std::string& bad = bads[i];
    const CliResult& r = results[i];
    EXPECT_EQ(r.exit_code, 65) << bad << "\n" << r.Describe();
    EXPECT_THAT(r.err, HasSubstr("not a valid order number")) << bad;
    EXPECT_EQ(r.out, "") << bad;
  }
  EXPECT_EQ(ctl_->GetStats().total.query, queries_before);
  EXPECT_EQ(db_->Query("SELECT COUNT(*) FROM wx_orders").size(), 1u) << "the orders table is still there";
}

TEST_P(CliReconcile, FinalAnswersChangeTheShop) {
  RunCases({
      {.tag = "success", .sim_state = "SUCCESS", .exit_code = 0,
       .decision = Decision("unpaid", "SUCCESS", "mark_paid", "paid"), .after = ShopState::kPaid,
       .queries = 1, .payments = 1},
      {.tag = "notpay", .sim_state = "NOTPAY", .exit_code = 0,
       .decision = Decision("unpaid", "NOTPAY", "close+requery+cancel", "cancelled"),
       .out_has = {" requery=CLOSED"}, .after = ShopState::kCancelled, .queries = 2, .closes = 1},
      // Paid while the close was on its way: never cancelled.
      {.tag = "payonclose", .sim_state = "NOTPAY", .fault = "pay_on_close", .fault_endpoint = "close",
       .exit_code = 0, .decision = Decision("unpaid", "NOTPAY", "close+requery+mark_paid", "paid"),
       .after = ShopState::kPaid, .queries = 2, .closes = 1, .payments = 1},
      {.tag = "closed", .sim_state = "CLOSED", .exit_code = 0,
       .decision = Decision("unpaid", "CLOSED", "cancel", "cancelled"), .after = ShopState::kCancelled,
       .queries = 1},
      {.tag = "revoked", .sim_state = "REVOKED", .exit_code = 0,
       .decision = Decision("unpaid", "REVOKED", "cancel", "cancelled"), .after = ShopState::kCancelled,
       .queries = 1},
      // policy.not_found_action defaults to cancel: the buyer never opened the payment.
      {.tag = "absent", .exit_code = 0,
       .decision = Decision("unpaid", "ORDER_NOT_EXIST", "cancel", "cancelled"),
       .after = ShopState::kCancelled, .queries = 1},
  });
  EXPECT_EQ(SimTradeState(No("notpay")), "CLOSED");
  // The payment row and the mapped optional columns.
  const std::string paid = No("success");
  auto payments = db_->Payments(paid);
  ASSERT_EQ(payments.size(), 1u);
  EXPECT_EQ(payments[0][1].value_or("NULL"), "SUCCESS");
  EXPECT_EQ(payments[0][2].value_or("NULL"), "100");
  EXPECT_NE(payments[0][0].value_or(""), "") << "transaction_id";
  EXPECT_NE(db_->Column(paid, "paid_time"), "NULL") << "paid_at is mapped";
  EXPECT_NE(db_->Column(paid, "updated"), "NULL") << "updated_at is mapped";
  EXPECT_NE(db_->Column(No("closed"), "updated"), "NULL") << "updated_at is mapped";
}

TEST_P(CliReconcile, PayerrorIsClosedAndCancelledWhenTheCloseIsRefused) {
  // The simulator refuses to close a PAYERROR order (403 TRADE_ERROR: a
  // payment-code order can only be reversed); SPEC §3: query again and cancel
  // if still PAYERROR.
  RunCases({
      {.tag = "payerror", .sim_state = "PAYERROR", .exit_code = 0,
       .decision = Decision("unpaid", "PAYERROR", "close+requery+cancel", "cancelled"),
       .after = ShopState::kCancelled, .queries = 2, .closes = 1},
  });
}

TEST_P(CliReconcile, SuccessThatDoesNotMatchTheShopChangesNothing) {
  const std::string dead = Decision("unpaid", "SUCCESS", "dead_letter", "dead_letter");
  RunCases({
      {.tag = "amount", .sim_state = "SUCCESS", .sim_fen = 101, .exit_code = 65, .decision = dead,
       .out_has = {" reason=amount_mismatch"}, .queries = 1},
      {.tag = "amountf", .sim_state = "SUCCESS", .fault = "wrong_amount", .fault_endpoint = "query",
       .exit_code = 65, .decision = dead, .out_has = {" reason=amount_mismatch"}, .queries = 1},
      {.tag = "mchid", .sim_state = "SUCCESS", .fault = "wrong_mchid", .fault_endpoint = "query",
       .exit_code = 65, .decision = dead, .out_has = {" reason=mchid_mismatch"}, .queries = 1},
      {.tag = "appid", .sim_state = "SUCCESS", .fault = "wrong_appid", .fault_endpoint = "query",
       .exit_code = 65, .decision = dead, .out_has = {" reason=appid_mismatch"}, .queries = 1},
  });
}

TEST_P(CliReconcile, AnswersThatAreNotFinalAreRetriedLater) {
  RunCases({
      // Within the payment window: not even a query.
      {.tag = "young", .created_at = ShanghaiDatetime(std::chrono::system_clock::now()),
       .sim_state = "NOTPAY", .order_ttl = "1h", .exit_code = 75,
       .decision = Decision("unpaid", "-", "wait", "reschedule")},
      // policy.userpaying_recheck (60s) for USERPAYING and unknown states.
      {.tag = "userpaying", .sim_state = "USERPAYING", .exit_code = 75,
       .decision = Decision("unpaid", "USERPAYING", "reschedule", "reschedule"),
       .out_has = {" delay=60s next_attempt=2"}, .queries = 1},
      {.tag = "accept", .sim_state = "ACCEPT", .exit_code = 75,
       .decision = Decision("unpaid", "ACCEPT", "reschedule", "reschedule"),
       .out_has = {" delay=60s next_attempt=2", " unknown_trade_state=true"}, .queries = 1},
  });
  EXPECT_EQ(SimTradeState(No("young")), "NOTPAY");
}

TEST_P(CliReconcile, RefundAndNotFoundFollowThePolicy) {
  RunCases({
      {.tag = "refund", .sim_state = "REFUND", .exit_code = 65,
       .decision = Decision("unpaid", "REFUND", "dead_letter", "dead_letter"),
       .out_has = {" reason=refunded"}, .queries = 1},
      {.tag = "refundpaid", .sim_state = "REFUND", .policy = {"refund_action: mark_paid"}, .exit_code = 0,
       .decision = Decision("unpaid", "REFUND", "mark_paid", "paid"), .after = ShopState::kPaid,
       .queries = 1, .payments = 1},
      {.tag = "absentpark", .policy = {"not_found_action: park"}, .exit_code = 65,
       .decision = Decision("unpaid", "ORDER_NOT_EXIST", "dead_letter", "dead_letter"),
       .out_has = {" reason=not_found"}, .queries = 1},
  });
}

TEST_P(CliReconcile, TransientFailuresAreRetriedLaterAndChangeNothing) {
  std::vector<Case> cases;
  for (const std::string fault : {"http500", "http429", "system_error", "tamper_signature", "stale_timestamp",
                                  "unknown_serial", "signtest", "drop"}) {
    // SUCCESS is what a wrongly trusted answer would say.
    cases.push_back({.tag = fault, .sim_state = "SUCCESS", .fault = fault, .fault_endpoint = "query",
                     .exit_code = 75, .out_has = {" action=reschedule result=reschedule attempt=1 "},
                     .queries = 1});
  }
  for (const CliResult& r : RunCases(cases)) EXPECT_THAT(r.err, HasSubstr("retry in")) << r.Describe();
}

TEST_P(CliReconcile, CloseThatFailsIsRetriedLaterNeverCancelled) {
  std::vector<Case> cases;
  for (const std::string fault : {"http500", "drop", "close_user_paying", "close_frequency_limited"}) {
    // One close each: a signed request is never replayed.
    cases.push_back({.tag = "c" + fault, .sim_state = "NOTPAY", .fault = fault, .fault_endpoint = "close",
                     .exit_code = 75, .decision = Decision("unpaid", "NOTPAY", "close+reschedule", "reschedule"),
                     .queries = 1, .closes = 1});
  }
  RunCases(cases);
}

TEST_P(CliReconcile, DryRunClosesNothingAndWritesNothing) {
  const std::string notpay = No("drynotpay");
  const std::string success = No("drysuccess");
  db_->InsertUnpaid(notpay, 100, kLongAgo);
  db_->InsertUnpaid(success, 100, kLongAgo);
  SimOrder(notpay, "NOTPAY");
  SimOrder(success, "SUCCESS");
  const std::string config = WriteConfig();
  config_.policy = {"dry_run: true"};
  const std::string dry_config = WriteConfig();
  const std::vector<CliResult> r = RunCliAll({{"-c", config, "reconcile", notpay, "--dry-run"},
                                              {"-c", config, "reconcile", "--dry-run", success},
                                              // policy.dry_run does the same for one-shot commands.
                                              {"-c", dry_config, "reconcile", notpay}});
  for (const CliResult& n : {r[0], r[2]}) {
    EXPECT_EQ(n.exit_code, 0) << n.Describe();
    EXPECT_THAT(n.out, StartsWith(DecisionPrefix(notpay, "unpaid", "NOTPAY", "close+cancel", "cancelled")));
    EXPECT_THAT(n.out, HasSubstr(" dry_run=true"));
  }
  EXPECT_EQ(r[1].exit_code, 0) << r[1].Describe();
  EXPECT_THAT(r[1].out, StartsWith(DecisionPrefix(success, "unpaid", "SUCCESS", "mark_paid", "paid")));
  EXPECT_THAT(r[1].out, HasSubstr(" dry_run=true"));

  EXPECT_EQ(db_->Status(notpay), db_->StoredStatus(ShopState::kUnpaid));
  EXPECT_EQ(db_->Status(success), db_->StoredStatus(ShopState::kUnpaid));
  EXPECT_TRUE(db_->Payments(success).empty());
  ExpectCalls(notpay, 2, 0);
  ExpectCalls(success, 1, 0);
  EXPECT_EQ(SimTradeState(notpay), "NOTPAY");
}

TEST_P(CliReconcile, JsonPrintsOneObject) {
  const std::string no = No("json");
  db_->InsertUnpaid(no, 100, kLongAgo);
  SimOrder(no, "NOTPAY");
  CliResult r = Reconcile(no, {"--json"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  ASSERT_EQ(r.OutLines().size(), 1u) << r.Describe();
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> json(cJSON_Parse(r.out.c_str()), cJSON_Delete);
  ASSERT_TRUE(cJSON_IsObject(json.get())) << r.out;
  auto str = [&](const char* key) -> std::string {
    const cJSON* v = cJSON_GetObjectItemCaseSensitive(json.get(), key);
    return cJSON_IsString(v) ? v->valuestring : "<missing>";
  };
  EXPECT_EQ(str("order_no"), no);
  EXPECT_EQ(str("outcome"), "cancelled");
  EXPECT_EQ(str("action"), "close+requery+cancel");
  EXPECT_EQ(str("shop_before"), "unpaid");
  EXPECT_EQ(str("shop_after"), "cancelled");
  const cJSON* calls = cJSON_GetObjectItemCaseSensitive(json.get(), "wechat_call_count");
  EXPECT_TRUE(cJSON_IsNumber(calls) && calls->valueint == 3) << r.out;
  const cJSON* states = cJSON_GetObjectItemCaseSensitive(json.get(), "wechat_trade_states");
  ASSERT_TRUE(cJSON_IsArray(states)) << r.out;
  ASSERT_EQ(cJSON_GetArraySize(states), 2);
  EXPECT_STREQ(cJSON_GetArrayItem(states, 0)->valuestring, "NOTPAY");
  EXPECT_STREQ(cJSON_GetArrayItem(states, 1)->valuestring, "CLOSED");
  EXPECT_EQ(db_->Status(no), db_->StoredStatus(ShopState::kCancelled));
  ExpectCalls(no, 2, 1);
}

TEST_P(CliReconcile, YuanAmountsAreComparedExactly) {
  TestSchema schema = db_->schema();
  schema.amount_unit = OrdersMapping::AmountUnit::kYuan;
  db_->Reset(schema);
  config_.database_yaml = db_->Yaml(dir_.path());
  const std::string exact = No("yuan"), off = No("yuanoff");
  db_->InsertUnpaid(exact, 1230, kLongAgo);  // 12.30
  db_->InsertUnpaid(off, 1231, kLongAgo);    // 12.31
  SimOrder(exact, "SUCCESS", 1230);
  SimOrder(off, "SUCCESS", 1230);
  const std::vector<CliResult> results = ReconcileAll({exact, off});
  EXPECT_EQ(results[0].exit_code, 0) << results[0].Describe();
  EXPECT_EQ(db_->Status(exact), db_->StoredStatus(ShopState::kPaid));
  EXPECT_EQ(results[1].exit_code, 65) << results[1].Describe();
  EXPECT_THAT(results[1].out, HasSubstr(" reason=amount_mismatch"));
  EXPECT_EQ(db_->Status(off), db_->StoredStatus(ShopState::kUnpaid));
}

TEST_P(CliReconcile, UnreachableDatabaseIsUnavailableWithoutCall) {
  const std::string no = No("dbdown");
  SimOrder(no, "NOTPAY");
  config_.database_yaml = db_->Yaml(dir_.path(), "2s", testing::ClosedLoopbackPort());
  CliResult r = Reconcile(no);
  EXPECT_EQ(r.exit_code, 69) << r.Describe();
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err, "");
  ExpectCalls(no, 0, 0);
}

TEST_P(CliReconcile, DatabaseTimeoutIsUnavailableAndChangesNothing) {
  const std::string no = No("dblock");
  db_->InsertUnpaid(no, 100, kLongAgo);
  SimOrder(no, "CLOSED");
  config_.database_yaml = db_->Yaml(dir_.path(), "1s");
  std::unique_ptr<TestSession> holder = db_->Connect();
  ASSERT_NE(holder, nullptr);
  db_->LockOrder(*holder, no);
  CliResult r = Reconcile(no);
  ASSERT_TRUE(holder->Exec("ROLLBACK").ok());
  EXPECT_EQ(r.exit_code, 69) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("database.timeout")) << r.Describe();
  EXPECT_EQ(db_->Status(no), db_->StoredStatus(ShopState::kUnpaid));
  // SQLite's lock stops the read; the servers' row lock stops the cancel
  // after the query.
  EXPECT_LE(Calls(no).query, 1);
  EXPECT_EQ(Calls(no).close, 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, CliReconcile,
                         ::testing::Values(Backend::kSqlite, Backend::kMariadb, Backend::kPostgresql),
                         BackendParamName);

}  // namespace
}  // namespace wxpay::clitest
