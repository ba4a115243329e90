#include "store/conformance.h"

#include <date/date.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <ostream>
#include <thread>

namespace wxpay {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// ------------------------------------------------------------ helpers

std::string StoreBackendName(const ::testing::TestParamInfo<StoreBackend>& info) {
  return info.param.name;
}

void PrintTo(const StoreBackend& backend, std::ostream* os) { *os << backend.name; }

namespace {

bool IsDatetime(const TestSchema& s) {
  return s.time_format == OrdersMapping::TimeFormat::kDatetime;
}

std::string TimeType(Dialect d, const TestSchema& s) {
  if (!IsDatetime(s)) return "BIGINT";
  switch (d) {
    case Dialect::kSqlite: return "TEXT";
    case Dialect::kMysql: return "DATETIME(3)";
    case Dialect::kPostgres: return "TIMESTAMP(3)";
  }
  return "TEXT";
}

std::string AmountType(const TestSchema& s) {
  if (!s.amount_type.empty()) return s.amount_type;
  return s.amount_unit == OrdersMapping::AmountUnit::kYuan ? "DECIMAL(12,2)" : "BIGINT";
}

std::string Literal(const std::string& v, bool quoted) {
  if (v.empty() || v == "NULL") return "NULL";
  return quoted ? "'" + v + "'" : v;
}

TimePoint Utc(int y, unsigned mo, unsigned d, int h, int mi, int s, int ms = 0) {
  const date::sys_days day = date::year{y} / date::month{mo} / date::day{d};
  return TimePoint{day.time_since_epoch() + hours{h} + minutes{mi} + seconds{s} + milliseconds{ms}};
}

}  // namespace

Trade SuccessTrade(int64_t fen, const std::string& transaction_id) {
  Trade t;
  t.trade_state = "SUCCESS";
  t.state = TradeState::kSuccess;
  t.amount_total = fen;
  t.mchid = "1900000001";
  t.transaction_id = transaction_id;
  t.success_time = "2024-03-01T10:34:56+08:00";  // 02:34:56Z
  t.raw_json = R"({"trade_state":"SUCCESS","transaction_id":")" + transaction_id + R"("})";
  return t;
}

ShopOrder UnpaidOrder(const std::string& order_no, int64_t fen) {
  ShopOrder o;
  o.order_no = order_no;
  o.out_trade_no = order_no;
  o.state = ShopState::kUnpaid;
  o.amount_fen = fen;
  return o;
}

std::vector<std::string> CreateSchemaSql(Dialect d, const TestSchema& s) {
  const std::string time = TimeType(d, s);
  std::vector<std::string> sql = {"DROP TABLE IF EXISTS wx_payments", "DROP TABLE IF EXISTS wx_orders"};
  sql.push_back("CREATE TABLE wx_orders ("
                "number " + std::string(s.order_no_integer ? "BIGINT" : "VARCHAR(32)") +
                " NOT NULL PRIMARY KEY, "
                "status " + std::string(s.status_integer ? "INTEGER" : "VARCHAR(16)") + " NOT NULL, "
                "amount " + AmountType(s) + ", "
                "order_time " + time + ", "
                "trade_no VARCHAR(32), "
                "sub_mch VARCHAR(32), "
                "pay_method VARCHAR(16), "
                "paid_time " + time + ", "
                "updated " + time + ", "
                "ver INTEGER NOT NULL DEFAULT 0)");
  if (s.payments) {
    sql.push_back("CREATE TABLE wx_payments ("
                  "order_no VARCHAR(32) NOT NULL, "
                  "transaction_id VARCHAR(64) NOT NULL, "
                  "trade_state VARCHAR(32) NOT NULL, "
                  "amount " + std::string(s.amount_unit == OrdersMapping::AmountUnit::kYuan
                                              ? "DECIMAL(12,2)"
                                              : "BIGINT") + ", "
                  "success_time " + time + ", "
                  "content TEXT)");
  }
  return sql;
}

std::string InsertOrderSql(Dialect, const TestSchema& s, const TestOrder& o) {
  return "INSERT INTO wx_orders (number, status, amount, order_time, trade_no, sub_mch, pay_method) "
         "VALUES (" +
         Literal(o.order_no, !s.order_no_integer) + ", " + Literal(o.status, !s.status_integer) + ", " +
         Literal(o.amount, false) + ", " + Literal(o.created_at, IsDatetime(s)) + ", " +
         Literal(o.out_trade_no, true) + ", " + Literal(o.sub_mchid, true) + ", " +
         Literal(o.pay_method, true) + ")";
}

DatabaseConfig MappedConfig(DatabaseConfig db, const TestSchema& s) {
  db.timeout = seconds(2);
  OrdersMapping& o = db.orders;
  o = OrdersMapping{};
  o.table = "wx_orders";
  o.order_no = "number";
  o.status = "status";
  o.amount = "amount";
  o.amount_unit = s.amount_unit;
  o.created_at = "order_time";
  o.created_at_format = s.time_format;
  o.timezone = s.timezone;
  o.status_values = s.status_integer ? StatusValues{"1", "2", "5"}
                                     : StatusValues{"unpaid", "paid", "cancelled"};
  if (s.out_trade_no_column) o.out_trade_no = "trade_no";
  if (s.sub_mchid_column) o.sub_mchid = "sub_mch";
  if (s.filter) o.filter = OrderFilter{"pay_method", {"wxpay"}};
  if (s.paid_at) o.paid_at = "paid_time";
  if (s.updated_at) o.updated_at = "updated";
  if (s.version) o.version = "ver";
  db.payments = PaymentsMapping{};
  if (s.payments) db.payments.table = "wx_payments";
  return db;
}

std::string StoredStatus(const TestSchema& s, ShopState state) {
  switch (state) {
    case ShopState::kUnpaid: return s.status_integer ? "1" : "unpaid";
    case ShopState::kPaid: return s.status_integer ? "2" : "paid";
    case ShopState::kCancelled: return s.status_integer ? "5" : "cancelled";
    case ShopState::kOther: return s.status_integer ? "9" : "refunding";
  }
  return "";
}

// ------------------------------------------------------------ fixture

void StoreConformance::SetUp() {
  fixture_ = GetParam().make();
  ASSERT_NE(fixture_, nullptr);
  Status up = fixture_->SetUp();
  ASSERT_TRUE(up.ok()) << up.message();
  auto session = fixture_->Connect();
  ASSERT_TRUE(session.ok()) << session.error().message;
  session_ = std::move(*session);
  clock_.Set(Utc(2024, 3, 1, 3, 0, 0));
}

void StoreConformance::TearDown() {
  store_.reset();
  session_.reset();
  if (fixture_) fixture_->TearDown();
}

void StoreConformance::CreateTables(const TestSchema& schema) {
  schema_ = schema;
  store_.reset();
  for (const auto& sql : CreateSchemaSql(fixture_->dialect(), schema)) Exec(sql);
  config_ = MappedConfig(fixture_->BaseConfig(), schema);
}

SqlShopStore* StoreConformance::OpenStore(int pool_size) {
  store_.reset();
  auto store = fixture_->Open(config_, pool_size, clock_, log_);
  if (!store) {
    ADD_FAILURE() << "open: " << store.error().message;
    return nullptr;
  }
  store_ = std::move(*store);
  return store_.get();
}

SqlShopStore* StoreConformance::Prepare(const TestSchema& schema, int pool_size) {
  CreateTables(schema);
  return OpenStore(pool_size);
}

int64_t StoreConformance::Exec(const std::string& sql) {
  if (!session_) {
    ADD_FAILURE() << "no session";
    return -1;
  }
  auto n = session_->Exec(sql);
  if (!n) {
    ADD_FAILURE() << sql << ": " << n.error().message;
    return -1;
  }
  return *n;
}

std::vector<SqlRow> StoreConformance::Query(const std::string& sql) {
  if (!session_) {
    ADD_FAILURE() << "no session";
    return {};
  }
  auto rows = session_->Query(sql);
  if (!rows) {
    ADD_FAILURE() << sql << ": " << rows.error().message;
    return {};
  }
  return std::move(*rows);
}

void StoreConformance::Insert(const TestOrder& order) {
  Exec(InsertOrderSql(fixture_->dialect(), schema_, order));
}

namespace {

// The single value of a one-row, one-column result ("<none>" if no row).
std::string First(const std::vector<SqlRow>& rows) {
  if (rows.empty() || rows.front().empty()) return "<none>";
  return rows.front().front().value_or("NULL");
}

}  // namespace

// ------------------------------------------------------------ load

TEST_P(StoreConformance, LoadsUnpaidOrderWithDatetimeInShanghai) {
  SqlShopStore* store = Prepare(TestSchema{});
  ASSERT_NE(store, nullptr);
  Insert({"ORD000001", "1", "1230", "2024-03-01 08:00:00"});
  auto loaded = store->LoadOrder("ORD000001");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  const ShopOrder& o = **loaded;
  EXPECT_EQ(o.order_no, "ORD000001");
  EXPECT_EQ(o.out_trade_no, "ORD000001");
  EXPECT_EQ(o.state, ShopState::kUnpaid);
  EXPECT_EQ(o.raw_status, "1");
  EXPECT_EQ(o.amount_fen, 1230);
  EXPECT_EQ(o.created_at, Utc(2024, 3, 1, 0, 0, 0));
  EXPECT_EQ(o.sub_mchid, "");
}

TEST_P(StoreConformance, SameDatetimeInUtcIsEightHoursLater) {
  TestSchema schema;
  schema.timezone = "UTC";
  SqlShopStore* store = Prepare(schema);
  ASSERT_NE(store, nullptr);
  Insert({"ORD000001", "1", "1230", "2024-03-01 08:00:00.250"});
  auto loaded = store->LoadOrder("ORD000001");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->created_at, Utc(2024, 3, 1, 8, 0, 0, 250));
}

TEST_P(StoreConformance, MissingOrderIsNotFound) {
  SqlShopStore* store = Prepare(TestSchema{});
  ASSERT_NE(store, nullptr);
  Insert({"ORD000001", "1", "1230", "2024-03-01 08:00:00"});
  auto loaded = store->LoadOrder("ORD000002");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_FALSE(loaded->has_value());
}

TEST_P(StoreConformance, FilterExcludesOtherPaymentMethods) {
  TestSchema schema;
  schema.filter = true;
  SqlShopStore* store = Prepare(schema);
  ASSERT_NE(store, nullptr);
  TestOrder alipay{"ORD000001", "1", "1230", "2024-03-01 08:00:00"};
  alipay.pay_method = "alipay";
  Insert(alipay);
  Insert({"ORD000002", "1", "1230", "2024-03-01 08:00:00"});
  auto excluded = store->LoadOrder("ORD000001");
  ASSERT_TRUE(excluded.ok()) << excluded.error().message;
  EXPECT_FALSE(excluded->has_value());
  auto included = store->LoadOrder("ORD000002");
  ASSERT_TRUE(included.ok()) << included.error().message;
  EXPECT_TRUE(included->has_value());

  // Nor can it be changed through the store.
  auto cancelled = store->MarkCancelled(UnpaidOrder("ORD000001", 1230));
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  EXPECT_FALSE(cancelled->applied);
  EXPECT_EQ(First(Query("SELECT status FROM wx_orders WHERE number = 'ORD000001'")), "1");
}

TEST_P(StoreConformance, YuanDecimalIsConvertedToFenExactly) {
  TestSchema schema;
  schema.amount_unit = OrdersMapping::AmountUnit::kYuan;
  SqlShopStore* store = Prepare(schema);
  ASSERT_NE(store, nullptr);
  Insert({"ORD000001", "1", "12.30", "2024-03-01 08:00:00"});
  Insert({"ORD000002", "1", "0.07", "2024-03-01 08:00:00"});
  Insert({"ORD000003", "1", "100.00", "2024-03-01 08:00:00"});
  Insert({"ORD000004", "1", "1234567.89", "2024-03-01 08:00:00"});
  const std::map<std::string, int64_t> want = {
      {"ORD000001", 1230}, {"ORD000002", 7}, {"ORD000003", 10000}, {"ORD000004", 123456789}};
  for (const auto& [no, fen] : want) {
    auto loaded = store->LoadOrder(no);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    ASSERT_TRUE(loaded->has_value()) << no;
    EXPECT_EQ((*loaded)->amount_fen, fen) << no;
  }
}

TEST_P(StoreConformance, EpochSecondsAndMilliseconds) {
  TestSchema schema;
  schema.time_format = OrdersMapping::TimeFormat::kEpochS;
  SqlShopStore* store = Prepare(schema);
  ASSERT_NE(store, nullptr);
  Insert({"ORD000001", "1", "100", "1709251200"});
  auto s = store->LoadOrder("ORD000001");
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_TRUE(s->has_value());
  EXPECT_EQ((*s)->created_at, Utc(2024, 3, 1, 0, 0, 0));

  schema.time_format = OrdersMapping::TimeFormat::kEpochMs;
  store = Prepare(schema);
  ASSERT_NE(store, nullptr);
  Insert({"ORD000001", "1", "100", "1709251200123"});
  auto ms = store->LoadOrder("ORD000001");
  ASSERT_TRUE(ms.ok()) << ms.error().message;
  ASSERT_TRUE(ms->has_value());
  EXPECT_EQ((*ms)->created_at, Utc(2024, 3, 1, 0, 0, 0, 123));
}

TEST_P(StoreConformance, OutTradeNoAndSubMchidColumns) {
  TestSchema schema;
  schema.out_trade_no_column = true;
  schema.sub_mchid_column = true;
  SqlShopStore* store = Prepare(schema);
  ASSERT_NE(store, nullptr);
  TestOrder o{"ORD000001", "1", "100", "2024-03-01 08:00:00"};
  o.out_trade_no = "WX2024030100000001";
  o.sub_mchid = "1900000109";
  Insert(o);
  auto loaded = store->LoadOrder("ORD000001");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->order_no, "ORD000001");
  EXPECT_EQ((*loaded)->out_trade_no, "WX2024030100000001");
  EXPECT_EQ((*loaded)->sub_mchid, "1900000109");
}

TEST_P(StoreConformance, TextStatusValues) {
  TestSchema schema;
  schema.status_integer = false;
  SqlShopStore* store = Prepare(schema);
  ASSERT_NE(store, nullptr);
  Insert({"ORD000001", "unpaid", "100", "2024-03-01 08:00:00"});
  Insert({"ORD000002", "refunding", "100", "2024-03-01 08:00:00"});
  auto loaded = store->LoadOrder("ORD000001");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->state, ShopState::kUnpaid);
  auto other = store->LoadOrder("ORD000002");
  ASSERT_TRUE(other.ok()) << other.error().message;
  ASSERT_TRUE(other->has_value());
  EXPECT_EQ((*other)->state, ShopState::kOther);
  EXPECT_EQ((*other)->raw_status, "refunding");

  auto cancelled = store->MarkCancelled(**loaded);
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  EXPECT_TRUE(cancelled->applied);
  EXPECT_EQ(First(Query("SELECT status FROM wx_orders WHERE number = 'ORD000001'")), "cancelled");
}

// 18-digit order numbers differ beyond a double's precision: a text-vs-BIGINT
// comparison done in floating point would touch the neighbour.
TEST_P(StoreConformance, IntegerOrderNumbersAreComparedExactly) {
  TestSchema schema;
  schema.order_no_integer = true;
  SqlShopStore* store = Prepare(schema);
  ASSERT_NE(store, nullptr);
  Insert({"202403010000000001", "1", "100", "2024-03-01 08:00:00"});
  Insert({"202403010000000002", "1", "100", "2024-03-01 08:00:00"});
  auto paid = store->MarkPaid(UnpaidOrder("202403010000000001", 100),
                              SuccessTrade(100, "4200000001202403010000000001"));
  ASSERT_TRUE(paid.ok()) << paid.error().message;
  EXPECT_TRUE(paid->applied);
  EXPECT_EQ(First(Query("SELECT status FROM wx_orders WHERE number = 202403010000000001")), "2");
  EXPECT_EQ(First(Query("SELECT status FROM wx_orders WHERE number = 202403010000000002")), "1");

  auto neighbour = store->LoadOrder("202403010000000002");
  ASSERT_TRUE(neighbour.ok()) << neighbour.error().message;
  ASSERT_TRUE(neighbour->has_value());
  EXPECT_EQ((*neighbour)->state, ShopState::kUnpaid);
  for (const char* absent : {"ABC202403010000000002", "0202403010000000002"}) {
    auto none = store->LoadOrder(absent);
    ASSERT_TRUE(none.ok()) << none.error().message;
    EXPECT_FALSE(none->has_value()) << absent;
  }
}

TEST_P(StoreConformance, NullAmountOfUnpaidOrderIsBadRow) {
  SqlShopStore* store = Prepare(TestSchema{});
  ASSERT_NE(store, nullptr);
  Insert({"ORD000001", "1", "NULL", "2024-03-01 08:00:00"});
  Insert({"ORD000002", "2", "NULL", "2024-03-01 08:00:00"});
  auto bad = store->LoadOrder("ORD000001");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, StoreError::Kind::kBadRow);
  EXPECT_NE(bad.error().message.find("amount"), std::string::npos) << bad.error().message;
  // A finished order needs no amount: nothing will be done with it.
  auto paid = store->LoadOrder("ORD000002");
  ASSERT_TRUE(paid.ok()) << paid.error().message;
  ASSERT_TRUE(paid->has_value());
  EXPECT_EQ((*paid)->state, ShopState::kPaid);
}

// ------------------------------------------------------------ transitions

TEST_P(StoreConformance, MarkPaidAppliesOnceWithExactlyOnePaymentRow) {
  TestSchema schema;
  schema.paid_at = schema.updated_at = schema.version = true;
  SqlShopStore* store = Prepare(schema);
  ASSERT_NE(store, nullptr);
  Insert({"ORD000001", "1", "1230", "2024-03-01 08:00:00"});
  const Trade trade = SuccessTrade(1230, "4200000001202403010000000001");

  auto first = store->MarkPaid(UnpaidOrder("ORD000001", 1230), trade);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(first->applied);
  EXPECT_EQ(first->current, ShopState::kPaid);

  clock_.Advance(minutes(5));
  auto second = store->MarkPaid(UnpaidOrder("ORD000001", 1230), trade);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_FALSE(second->applied);
  EXPECT_EQ(second->current, ShopState::kPaid);
  EXPECT_EQ(second->raw_status, "2");

  auto rows = Query("SELECT order_no, transaction_id, trade_state, amount, success_time, content "
                    "FROM wx_payments");
  ASSERT_EQ(rows.size(), 1u);
  const SqlRow& p = rows.front();
  ASSERT_EQ(p.size(), 6u);
  EXPECT_EQ(p[0].value_or(""), "ORD000001");
  EXPECT_EQ(p[1].value_or(""), "4200000001202403010000000001");
  EXPECT_EQ(p[2].value_or(""), "SUCCESS");
  EXPECT_EQ(p[3].value_or(""), "1230");
  auto codec = TimeCodec::Create(schema.time_format, schema.timezone);
  ASSERT_TRUE(codec.ok());
  auto success = codec->Decode(p[4].value_or(""));
  ASSERT_TRUE(success.ok()) << p[4].value_or("NULL");
  EXPECT_EQ(*success, Utc(2024, 3, 1, 2, 34, 56));
  EXPECT_EQ(p[5].value_or(""), trade.raw_json);

  auto order = Query("SELECT status, paid_time, updated, ver FROM wx_orders WHERE number = 'ORD000001'");
  ASSERT_EQ(order.size(), 1u);
  EXPECT_EQ(order[0][0].value_or(""), "2");
  auto paid_at = codec->Decode(order[0][1].value_or(""));
  ASSERT_TRUE(paid_at.ok()) << order[0][1].value_or("NULL");
  EXPECT_EQ(*paid_at, Utc(2024, 3, 1, 2, 34, 56));
  auto updated = codec->Decode(order[0][2].value_or(""));
  ASSERT_TRUE(updated.ok()) << order[0][2].value_or("NULL");
  EXPECT_EQ(*updated, Utc(2024, 3, 1, 3, 0, 0));  // the first, applied change only
  EXPECT_EQ(order[0][3].value_or(""), "1");
}

TEST_P(StoreConformance, PaymentRowInYuanWithEpochMillis) {
  TestSchema schema;
  schema.amount_unit = OrdersMapping::AmountUnit::kYuan;
  schema.time_format = OrdersMapping::TimeFormat::kEpochMs;
  schema.paid_at = schema.updated_at = true;
  SqlShopStore* store = Prepare(schema);
  ASSERT_NE(store, nullptr);
  Insert({"ORD000001", "1", "12.30", "1709251200000"});
  auto paid = store->MarkPaid(UnpaidOrder("ORD000001", 1230),
                              SuccessTrade(1230, "4200000001202403010000000001"));
  ASSERT_TRUE(paid.ok()) << paid.error().message;
  EXPECT_TRUE(paid->applied);
  auto amount = ParseYuanToFen(First(Query("SELECT amount FROM wx_payments WHERE order_no = 'ORD000001'")));
  ASSERT_TRUE(amount.ok()) << amount.error().message;
  EXPECT_EQ(*amount, 1230);
  EXPECT_EQ(First(Query("SELECT paid_time FROM wx_orders WHERE number = 'ORD000001'")), "1709260496000");
  EXPECT_EQ(First(Query("SELECT updated FROM wx_orders WHERE number = 'ORD000001'")), "1709262000000");
}

TEST_P(StoreConformance, MarkCancelledOnPaidOrderDoesNotApplyAndReportsPaid) {
  TestSchema schema;
  schema.updated_at = schema.version = true;
  SqlShopStore* store = Prepare(schema);
  ASSERT_NE(store, nullptr);
  Insert({"ORD000001", "2", "1230", "2024-03-01 08:00:00"});
  auto result = store->MarkCancelled(UnpaidOrder("ORD000001", 1230));
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_FALSE(result->applied);
  EXPECT_EQ(result->current, ShopState::kPaid);
  EXPECT_EQ(result->raw_status, "2");
  auto row = Query("SELECT status, updated, ver FROM wx_orders WHERE number = 'ORD000001'");
  ASSERT_EQ(row.size(), 1u);
  EXPECT_EQ(row[0][0].value_or(""), "2");
  EXPECT_FALSE(row[0][1].has_value());
  EXPECT_EQ(row[0][2].value_or(""), "0");
}

TEST_P(StoreConformance, MarkCancelledAppliesWithUpdatedAtAndVersion) {
  TestSchema schema;
  schema.paid_at = schema.updated_at = schema.version = true;
  SqlShopStore* store = Prepare(schema);
  ASSERT_NE(store, nullptr);
  Insert({"ORD000001", "1", "1230", "2024-03-01 08:00:00"});
  auto result = store->MarkCancelled(UnpaidOrder("ORD000001", 1230));
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_TRUE(result->applied);
  EXPECT_EQ(result->current, ShopState::kCancelled);
  auto row = Query("SELECT status, updated, ver, paid_time FROM wx_orders WHERE number = 'ORD000001'");
  ASSERT_EQ(row.size(), 1u);
  EXPECT_EQ(row[0][0].value_or(""), "5");
  auto codec = TimeCodec::Create(schema.time_format, schema.timezone);
  ASSERT_TRUE(codec.ok());
  auto updated = codec->Decode(row[0][1].value_or(""));
  ASSERT_TRUE(updated.ok()) << row[0][1].value_or("NULL");
  EXPECT_EQ(*updated, Utc(2024, 3, 1, 3, 0, 0));
  EXPECT_EQ(row[0][2].value_or(""), "1");
  EXPECT_FALSE(row[0][3].has_value());  // paid_at only on payment
  EXPECT_TRUE(Query("SELECT order_no FROM wx_payments").empty());
}

TEST_P(StoreConformance, MarkPaidWithoutPaymentsTable) {
  TestSchema schema;
  schema.payments = false;
  SqlShopStore* store = Prepare(schema);
  ASSERT_NE(store, nullptr);
  Insert({"ORD000001", "1", "1230", "2024-03-01 08:00:00"});
  auto paid = store->MarkPaid(UnpaidOrder("ORD000001", 1230),
                              SuccessTrade(1230, "4200000001202403010000000001"));
  ASSERT_TRUE(paid.ok()) << paid.error().message;
  EXPECT_TRUE(paid->applied);
  EXPECT_EQ(First(Query("SELECT status FROM wx_orders WHERE number = 'ORD000001'")), "2");
}

// ------------------------------------------------------------ sweep

namespace {

std::vector<std::string> SweepAll(SqlShopStore* store, TimePoint before, int limit, int* pages) {
  std::vector<std::string> seen;
  SweepCursor cursor;
  *pages = 0;
  for (int guard = 0; guard < 100; ++guard) {
    auto page = store->ListUnpaid(before, cursor, limit);
    if (!page.ok()) {
      ADD_FAILURE() << page.error().message;
      break;
    }
    ++*pages;
    if (page->empty()) break;
    for (const auto& item : *page) seen.push_back(item.order_no);
    cursor = SweepCursor{page->back().created_at, page->back().order_no};
  }
  return seen;
}

}  // namespace

TEST_P(StoreConformance, SweepOrdersByCreatedAtThenOrderNoAndPagesByKeyset) {
  for (auto format : {OrdersMapping::TimeFormat::kDatetime, OrdersMapping::TimeFormat::kEpochMs}) {
    SCOPED_TRACE(format == OrdersMapping::TimeFormat::kDatetime ? "datetime" : "epoch_ms");
    TestSchema schema;
    schema.time_format = format;
    schema.filter = true;
    SqlShopStore* store = Prepare(schema);
    ASSERT_NE(store, nullptr);
    const bool dt = format == OrdersMapping::TimeFormat::kDatetime;
    // Shanghai local times; epoch_ms values are the same instants.
    auto at = [&](const char* local, const char* epoch_ms) { return std::string(dt ? local : epoch_ms); };
    Insert({"SWEEP0A2", "1", "100", at("2024-03-01 08:00:00", "1709251200000")});
    Insert({"SWEEP0A1", "1", "100", at("2024-03-01 08:00:00", "1709251200000")});
    Insert({"SWEEP0A3", "2", "100", at("2024-03-01 08:00:00", "1709251200000")});   // paid
    Insert({"SWEEP0B1", "1", "100", at("2024-03-01 09:00:00", "1709254800000")});
    Insert({"SWEEP0B0", "1", "100", at("2024-03-01 07:30:00.500", "1709249400500")});
    Insert({"SWEEP0C1", "1", "100", at("2024-03-01 10:00:00", "1709258400000")});  // not before
    TestOrder alipay{"SWEEP0A0", "1", "100", at("2024-03-01 08:00:00", "1709251200000")};
    alipay.pay_method = "alipay";  // filtered out
    Insert(alipay);

    const TimePoint before = Utc(2024, 3, 1, 2, 0, 0);  // 10:00 in Shanghai
    const std::vector<std::string> want = {"SWEEP0B0", "SWEEP0A1", "SWEEP0A2", "SWEEP0B1"};
    int pages = 0;
    EXPECT_EQ(SweepAll(store, before, 1, &pages), want);
    EXPECT_EQ(pages, 5);
    EXPECT_EQ(SweepAll(store, before, 3, &pages), want);
    EXPECT_EQ(pages, 3);

    auto first = store->ListUnpaid(before, SweepCursor{}, 10);
    ASSERT_TRUE(first.ok()) << first.error().message;
    ASSERT_EQ(first->size(), 4u);
    EXPECT_EQ(first->front().created_at, Utc(2024, 2, 29, 23, 30, 0, 500));
  }
}

// ------------------------------------------------------------ failures

TEST_P(StoreConformance, LockedRowIsUnavailableWithinTheTimeout) {
  CreateTables(TestSchema{});
  config_.timeout = milliseconds(500);
  SqlShopStore* store = OpenStore();
  ASSERT_NE(store, nullptr);
  Insert({"ORD000001", "1", "1230", "2024-03-01 08:00:00"});

  auto holder = fixture_->Connect();
  ASSERT_TRUE(holder.ok()) << holder.error().message;
  ASSERT_TRUE((*holder)->Exec(fixture_->BeginWriteSql()).ok());
  auto locked = (*holder)->Exec("UPDATE wx_orders SET amount = amount WHERE number = 'ORD000001'");
  ASSERT_TRUE(locked.ok()) << locked.error().message;

  const auto start = std::chrono::steady_clock::now();
  auto result = store->MarkCancelled(UnpaidOrder("ORD000001", 1230));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(result.ok()) << "applied=" << result->applied;
  EXPECT_EQ(result.error().kind, StoreError::Kind::kUnavailable);
  EXPECT_FALSE(result.error().message.empty());
  // MariaDB's lock wait is in whole seconds (at least 1).
  EXPECT_LT(took, seconds(4));

  ASSERT_TRUE((*holder)->Exec("ROLLBACK").ok());
  auto retried = store->MarkCancelled(UnpaidOrder("ORD000001", 1230));
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_TRUE(retried->applied);
}

TEST_P(StoreConformance, DatabaseNowAgreesWithTheSystemClock) {
  SqlShopStore* store = Prepare(TestSchema{});
  ASSERT_NE(store, nullptr);
  auto now = store->DatabaseNow();
  ASSERT_TRUE(now.ok()) << now.error().message;
  const auto diff = *now - std::chrono::system_clock::now();
  EXPECT_LT(std::chrono::abs(diff), seconds(60))
      << "offset " << std::chrono::duration_cast<seconds>(diff).count() << "s";
}

// ------------------------------------------------------------ schema check

TEST_P(StoreConformance, SchemaCheckPassesAndNotesTheStatusType) {
  TestSchema schema;
  schema.paid_at = schema.updated_at = schema.version = schema.filter = true;
  schema.out_trade_no_column = schema.sub_mchid_column = true;
  SqlShopStore* store = Prepare(schema);
  ASSERT_NE(store, nullptr);
  auto report = store->CheckSchema();
  ASSERT_TRUE(report.ok()) << report.error().message;
  bool noted = false;
  for (const auto& note : report->notes) noted |= note.find("status") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST_P(StoreConformance, SchemaCheckRefusesFloatingPointMoney) {
  TestSchema schema;
  schema.amount_unit = OrdersMapping::AmountUnit::kYuan;
  schema.amount_type = "DOUBLE PRECISION";
  SqlShopStore* store = Prepare(schema);
  ASSERT_NE(store, nullptr);
  auto report = store->CheckSchema();
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.error().message.find("DECIMAL"), std::string::npos) << report.error().message;
  EXPECT_NE(report.error().message.find("database.orders.amount"), std::string::npos)
      << report.error().message;
}

TEST_P(StoreConformance, SchemaCheckNamesMissingColumnsAndTables) {
  CreateTables(TestSchema{});
  config_.orders.paid_at = "no_such_col";
  config_.payments.columns.raw = "no_raw_col";
  SqlShopStore* store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto report = store->CheckSchema();
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.error().message.find("no_such_col"), std::string::npos) << report.error().message;
  EXPECT_NE(report.error().message.find("no_raw_col"), std::string::npos) << report.error().message;

  config_ = MappedConfig(fixture_->BaseConfig(), TestSchema{});
  config_.orders.table = "wx_missing";
  auto missing = fixture_->Open(config_, 1, clock_, log_);
  if (missing.ok()) {
    auto r = (*missing)->CheckSchema();
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("wx_missing"), std::string::npos) << r.error().message;
  } else {
    EXPECT_NE(missing.error().message.find("wx_missing"), std::string::npos)
        << missing.error().message;
  }
}

// ------------------------------------------------------------ the race

// The shop's payment callback (a plain conditional UPDATE on its own
// connection) races the store's MarkCancelled / MarkPaid on the same orders.
// Exactly one side may win each order; a cancel never lands on a paid order;
// payment rows exist only for the store's applied MarkPaid.
TEST_P(StoreConformance, CallbackRacingCancelNeverLeavesBothOutcomes) {
  constexpr int kOrders = 200;
  constexpr int kPairs = 4;  // shop thread k and store thread k take orders i % kPairs == k
  CreateTables(TestSchema{});
  config_.timeout = seconds(10);  // contention, not a stuck lock: every waiter must get through
  SqlShopStore* store = OpenStore(kPairs);
  ASSERT_NE(store, nullptr);
  auto no = [](int i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "RACE%06d", i);
    return std::string(buf);
  };
  for (int i = 0; i < kOrders; ++i) Insert({no(i), "1", "100", "2024-03-01 08:00:00"});
  // Store side: mostly cancels; every fourth order the store marks paid.
  auto store_pays = [](int i) { return i % 8 == 3; };

  std::vector<std::unique_ptr<TestSession>> shops;
  for (int k = 0; k < kPairs; ++k) {
    auto s = fixture_->Connect();
    ASSERT_TRUE(s.ok()) << s.error().message;
    shops.push_back(std::move(*s));
  }
  std::vector<int> shop_applied(kOrders, -1);
  std::vector<std::optional<Transition>> store_result(kOrders);
  std::vector<std::string> errors(kOrders);
  std::atomic<int> ready{0};
  const int kThreads = 2 * kPairs;
  auto wait_for_all = [&] {
    ready.fetch_add(1);
    while (ready.load() < kThreads) std::this_thread::yield();
  };

  std::vector<std::thread> threads;
  for (int k = 0; k < kPairs; ++k) {
    threads.emplace_back([&, k] {
      wait_for_all();
      for (int i = k; i < kOrders; i += kPairs) {
        auto n = shops[k]->Exec("UPDATE wx_orders SET status = 2 WHERE number = '" + no(i) +
                                "' AND status = 1");
        if (n.ok()) {
          shop_applied[i] = static_cast<int>(*n);
        } else {
          errors[i] += "shop: " + n.error().message + "; ";
        }
      }
    });
    threads.emplace_back([&, k] {
      wait_for_all();
      for (int i = k; i < kOrders; i += kPairs) {
        auto r = store_pays(i) ? store->MarkPaid(UnpaidOrder(no(i), 100),
                                                 SuccessTrade(100, "TX" + no(i)))
                               : store->MarkCancelled(UnpaidOrder(no(i), 100));
        if (r.ok()) {
          store_result[i] = *r;
        } else {
          errors[i] += "store: " + r.error().message + "; ";
        }
      }
    });
  }
  for (auto& t : threads) t.join();

  std::map<std::string, std::string> status;
  for (const auto& row : Query("SELECT number, status FROM wx_orders")) {
    status[row[0].value_or("")] = row[1].value_or("NULL");
  }
  std::map<std::string, int> payments;
  for (const auto& row : Query("SELECT order_no FROM wx_payments")) ++payments[row[0].value_or("")];

  int shop_wins = 0, store_wins = 0;
  for (int i = 0; i < kOrders; ++i) {
    const std::string n = no(i);
    ASSERT_TRUE(errors[i].empty()) << n << ": " << errors[i];
    ASSERT_TRUE(store_result[i].has_value()) << n;
    ASSERT_NE(shop_applied[i], -1) << n;
    const bool shop_won = shop_applied[i] == 1;
    const bool store_won = store_result[i]->applied;
    EXPECT_NE(shop_won, store_won) << n << ": exactly one side must win";
    shop_wins += shop_won;
    store_wins += store_won;
    if (store_won && !store_pays(i)) {
      EXPECT_EQ(status[n], "5") << n << ": an applied cancel must leave the order cancelled";
    } else {
      EXPECT_EQ(status[n], "2") << n;
    }
    if (!store_won) {
      EXPECT_EQ(store_result[i]->current, ShopState::kPaid) << n << ": the loser must see paid";
    }
    EXPECT_EQ(payments[n], store_won && store_pays(i) ? 1 : 0) << n;
  }
  RecordProperty("shop_wins", shop_wins);
  RecordProperty("store_wins", store_wins);
  EXPECT_EQ(shop_wins + store_wins, kOrders);
}

}  // namespace wxpay
