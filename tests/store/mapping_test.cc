#include "store/mapping.h"

#include <date/date.h>
#include <gtest/gtest.h>

#include <climits>

#include "store/order_examples.h"

namespace wxpay {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using TF = OrdersMapping::TimeFormat;

TimePoint Utc(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  const date::sys_days day = date::year{y} / date::month{mo} / date::day{d};
  return TimePoint{day.time_since_epoch() + hours{h} + minutes{mi} + seconds{s}};
}

std::string Text(const SqlValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return "'" + *s + "'";
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  return "NULL";
}

std::string Params(const SqlStatement& s) {
  std::string out;
  for (const auto& p : s.params) out += (out.empty() ? "" : ",") + Text(p);
  return out;
}

OrdersMapping Orders() {
  OrdersMapping o;
  o.table = "orders";
  o.order_no = "number";
  o.status = "status";
  o.amount = "amount";
  o.created_at = "order_time";
  o.status_values = {"1", "2", "5"};
  return o;
}

OrdersMapping FullOrders() {
  OrdersMapping o = Orders();
  o.table = "shop.orders";
  o.out_trade_no = "trade_no";
  o.sub_mchid = "sub_mch";
  o.filter = {"pay_method", {"wxpay", "wxpay_h5"}};
  o.paid_at = "paid_time";
  o.updated_at = "updated";
  o.version = "ver";
  return o;
}

PaymentsMapping Payments() {
  PaymentsMapping p;
  p.table = "payments";
  return p;
}

SqlMapping Make(Dialect d, const OrdersMapping& o, const PaymentsMapping& p = {},
                ColumnTraits traits = {}) {
  auto m = SqlMapping::Create(d, o, p, traits);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
  return std::move(m).value();
}

// ------------------------------------------------------------ identifiers

TEST(Identifiers, AcceptOnlyPlainNames) {
  EXPECT_TRUE(IsValidIdentifier("order_time"));
  EXPECT_TRUE(IsValidIdentifier("_x9"));
  EXPECT_FALSE(IsValidIdentifier(""));
  EXPECT_FALSE(IsValidIdentifier("9x"));
  EXPECT_FALSE(IsValidIdentifier("a-b"));
  EXPECT_FALSE(IsValidIdentifier("a b"));
  EXPECT_FALSE(IsValidIdentifier("a\"b"));
  EXPECT_FALSE(IsValidIdentifier("a`b"));
  EXPECT_FALSE(IsValidIdentifier("status; DROP TABLE orders"));
  EXPECT_FALSE(IsValidIdentifier("a.b"));
  EXPECT_FALSE(IsValidIdentifier(std::string(65, 'a')));
  EXPECT_TRUE(IsValidTableName("shop.orders"));
  EXPECT_FALSE(IsValidTableName("a.b.c"));
  EXPECT_FALSE(IsValidTableName(".orders"));
  EXPECT_FALSE(IsValidTableName("orders."));
}

TEST(Identifiers, QuotedPerDialect) {
  EXPECT_EQ(*QuoteColumn(Dialect::kSqlite, "status"), "\"status\"");
  EXPECT_EQ(*QuoteColumn(Dialect::kPostgres, "status"), "\"status\"");
  EXPECT_EQ(*QuoteColumn(Dialect::kMysql, "status"), "`status`");
  EXPECT_EQ(*QuoteTable(Dialect::kMysql, "shop.orders"), "`shop`.`orders`");
  EXPECT_EQ(*QuoteTable(Dialect::kPostgres, "shop.orders"), "\"shop\".\"orders\"");
  EXPECT_FALSE(QuoteColumn(Dialect::kMysql, "a`b").ok());
  EXPECT_FALSE(QuoteTable(Dialect::kSqlite, "orders\"--").ok());
}

// ------------------------------------------------------------ values

TEST(Money, FenIsAnInteger) {
  EXPECT_EQ(*ParseFen("1230"), 1230);
  EXPECT_EQ(*ParseFen("1230.00"), 1230);
  EXPECT_EQ(*ParseFen("1230.0"), 1230);
  EXPECT_EQ(*ParseFen("-5"), -5);
  EXPECT_EQ(*ParseFen("0"), 0);
  for (const char* bad : {"", "12.5", "12.", "1e3", " 12", "12 ", "+1", "0x10", "-",
                          "99999999999999999999"}) {
    EXPECT_FALSE(ParseFen(bad).ok()) << bad;
  }
}

TEST(Money, YuanIsConvertedExactly) {
  EXPECT_EQ(*ParseYuanToFen("12.30"), 1230);
  EXPECT_EQ(*ParseYuanToFen("12.3"), 1230);
  EXPECT_EQ(*ParseYuanToFen("12"), 1200);
  EXPECT_EQ(*ParseYuanToFen("0.07"), 7);
  EXPECT_EQ(*ParseYuanToFen("0.1"), 10);
  EXPECT_EQ(*ParseYuanToFen("-0.01"), -1);
  EXPECT_EQ(*ParseYuanToFen("12.300"), 1230);
  EXPECT_EQ(*ParseYuanToFen("12.3000000"), 1230);
  // 0.29 * 100 in floating point is 28.999999999999996.
  EXPECT_EQ(*ParseYuanToFen("0.29"), 29);
  EXPECT_EQ(*ParseYuanToFen("92233720368547758.07"), INT64_MAX);
  for (const char* bad : {"12.301", "12.305", "1,000.00", ".5", "12.", "abc", "+1", "", "-",
                          "1e2", "12.3.4", " 1.00", "92233720368547758.08",
                          "999999999999999999999"}) {
    EXPECT_FALSE(ParseYuanToFen(bad).ok()) << bad;
  }
  EXPECT_NE(ParseYuanToFen("12.301").error().message.find("2 decimal"), std::string::npos);
}

TEST(Money, FormatsFenAsYuan) {
  EXPECT_EQ(FormatFenAsYuan(1230), "12.30");
  EXPECT_EQ(FormatFenAsYuan(7), "0.07");
  EXPECT_EQ(FormatFenAsYuan(0), "0.00");
  EXPECT_EQ(FormatFenAsYuan(-1), "-0.01");
  EXPECT_EQ(FormatFenAsYuan(INT64_MIN), "-92233720368547758.08");
  EXPECT_EQ(*ParseYuanToFen(FormatFenAsYuan(123456789)), 123456789);
}

TEST(Values, IntegerLiteralsAreCanonical) {
  EXPECT_TRUE(IsIntegerLiteral("1"));
  EXPECT_TRUE(IsIntegerLiteral("0"));
  EXPECT_TRUE(IsIntegerLiteral("-3"));
  EXPECT_TRUE(IsIntegerLiteral("9223372036854775807"));
  EXPECT_FALSE(IsIntegerLiteral("9223372036854775808"));
  EXPECT_FALSE(IsIntegerLiteral("01"));
  EXPECT_FALSE(IsIntegerLiteral("-0"));
  EXPECT_FALSE(IsIntegerLiteral(""));
  EXPECT_FALSE(IsIntegerLiteral("1.0"));
  EXPECT_FALSE(IsIntegerLiteral("unpaid"));
}

// ------------------------------------------------------------ time

TEST(Time, Rfc3339) {
  EXPECT_EQ(*ParseRfc3339("2018-06-08T10:34:56+08:00"), Utc(2018, 6, 8, 2, 34, 56));
  EXPECT_EQ(*ParseRfc3339("2018-06-08T02:34:56Z"), Utc(2018, 6, 8, 2, 34, 56));
  EXPECT_EQ(*ParseRfc3339("2018-06-08T02:34:56.5-01:30"),
            Utc(2018, 6, 8, 4, 4, 56) + milliseconds(500));
  EXPECT_FALSE(ParseRfc3339("2018-06-08T10:34:56").ok());  // no offset
  EXPECT_FALSE(ParseRfc3339("2018-06-08 10:34:56+08:00").ok());
  EXPECT_FALSE(ParseRfc3339("").ok());
  EXPECT_FALSE(ParseRfc3339("2018-06-08T10:34:56+08:00x").ok());
}

TEST(Time, DatetimeIsReadInTheConfiguredZone) {
  auto sh = TimeCodec::Create(TF::kDatetime, "Asia/Shanghai");
  ASSERT_TRUE(sh.ok());
  auto utc = TimeCodec::Create(TF::kDatetime, "UTC");
  ASSERT_TRUE(utc.ok());
  EXPECT_EQ(*sh->Decode("2024-03-01 08:00:00"), Utc(2024, 3, 1, 0, 0, 0));
  EXPECT_EQ(*utc->Decode("2024-03-01 08:00:00"), Utc(2024, 3, 1, 8, 0, 0));
  EXPECT_EQ(*sh->Decode("2024-03-01T08:00:00"), Utc(2024, 3, 1, 0, 0, 0));
  EXPECT_EQ(*sh->Decode("2024-03-01 08:00:00.123456"),
            Utc(2024, 3, 1, 0, 0, 0) + microseconds(123456));
  EXPECT_EQ(*sh->Decode("2024-03-01 08:00:00.1234567"),  // nanoseconds dropped
            Utc(2024, 3, 1, 0, 0, 0) + microseconds(123456));
  // An explicit offset (timestamptz) wins over the zone.
  EXPECT_EQ(*sh->Decode("2024-03-01 08:00:00+00"), Utc(2024, 3, 1, 8, 0, 0));
  EXPECT_EQ(*sh->Decode("2024-03-01 08:00:00+0530"), Utc(2024, 3, 1, 2, 30, 0));
  EXPECT_EQ(*sh->Decode("2024-03-01 08:00:00Z"), Utc(2024, 3, 1, 8, 0, 0));
  for (const char* bad : {"2024-02-30 00:00:00", "2024-03-01", "0000-00-00 00:00:00",
                          "2024-03-01 24:00:00", "2024-03-01 08:00", "2024-03-01 08:00:00.",
                          "2024/03/01 08:00:00", "1709251200", "2024-03-01 08:00:00 +08",
                          "2024-03-01 08:00:00+8"}) {
    EXPECT_FALSE(sh->Decode(bad).ok()) << bad;
  }
}

TEST(Time, DaylightSavingGapsAndOverlaps) {
  auto ny = TimeCodec::Create(TF::kDatetime, "America/New_York");
  ASSERT_TRUE(ny.ok());
  // 01:30 happens twice on 2024-11-03: the earlier (EDT, UTC-4) is chosen.
  EXPECT_EQ(*ny->Decode("2024-11-03 01:30:00"), Utc(2024, 11, 3, 5, 30, 0));
  // 02:30 never happens on 2024-03-10: mapped to the moment of the change.
  EXPECT_EQ(*ny->Decode("2024-03-10 02:30:00"), Utc(2024, 3, 10, 7, 0, 0));
  EXPECT_EQ(std::get<std::string>(ny->Encode(Utc(2024, 7, 1, 16, 0, 0))), "2024-07-01 12:00:00");
}

TEST(Time, EncodesInTheColumnsFormat) {
  auto sh = TimeCodec::Create(TF::kDatetime, "Asia/Shanghai");
  ASSERT_TRUE(sh.ok());
  const TimePoint t = Utc(2024, 2, 29, 23, 30, 0);
  EXPECT_EQ(std::get<std::string>(sh->Encode(t)), "2024-03-01 07:30:00");
  EXPECT_EQ(std::get<std::string>(sh->Encode(t + milliseconds(500))), "2024-03-01 07:30:00.500");
  EXPECT_EQ(std::get<std::string>(sh->Encode(t + microseconds(1500))), "2024-03-01 07:30:00.001500");
  EXPECT_EQ(*sh->Decode(std::get<std::string>(sh->Encode(t + microseconds(1500)))),
            t + microseconds(1500));

  auto s = TimeCodec::Create(TF::kEpochS, "Asia/Shanghai");
  auto ms = TimeCodec::Create(TF::kEpochMs, "Asia/Shanghai");
  ASSERT_TRUE(s.ok() && ms.ok());
  EXPECT_EQ(std::get<int64_t>(s->Encode(Utc(2024, 3, 1, 0, 0, 0) + milliseconds(999))), 1709251200);
  EXPECT_EQ(std::get<int64_t>(ms->Encode(Utc(2024, 3, 1, 0, 0, 0) + milliseconds(999))),
            1709251200999);
  EXPECT_EQ(*s->Decode("1709251200"), Utc(2024, 3, 1, 0, 0, 0));
  EXPECT_EQ(*ms->Decode("1709251200999"), Utc(2024, 3, 1, 0, 0, 0) + milliseconds(999));
  // Milliseconds in an epoch_s column, garbage, fractions.
  for (const char* bad : {"1709251200999", "", "abc", "1.5", "99999999999999999999"}) {
    EXPECT_FALSE(s->Decode(bad).ok()) << bad;
  }
  EXPECT_FALSE(ms->Decode("1709251200999000").ok());
}

TEST(Time, UnknownZoneIsAnError) {
  auto bad = TimeCodec::Create(TF::kDatetime, "Asia/Beijing");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("Asia/Beijing"), std::string::npos);
  EXPECT_NE(bad.error().message.find("IANA"), std::string::npos);
}

// ------------------------------------------------------------ Create

TEST(Create, ReportsEveryProblemWithItsKey) {
  OrdersMapping o = Orders();
  o.table = "orders;--";
  o.status = "";
  o.amount = "amount`";
  o.timezone = "Nowhere/City";
  o.status_values = {"1", "1", ""};
  o.filter = {"pay_method", {}};
  PaymentsMapping p = Payments();
  p.columns.raw = "raw content";
  auto m = SqlMapping::Create(Dialect::kMysql, o, p);
  ASSERT_FALSE(m.ok());
  const std::string& msg = m.error().message;
  for (const char* key : {"database.orders.table", "database.orders.status:",
                          "database.orders.amount", "database.orders.timezone",
                          "database.orders.status_values.cancelled", "database.orders.status_values:",
                          "database.orders.filter", "database.payments.columns.raw"}) {
    EXPECT_NE(msg.find(key), std::string::npos) << key << " in\n" << msg;
  }
}

TEST(Create, IntegerColumnsNeedIntegerValues) {
  OrdersMapping o = Orders();
  o.status_values = {"unpaid", "2", "5"};
  ColumnTraits t;
  t.status_integer = true;
  auto m = SqlMapping::Create(Dialect::kMysql, o, {}, t);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("'unpaid' is not an integer"), std::string::npos);

  o = Orders();
  o.filter = {"pay_method", {"wxpay"}};
  t = {};
  t.filter_integer = true;
  EXPECT_FALSE(SqlMapping::Create(Dialect::kMysql, o, {}, t).ok());
}

TEST(Create, ValidateDatabaseMappingUsesTheDriversDialect) {
  DatabaseConfig db;
  db.driver = DatabaseConfig::Driver::kPostgresql;
  db.orders = Orders();
  EXPECT_TRUE(ValidateDatabaseMapping(db).ok());
  db.orders.created_at = "order time";
  Status s = ValidateDatabaseMapping(db);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("database.orders.created_at"), std::string::npos);
}

// ------------------------------------------------------------ statements

TEST(Statements, LoadOrderPerDialect) {
  const OrdersMapping o = FullOrders();
  auto sqlite = Make(Dialect::kSqlite, o).LoadOrder("ORD000001");
  ASSERT_TRUE(sqlite.has_value());
  EXPECT_EQ(sqlite->text,
            "SELECT \"status\", \"amount\", \"order_time\", \"trade_no\", \"sub_mch\" FROM "
            "\"shop\".\"orders\" WHERE \"number\" = ? AND \"pay_method\" IN (?, ?)");
  EXPECT_EQ(Params(*sqlite), "'ORD000001','wxpay','wxpay_h5'");

  auto mysql = Make(Dialect::kMysql, o).LoadOrder("ORD000001");
  ASSERT_TRUE(mysql.has_value());
  EXPECT_EQ(mysql->text,
            "SELECT `status`, `amount`, `order_time`, `trade_no`, `sub_mch` FROM `shop`.`orders` "
            "WHERE `number` = ? AND `pay_method` IN (?, ?)");

  auto pg = Make(Dialect::kPostgres, o).LoadOrder("ORD000001");
  ASSERT_TRUE(pg.has_value());
  EXPECT_EQ(pg->text,
            "SELECT \"status\", \"amount\", \"order_time\", \"trade_no\", \"sub_mch\" FROM "
            "\"shop\".\"orders\" WHERE \"number\" = $1 AND \"pay_method\" IN ($2, $3)");
  EXPECT_EQ(Params(*pg), "'ORD000001','wxpay','wxpay_h5'");

  auto plain = Make(Dialect::kSqlite, Orders()).LoadOrder("ORD000001");
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->text,
            "SELECT \"status\", \"amount\", \"order_time\" FROM \"orders\" WHERE \"number\" = ?");
}

TEST(Statements, IntegerColumnsAreBoundAsIntegers) {
  OrdersMapping o = Orders();
  o.filter = {"channel", {"3"}};
  ColumnTraits t;
  t.order_no_integer = t.status_integer = t.filter_integer = true;
  const SqlMapping m = Make(Dialect::kMysql, o, {}, t);
  auto load = m.LoadOrder("202403010000000001");
  ASSERT_TRUE(load.has_value());
  EXPECT_EQ(Params(*load), "202403010000000001,3");
  // Letters or a leading zero cannot name a row of an integer column.
  EXPECT_FALSE(m.LoadOrder("ORD000001").has_value());
  EXPECT_FALSE(m.LoadOrder("0202403010000000001").has_value());

  const SqlStatement cancel = m.MarkCancelled(UnpaidOrderOf1230Fen("202403010000000001"), Utc(2024, 3, 1, 0, 0, 0));
  EXPECT_EQ(cancel.text,
            "UPDATE `orders` SET `status` = ? WHERE `number` = ? AND `status` = ? AND `channel` IN (?)");
  EXPECT_EQ(Params(cancel), "5,202403010000000001,1,3");

  // Text columns keep text, whatever the value looks like.
  const SqlMapping text = Make(Dialect::kMysql, Orders());
  EXPECT_EQ(Params(text.MarkCancelled(UnpaidOrderOf1230Fen("123456789"), Utc(2024, 3, 1, 0, 0, 0))),
            "'5','123456789','1'");
}

TEST(Statements, UntypedSqliteColumnsMatchBothStorageClasses) {
  OrdersMapping o = Orders();
  o.filter = {"channel", {"3", "web"}};
  ColumnTraits t;
  t.order_no_untyped = t.status_untyped = t.filter_untyped = true;
  const SqlMapping m = Make(Dialect::kSqlite, o, {}, t);
  const SqlStatement cancel = m.MarkCancelled(UnpaidOrderOf1230Fen("123456789"), Utc(2024, 3, 1, 0, 0, 0));
  EXPECT_EQ(cancel.text,
            "UPDATE \"orders\" SET \"status\" = ? WHERE \"number\" IN (?, ?) AND \"status\" IN (?, ?) "
            "AND \"channel\" IN (?, ?, ?)");
  EXPECT_EQ(Params(cancel), "5,123456789,'123456789',1,'1',3,'3','web'");
  auto load = m.LoadOrder("ORD000001");  // not an integer: compared as text only
  ASSERT_TRUE(load.has_value());
  EXPECT_EQ(load->text.substr(load->text.find("WHERE")),
            "WHERE \"number\" = ? AND \"channel\" IN (?, ?, ?)");
}

TEST(Statements, MarkPaidWritesOptionalColumnsInTheirFormat) {
  OrdersMapping o = FullOrders();
  const TimePoint now = Utc(2024, 3, 1, 3, 0, 0);
  const SqlMapping pg = Make(Dialect::kPostgres, o, Payments());
  const SqlStatement paid = pg.MarkPaid(UnpaidOrderOf1230Fen("ORD000001"), SuccessOf1230Fen(), now);
  EXPECT_EQ(paid.text,
            "UPDATE \"shop\".\"orders\" SET \"status\" = $1, \"paid_time\" = $2, \"updated\" = $3, "
            "\"ver\" = \"ver\" + 1 WHERE \"number\" = $4 AND \"status\" = $5 AND \"pay_method\" IN "
            "($6, $7)");
  EXPECT_EQ(Params(paid),
            "'2','2024-03-01 10:34:56','2024-03-01 11:00:00','ORD000001','1','wxpay','wxpay_h5'");

  o.created_at_format = TF::kEpochMs;
  const SqlMapping ms = Make(Dialect::kSqlite, o);
  EXPECT_EQ(Params(ms.MarkPaid(UnpaidOrderOf1230Fen("ORD000001"), SuccessOf1230Fen(), now)),
            "'2',1709260496000,1709262000000,'ORD000001','1','wxpay','wxpay_h5'");

  // Without success_time (never for SUCCESS, but refunds may lack it): now.
  Trade no_time = SuccessOf1230Fen();
  no_time.success_time.clear();
  EXPECT_EQ(Params(ms.MarkPaid(UnpaidOrderOf1230Fen("ORD000001"), no_time, now)),
            "'2',1709262000000,1709262000000,'ORD000001','1','wxpay','wxpay_h5'");

  const SqlMapping minimal = Make(Dialect::kMysql, Orders());
  const SqlStatement bare = minimal.MarkPaid(UnpaidOrderOf1230Fen("ORD000001"), SuccessOf1230Fen(), now);
  EXPECT_EQ(bare.text, "UPDATE `orders` SET `status` = ? WHERE `number` = ? AND `status` = ?");
  EXPECT_EQ(Params(bare), "'2','ORD000001','1'");
}

TEST(Statements, InsertPayment) {
  const TimePoint now = Utc(2024, 3, 1, 3, 0, 0);
  EXPECT_FALSE(Make(Dialect::kMysql, Orders()).InsertPayment(UnpaidOrderOf1230Fen("ORD000001"), SuccessOf1230Fen(), now));

  OrdersMapping o = Orders();
  o.amount_unit = OrdersMapping::AmountUnit::kYuan;
  auto insert = Make(Dialect::kMysql, o, Payments()).InsertPayment(UnpaidOrderOf1230Fen("ORD000001"), SuccessOf1230Fen(), now);
  ASSERT_TRUE(insert.has_value());
  EXPECT_EQ(insert->text,
            "INSERT INTO `payments` (`order_no`, `transaction_id`, `trade_state`, `amount`, "
            "`success_time`, `content`) VALUES (?, ?, ?, ?, ?, ?)");
  EXPECT_EQ(Params(*insert),
            "'ORD000001','4200000001','SUCCESS','12.30','2024-03-01 10:34:56','{}'");

  PaymentsMapping p = Payments();
  p.columns.raw = "";
  p.columns.trade_state = "";
  auto fen = Make(Dialect::kPostgres, Orders(), p).InsertPayment(UnpaidOrderOf1230Fen("ORD000001"), SuccessOf1230Fen(), now);
  ASSERT_TRUE(fen.has_value());
  EXPECT_EQ(fen->text,
            "INSERT INTO \"payments\" (\"order_no\", \"transaction_id\", \"amount\", "
            "\"success_time\") VALUES ($1, $2, $3, $4)");
  EXPECT_EQ(Params(*fen), "'ORD000001','4200000001',1230,'2024-03-01 10:34:56'");
}

TEST(Statements, ReadStatusAndDecodeNotApplied) {
  const SqlMapping m = Make(Dialect::kPostgres, Orders());
  const SqlStatement read = m.ReadStatus(UnpaidOrderOf1230Fen("ORD000001"));
  EXPECT_EQ(read.text, "SELECT \"status\" FROM \"orders\" WHERE \"number\" = $1");
  EXPECT_EQ(Params(read), "'ORD000001'");

  Transition paid = m.DecodeNotApplied(SqlRow{std::string("2")});
  EXPECT_FALSE(paid.applied);
  EXPECT_EQ(paid.current, ShopState::kPaid);
  EXPECT_EQ(paid.raw_status, "2");
  EXPECT_EQ(m.DecodeNotApplied(SqlRow{std::string("5")}).current, ShopState::kCancelled);
  EXPECT_EQ(m.DecodeNotApplied(SqlRow{std::string("7")}).current, ShopState::kOther);
  EXPECT_EQ(m.DecodeNotApplied(SqlRow{std::nullopt}).raw_status, "NULL");
  Transition gone = m.DecodeNotApplied(std::nullopt);
  EXPECT_EQ(gone.current, ShopState::kOther);
  EXPECT_FALSE(gone.raw_status.empty());
}

TEST(Statements, SweepUsesAKeysetCursor) {
  OrdersMapping o = Orders();
  o.filter = {"pay_method", {"wxpay"}};
  const SqlMapping m = Make(Dialect::kPostgres, o);
  const TimePoint before = Utc(2024, 3, 1, 2, 0, 0);
  const SqlStatement first = m.ListUnpaid(before, SweepCursor{}, 100);
  EXPECT_EQ(first.text,
            "SELECT \"number\", \"order_time\" FROM \"orders\" WHERE \"status\" = $1 AND "
            "\"pay_method\" IN ($2) AND \"order_time\" < $3 ORDER BY \"order_time\", \"number\" "
            "LIMIT $4");
  EXPECT_EQ(Params(first), "'1','wxpay','2024-03-01 10:00:00',100");

  const SqlStatement next =
      m.ListUnpaid(before, SweepCursor{Utc(2024, 3, 1, 0, 0, 0), "ORD000009"}, 100);
  EXPECT_EQ(next.text,
            "SELECT \"number\", \"order_time\" FROM \"orders\" WHERE \"status\" = $1 AND "
            "\"pay_method\" IN ($2) AND \"order_time\" < $3 AND (\"order_time\" > $4 OR "
            "(\"order_time\" = $5 AND \"number\" > $6)) ORDER BY \"order_time\", \"number\" LIMIT $7");
  EXPECT_EQ(Params(next),
            "'1','wxpay','2024-03-01 10:00:00','2024-03-01 08:00:00','2024-03-01 08:00:00',"
            "'ORD000009',100");

  auto row = m.DecodeSweepRow(SqlRow{std::string("ORD000009"), std::string("2024-03-01 08:00:00")});
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->order_no, "ORD000009");
  EXPECT_EQ(row->created_at, Utc(2024, 3, 1, 0, 0, 0));
  auto bad = m.DecodeSweepRow(SqlRow{std::string("ORD000009"), std::nullopt});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, StoreError::Kind::kBadRow);
}

TEST(Statements, DatabaseNow) {
  EXPECT_EQ(Make(Dialect::kMysql, Orders()).DatabaseNow().text, "SELECT CAST(NOW(3) AS CHAR)");
  EXPECT_EQ(Make(Dialect::kPostgres, Orders()).DatabaseNow().text,
            "SELECT CAST(LOCALTIMESTAMP(3) AS TEXT)");
  EXPECT_NE(Make(Dialect::kSqlite, Orders()).DatabaseNow().text.find("'now'"), std::string::npos);

  // MySQL/PostgreSQL: the session zone is orders.timezone; SQLite's 'now' is UTC.
  const SqlRow row{std::string("2024-03-01 08:00:00.250")};
  EXPECT_EQ(*Make(Dialect::kMysql, Orders()).DecodeDatabaseNow(row),
            Utc(2024, 3, 1, 0, 0, 0) + milliseconds(250));
  EXPECT_EQ(*Make(Dialect::kSqlite, Orders()).DecodeDatabaseNow(row),
            Utc(2024, 3, 1, 8, 0, 0) + milliseconds(250));
  EXPECT_FALSE(Make(Dialect::kMysql, Orders()).DecodeDatabaseNow(SqlRow{std::nullopt}).ok());
}

// ------------------------------------------------------------ decoding

TEST(Decode, UnpaidOrder) {
  OrdersMapping o = Orders();
  o.amount_unit = OrdersMapping::AmountUnit::kYuan;
  o.out_trade_no = "trade_no";
  o.sub_mchid = "sub_mch";
  const SqlMapping m = Make(Dialect::kSqlite, o);
  auto order = m.DecodeOrder("ORD000001", SqlRow{std::string("1"), std::string("12.3"),
                                                 std::string("2024-03-01 08:00:00"),
                                                 std::string("WX0000000001"), std::string("1900000109")});
  ASSERT_TRUE(order.ok()) << order.error().message;
  EXPECT_EQ(order->order_no, "ORD000001");
  EXPECT_EQ(order->out_trade_no, "WX0000000001");
  EXPECT_EQ(order->state, ShopState::kUnpaid);
  EXPECT_EQ(order->raw_status, "1");
  EXPECT_EQ(order->amount_fen, 1230);
  EXPECT_EQ(order->created_at, Utc(2024, 3, 1, 0, 0, 0));
  EXPECT_EQ(order->sub_mchid, "1900000109");

  // An empty sub-merchant column means "the configured one".
  auto no_sub = m.DecodeOrder("ORD000001", SqlRow{std::string("1"), std::string("1"),
                                                  std::string("2024-03-01 08:00:00"),
                                                  std::string("WX0000000001"), std::nullopt});
  ASSERT_TRUE(no_sub.ok());
  EXPECT_EQ(no_sub->sub_mchid, "");
}

TEST(Decode, BadValuesOfAnUnpaidOrderAreBadRows) {
  OrdersMapping o = Orders();
  o.out_trade_no = "trade_no";
  o.sub_mchid = "sub_mch";
  const SqlMapping m = Make(Dialect::kSqlite, o);
  auto row = [](std::optional<std::string> amount, std::optional<std::string> created,
                std::optional<std::string> trade_no, std::optional<std::string> sub) {
    return SqlRow{std::string("1"), amount, created, trade_no, sub};
  };
  const std::string good_time = "2024-03-01 08:00:00";
  struct Case {
    SqlRow row;
    const char* key;
  } cases[] = {
      {row(std::nullopt, good_time, "WX0000000001", std::nullopt), "amount"},
      {row("12.30", good_time, "WX0000000001", std::nullopt), "amount_unit yuan"},
      {row("100", std::nullopt, "WX0000000001", std::nullopt), "created_at"},
      {row("100", "1709251200", "WX0000000001", std::nullopt), "created_at_format"},
      {row("100", good_time, std::nullopt, std::nullopt), "out_trade_no"},
      {row("100", good_time, "WX/../0001", std::nullopt), "out_trade_no"},
      {row("100", good_time, "WX0000000001", "19000001; x"), "sub_mchid"},
  };
  for (const auto& c : cases) {
    auto decoded = m.DecodeOrder("ORD000001", c.row);
    ASSERT_FALSE(decoded.ok()) << c.key;
    EXPECT_EQ(decoded.error().kind, StoreError::Kind::kBadRow);
    EXPECT_NE(decoded.error().message.find(c.key), std::string::npos) << decoded.error().message;
    EXPECT_NE(decoded.error().message.find("ORD000001"), std::string::npos);
  }
  EXPECT_FALSE(m.DecodeOrder("ORD000001", SqlRow{std::string("1")}).ok());
}

TEST(Decode, FinishedOrdersNeedNoAmountOrTime) {
  const SqlMapping m = Make(Dialect::kSqlite, Orders());
  auto paid = m.DecodeOrder("ORD000001", SqlRow{std::string("2"), std::nullopt, std::string("junk")});
  ASSERT_TRUE(paid.ok()) << paid.error().message;
  EXPECT_EQ(paid->state, ShopState::kPaid);
  auto null_status = m.DecodeOrder("ORD000001", SqlRow{std::nullopt, std::string("1"), std::nullopt});
  ASSERT_TRUE(null_status.ok());
  EXPECT_EQ(null_status->state, ShopState::kOther);
  EXPECT_EQ(null_status->raw_status, "NULL");
}

TEST(Decode, StatusIsComparedAsText) {
  OrdersMapping o = Orders();
  o.status_values = {"WAIT_PAY", "PAID", "CLOSED"};
  const SqlMapping m = Make(Dialect::kMysql, o);
  EXPECT_EQ(m.ClassifyStatus("WAIT_PAY"), ShopState::kUnpaid);
  EXPECT_EQ(m.ClassifyStatus("PAID"), ShopState::kPaid);
  EXPECT_EQ(m.ClassifyStatus("CLOSED"), ShopState::kCancelled);
  EXPECT_EQ(m.ClassifyStatus("paid"), ShopState::kOther);
  EXPECT_EQ(m.ClassifyStatus(""), ShopState::kOther);
}

// ------------------------------------------------------------ schema facts

TEST(Schema, ColumnTypes) {
  EXPECT_TRUE(IsIntegerColumnType(Dialect::kSqlite, "INTEGER"));
  EXPECT_TRUE(IsIntegerColumnType(Dialect::kSqlite, "bigint"));
  EXPECT_TRUE(IsIntegerColumnType(Dialect::kSqlite, "TINYINT(4)"));
  EXPECT_FALSE(IsIntegerColumnType(Dialect::kSqlite, "VARCHAR(16)"));
  EXPECT_TRUE(IsIntegerColumnType(Dialect::kMysql, "int(11)"));
  EXPECT_TRUE(IsIntegerColumnType(Dialect::kMysql, "bigint(20) unsigned"));
  EXPECT_TRUE(IsIntegerColumnType(Dialect::kMysql, "tinyint"));
  EXPECT_FALSE(IsIntegerColumnType(Dialect::kMysql, "point"));
  EXPECT_FALSE(IsIntegerColumnType(Dialect::kMysql, "decimal(12,2)"));
  EXPECT_TRUE(IsIntegerColumnType(Dialect::kPostgres, "integer"));
  EXPECT_TRUE(IsIntegerColumnType(Dialect::kPostgres, "smallint"));
  EXPECT_FALSE(IsIntegerColumnType(Dialect::kPostgres, "interval"));
  EXPECT_FALSE(IsIntegerColumnType(Dialect::kPostgres, "character varying"));

  for (const char* t : {"FLOAT", "float", "REAL", "double", "DOUBLE PRECISION", "double precision",
                        "float8", "float(10,2)"}) {
    EXPECT_TRUE(IsFloatingColumnType(t)) << t;
  }
  for (const char* t : {"DECIMAL(12,2)", "numeric", "bigint", "INTEGER"}) {
    EXPECT_FALSE(IsFloatingColumnType(t)) << t;
  }

  EXPECT_TRUE(IsUntypedColumnType(Dialect::kSqlite, ""));
  EXPECT_TRUE(IsUntypedColumnType(Dialect::kSqlite, "BLOB"));
  EXPECT_FALSE(IsUntypedColumnType(Dialect::kSqlite, "TEXT"));
  EXPECT_FALSE(IsUntypedColumnType(Dialect::kSqlite, "INTEGER"));
  EXPECT_FALSE(IsUntypedColumnType(Dialect::kSqlite, "NUMERIC"));
  EXPECT_FALSE(IsUntypedColumnType(Dialect::kMysql, ""));
}

TEST(Schema, DeriveColumnTraits) {
  OrdersMapping o = Orders();
  o.filter = {"channel", {"1"}};
  const std::vector<ColumnInfo> cols = {
      {"NUMBER", "BIGINT"}, {"status", "tinyint(4)"}, {"channel", ""}, {"amount", "int"}};
  const ColumnTraits mysql = DeriveColumnTraits(Dialect::kMysql, o, cols);
  EXPECT_TRUE(mysql.order_no_integer);
  EXPECT_TRUE(mysql.status_integer);
  EXPECT_FALSE(mysql.filter_integer);
  EXPECT_FALSE(mysql.filter_untyped);
  const ColumnTraits sqlite = DeriveColumnTraits(Dialect::kSqlite, o, cols);
  EXPECT_TRUE(sqlite.filter_untyped);
  EXPECT_FALSE(sqlite.status_untyped);
}

DatabaseConfig CheckedConfig() {
  DatabaseConfig db;
  db.orders = Orders();
  db.orders.amount_unit = OrdersMapping::AmountUnit::kYuan;
  db.payments = Payments();
  return db;
}

const std::vector<ColumnInfo> kOrderColumns = {
    {"number", "varchar(32)"}, {"status", "int(11)"}, {"amount", "decimal(12,2)"},
    {"order_time", "datetime"}};
const std::vector<ColumnInfo> kPaymentColumns = {
    {"order_no", "varchar(32)"}, {"transaction_id", "varchar(64)"}, {"trade_state", "varchar(32)"},
    {"amount", "decimal(12,2)"}, {"success_time", "datetime"},      {"content", "text"}};

TEST(Schema, CheckPassesAndNotesTheStatusType) {
  auto report = CheckSchemaColumns(Dialect::kMysql, CheckedConfig(), kOrderColumns, kPaymentColumns);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_FALSE(report->notes.empty());
  EXPECT_NE(report->notes[0].find("bound as integers"), std::string::npos) << report->notes[0];
}

TEST(Schema, CheckReportsEveryProblem) {
  DatabaseConfig db = CheckedConfig();
  db.orders.status_values = {"unpaid", "paid", "cancelled"};
  db.orders.paid_at = "paid_time";
  db.orders.created_at_format = TF::kEpochS;
  std::vector<ColumnInfo> orders = kOrderColumns;
  orders[2].type = "double";
  std::vector<ColumnInfo> payments = kPaymentColumns;
  payments.pop_back();
  auto report = CheckSchemaColumns(Dialect::kMysql, db, orders, payments);
  ASSERT_FALSE(report.ok());
  const std::string& msg = report.error().message;
  for (const char* want :
       {"database.orders.paid_at: column 'paid_time' not found", "(columns: number, status",
        "database.orders.amount: column 'amount' is double", "DECIMAL(12,2)",
        "database.orders.created_at_format", "status_values.unpaid: 'unpaid' is not an integer",
        "database.payments.columns.raw: column 'content' not found"}) {
    EXPECT_NE(msg.find(want), std::string::npos) << want << " in\n" << msg;
  }
}

TEST(Schema, CheckNamesMissingTables) {
  auto orders = CheckSchemaColumns(Dialect::kPostgres, CheckedConfig(), {}, {});
  ASSERT_FALSE(orders.ok());
  EXPECT_NE(orders.error().message.find("database.orders.table: table 'orders' not found"),
            std::string::npos);
  auto payments = CheckSchemaColumns(Dialect::kPostgres, CheckedConfig(), kOrderColumns, {});
  ASSERT_FALSE(payments.ok());
  EXPECT_NE(payments.error().message.find("database.payments.table: table 'payments' not found"),
            std::string::npos);
}

TEST(Schema, CheckRefusesIntegerColumnForDatetimeFormat) {
  std::vector<ColumnInfo> orders = kOrderColumns;
  orders[3].type = "bigint";
  auto report = CheckSchemaColumns(Dialect::kMysql, CheckedConfig(), orders, kPaymentColumns);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.error().message.find("epoch_s or epoch_ms"), std::string::npos);
}

}  // namespace
}  // namespace wxpay
