#include "store/mapping.h"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <set>
#include <utility>

namespace wxpay {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

const date::time_zone* Zone(const void* z) { return static_cast<const date::time_zone*>(z); }

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool AllDigits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<int64_t> ToInt64(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// Reads exactly `n` digits at s[pos].
bool Digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

struct DateTimeParts {
  date::local_time<microseconds> local;
  std::optional<minutes> offset;  // present when the text carried one
};

// "YYYY-MM-DD[ T]HH:MM:SS[.f{1,9}][Z|±HH|±HHMM|±HH:MM]"
std::optional<DateTimeParts> ParseDateTime(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (!Digits(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !Digits(s, 5, 2, mo) ||
      s[7] != '-' || !Digits(s, 8, 2, d) || (s[10] != ' ' && s[10] != 'T') ||
      !Digits(s, 11, 2, h) || s[13] != ':' || !Digits(s, 14, 2, mi) || s[16] != ':' ||
      !Digits(s, 17, 2, sec)) {
    return std::nullopt;
  }
  date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                           date::day{static_cast<unsigned>(d)}};
  // Years outside 1900..2200 are placeholders ('0000-00-00') or garbage, and
  // TimePoint (nanoseconds) cannot hold much more.
  if (y < 1900 || y > 2200 || !ymd.ok() || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  size_t pos = 19;
  int64_t micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (scale > 0) micros += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start || pos - start > 9) return std::nullopt;
  }
  DateTimeParts parts;
  parts.local = date::local_days{ymd} + std::chrono::hours{h} + minutes{mi} + seconds{sec} +
                microseconds{micros};
  if (pos == s.size()) return parts;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    if (pos + 1 != s.size()) return std::nullopt;
    parts.offset = minutes{0};
    return parts;
  }
  if (s[pos] != '+' && s[pos] != '-') return std::nullopt;
  const int sign = s[pos] == '-' ? -1 : 1;
  ++pos;
  int oh = 0, om = 0;
  if (!Digits(s, pos, 2, oh)) return std::nullopt;
  pos += 2;
  if (pos < s.size()) {
    if (s[pos] == ':') ++pos;
    if (!Digits(s, pos, 2, om)) return std::nullopt;
    pos += 2;
  }
  if (pos != s.size() || oh > 23 || om > 59) return std::nullopt;
  parts.offset = minutes{sign * (oh * 60 + om)};
  return parts;
}

std::string FormatLocal(date::local_time<microseconds> local) {
  const auto day = date::floor<date::days>(local);
  const date::year_month_day ymd{day};
  const date::hh_mm_ss<microseconds> tod{local - day};
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()),
                static_cast<int>(tod.seconds().count()));
  std::string out = buf;
  const int64_t us = tod.subseconds().count();
  if (us != 0) {
    if (us % 1000 == 0) {
      std::snprintf(buf, sizeof buf, ".%03lld", static_cast<long long>(us / 1000));
    } else {
      std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(us));
    }
    out += buf;
  }
  return out;
}

StoreError BadRow(std::string message) {
  return StoreError{StoreError::Kind::kBadRow, std::move(message)};
}

const ColumnInfo* FindColumn(const std::vector<ColumnInfo>& cols, std::string_view name) {
  const std::string want = Lower(name);
  for (const auto& c : cols) {
    if (Lower(c.name) == want) return &c;
  }
  return nullptr;
}

bool LooksLikeDateTimeType(std::string_view type) {
  const std::string t = Upper(type);
  return t.find("DATE") != std::string::npos || t.find("TIME") != std::string::npos;
}

bool HasTimeZoneType(std::string_view type) {
  const std::string t = Lower(type);
  return t.find("with time zone") != std::string::npos || t == "timestamptz";
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

}  // namespace

// ------------------------------------------------------------ basics

std::string_view DialectName(Dialect d) {
  switch (d) {
    case Dialect::kSqlite: return "sqlite";
    case Dialect::kMysql: return "mysql";
    case Dialect::kPostgres: return "postgresql";
  }
  return "sqlite";
}

Dialect DialectOf(DatabaseConfig::Driver driver) {
  switch (driver) {
    case DatabaseConfig::Driver::kSqlite: return Dialect::kSqlite;
    case DatabaseConfig::Driver::kMysql: return Dialect::kMysql;
    case DatabaseConfig::Driver::kPostgresql: return Dialect::kPostgres;
  }
  return Dialect::kSqlite;
}

bool IsValidIdentifier(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(name[0])) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

bool IsValidTableName(std::string_view name) {
  const size_t dot = name.find('.');
  if (dot == std::string_view::npos) return IsValidIdentifier(name);
  return IsValidIdentifier(name.substr(0, dot)) && IsValidIdentifier(name.substr(dot + 1));
}

Result<std::string> QuoteColumn(Dialect d, std::string_view name) {
  if (!IsValidIdentifier(name)) {
    return Fail("invalid SQL identifier '" + std::string(name) +
                "': use letters, digits and _ (not starting with a digit)");
  }
  const char q = d == Dialect::kMysql ? '`' : '"';
  return std::string(1, q) + std::string(name) + std::string(1, q);
}

Result<std::string> QuoteTable(Dialect d, std::string_view name) {
  if (!IsValidTableName(name)) {
    return Fail("invalid table name '" + std::string(name) +
                "': use an identifier (letters, digits, _) or schema.table");
  }
  const size_t dot = name.find('.');
  if (dot == std::string_view::npos) return QuoteColumn(d, name);
  return *QuoteColumn(d, name.substr(0, dot)) + "." + *QuoteColumn(d, name.substr(dot + 1));
}

bool IsIntegerLiteral(std::string_view text) {
  std::string_view digits = text;
  if (!digits.empty() && digits[0] == '-') digits.remove_prefix(1);
  if (!AllDigits(digits)) return false;
  // Canonical form only: "007" is not the integer 7 to a VARCHAR column.
  if (digits.size() > 1 && digits[0] == '0') return false;
  if (text[0] == '-' && digits == "0") return false;
  return ToInt64(text).has_value();
}

Result<int64_t> ParseFen(std::string_view text) {
  std::string_view whole = text;
  const size_t dot = text.find('.');
  if (dot != std::string_view::npos) {
    std::string_view frac = text.substr(dot + 1);
    if (frac.empty() || !std::all_of(frac.begin(), frac.end(), [](char c) { return c == '0'; })) {
      return Fail("amount '" + std::string(text) + "' is not a whole number of fen");
    }
    whole = text.substr(0, dot);
  }
  std::string_view digits = whole;
  if (!digits.empty() && digits[0] == '-') digits.remove_prefix(1);
  std::optional<int64_t> v;
  if (AllDigits(digits)) v = ToInt64(whole);
  if (!v) return Fail("amount '" + std::string(text) + "' is not an integer number of fen");
  return *v;
}

Result<int64_t> ParseYuanToFen(std::string_view text) {
  auto bad = [&](std::string why) {
    return Fail("amount '" + std::string(text) + "' is not a yuan amount: " + why);
  };
  std::string_view s = text;
  const bool negative = !s.empty() && s[0] == '-';
  if (negative) s.remove_prefix(1);
  const size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  if (!AllDigits(whole)) return bad("expected digits[.digits]");
  if (dot != std::string_view::npos && !AllDigits(frac)) return bad("expected digits[.digits]");
  if (frac.size() > 2 &&
      !std::all_of(frac.begin() + 2, frac.end(), [](char c) { return c == '0'; })) {
    return bad("more than 2 decimal places");
  }
  auto yuan = ToInt64(whole);
  int64_t fen = 0;
  if (!yuan || __builtin_mul_overflow(*yuan, int64_t{100}, &fen)) return bad("too large");
  int64_t cents = 0;
  if (frac.size() >= 1) cents += (frac[0] - '0') * 10;
  if (frac.size() >= 2) cents += frac[1] - '0';
  if (__builtin_add_overflow(fen, cents, &fen)) return bad("too large");
  return negative ? -fen : fen;
}

std::string FormatFenAsYuan(int64_t fen) {
  const bool negative = fen < 0;
  // Unsigned arithmetic: -INT64_MIN does not fit an int64.
  const uint64_t abs = negative ? 0 - static_cast<uint64_t>(fen) : static_cast<uint64_t>(fen);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%llu.%02llu", negative ? "-" : "",
                static_cast<unsigned long long>(abs / 100),
                static_cast<unsigned long long>(abs % 100));
  return buf;
}

Result<TimePoint> ParseRfc3339(std::string_view text) {
  auto parts = ParseDateTime(text);
  if (!parts || !parts->offset || text.size() < 11 || (text[10] != 'T' && text[10] != 't')) {
    return Fail("'" + std::string(text) + "' is not an RFC 3339 time (2018-06-08T10:34:56+08:00)");
  }
  const auto sys = date::sys_time<microseconds>{parts->local.time_since_epoch()} - *parts->offset;
  return TimePoint{duration_cast<TimePoint::duration>(sys.time_since_epoch())};
}

// ------------------------------------------------------------ TimeCodec

Result<TimeCodec> TimeCodec::Create(OrdersMapping::TimeFormat format, const std::string& zone) {
  try {
    const date::time_zone* tz = date::locate_zone(zone);
    return TimeCodec(format, tz);
  } catch (const std::exception&) {
    return Fail("unknown time zone '" + zone +
                "': use an IANA name such as Asia/Shanghai or UTC (see /usr/share/zoneinfo)");
  }
}

Result<TimePoint> TimeCodec::Decode(std::string_view text) const {
  switch (format_) {
    case OrdersMapping::TimeFormat::kEpochS:
    case OrdersMapping::TimeFormat::kEpochMs: {
      std::string_view digits = text;
      if (!digits.empty() && digits[0] == '-') digits.remove_prefix(1);
      std::optional<int64_t> v;
      if (AllDigits(digits)) v = ToInt64(text);
      const bool in_s = format_ == OrdersMapping::TimeFormat::kEpochS;

      // TimePoint counts nanoseconds: it ends in 2262. Beyond 2200 (8e9 s)
      // the value is in the wrong unit (ms in an epoch_s column) or garbage.
      const int64_t limit = in_s ? 8'000'000'000 : 8'000'000'000'000;
      if (!v || *v > limit || *v < -limit) {
        return Fail("'" + std::string(text) + "' is not an epoch time in " +
                    (in_s ? "seconds" : "milliseconds"));
      }
      return in_s ? TimePoint{seconds{*v}} : TimePoint{milliseconds{*v}};
    }
    case OrdersMapping::TimeFormat::kDatetime: {
      auto parts = ParseDateTime(text);
      if (!parts) {
        return Fail("'" + std::string(text) + "' is not a datetime (YYYY-MM-DD HH:MM:SS)");
      }
      date::sys_time<microseconds> sys;
      if (parts->offset) {
        sys = date::sys_time<microseconds>{parts->local.time_since_epoch()} - *parts->offset;
      } else {
        sys = Zone(zone_)->to_sys(parts->local, date::choose::earliest);
      }
      return TimePoint{duration_cast<TimePoint::duration>(sys.time_since_epoch())};
    }
  }
  return Fail("unknown created_at_format");
}

SqlValue TimeCodec::Encode(TimePoint t) const {
  switch (format_) {
    case OrdersMapping::TimeFormat::kEpochS:
      return SqlValue{int64_t{date::floor<seconds>(t).time_since_epoch().count()}};
    case OrdersMapping::TimeFormat::kEpochMs:
      return SqlValue{int64_t{date::floor<milliseconds>(t).time_since_epoch().count()}};
    case OrdersMapping::TimeFormat::kDatetime:
      break;
  }
  const auto sys = date::floor<microseconds>(t);
  return SqlValue{FormatLocal(Zone(zone_)->to_local(sys))};
}

// ------------------------------------------------------------ schema facts

bool IsIntegerColumnType(Dialect d, std::string_view type) {
  if (d == Dialect::kSqlite) return Upper(type).find("INT") != std::string::npos;  // affinity rule
  std::string t = Lower(type);
  t = t.substr(0, t.find_first_of(" ("));
  static const std::set<std::string> kIntegers = {"tinyint", "smallint", "mediumint", "int",
                                                   "integer", "bigint",   "int2",      "int4",
                                                   "int8",    "serial",   "smallserial", "bigserial"};
  return kIntegers.count(t) > 0;
}

bool IsFloatingColumnType(std::string_view type) {
  const std::string t = Upper(type);
  return t.find("FLOAT") != std::string::npos || t.find("REAL") != std::string::npos ||
         t.find("DOUBLE") != std::string::npos;
}

bool IsUntypedColumnType(Dialect d, std::string_view type) {
  if (d != Dialect::kSqlite) return false;
  // SQLite's affinity rules, in their order: INT, then CHAR/CLOB/TEXT, then BLOB or nothing.
  const std::string t = Upper(type);
  if (t.find("INT") != std::string::npos) return false;
  if (t.find("CHAR") != std::string::npos || t.find("CLOB") != std::string::npos ||
      t.find("TEXT") != std::string::npos) {
    return false;
  }
  return t.empty() || t.find("BLOB") != std::string::npos;
}

ColumnTraits DeriveColumnTraits(Dialect d, const OrdersMapping& orders,
                                const std::vector<ColumnInfo>& order_columns) {
  auto integer = [&](const std::string& name) {
    if (name.empty()) return false;
    const ColumnInfo* c = FindColumn(order_columns, name);
    return c && IsIntegerColumnType(d, c->type);
  };
  auto untyped = [&](const std::string& name) {
    if (name.empty()) return false;
    const ColumnInfo* c = FindColumn(order_columns, name);
    return c && IsUntypedColumnType(d, c->type);
  };
  ColumnTraits t;
  t.order_no_integer = integer(orders.order_no);
  t.status_integer = integer(orders.status);
  t.filter_integer = integer(orders.filter.column);
  t.order_no_untyped = untyped(orders.order_no);
  t.status_untyped = untyped(orders.status);
  t.filter_untyped = untyped(orders.filter.column);
  return t;
}

Result<SchemaReport> CheckSchemaColumns(Dialect d, const DatabaseConfig& db,
                                        const std::vector<ColumnInfo>& order_columns,
                                        const std::vector<ColumnInfo>& payment_columns) {
  std::vector<std::string> errors;
  SchemaReport report;
  const OrdersMapping& o = db.orders;
  if (order_columns.empty()) {
    return Fail("database.orders.table: table '" + o.table +
                "' not found (or not visible to this database user)");
  }
  auto names = [](const std::vector<ColumnInfo>& cols) {
    std::vector<std::string> n;
    for (const auto& c : cols) n.push_back(c.name);
    return Join(n, ", ");
  };
  auto need = [&](const std::string& key, const std::string& column) -> const ColumnInfo* {
    if (column.empty()) return nullptr;
    const ColumnInfo* c = FindColumn(order_columns, column);
    if (!c) {
      errors.push_back("database.orders." + key + ": column '" + column + "' not found in table '" +
                       o.table + "' (columns: " + names(order_columns) + ")");
    }
    return c;
  };
  need("order_no", o.order_no);
  need("out_trade_no", o.out_trade_no);
  need("sub_mchid", o.sub_mchid);
  need("paid_at", o.paid_at);
  need("updated_at", o.updated_at);
  need("filter.column", o.filter.column);
  if (const ColumnInfo* v = need("version", o.version); v && !IsIntegerColumnType(d, v->type)) {
    errors.push_back("database.orders.version: column '" + o.version + "' is " + v->type +
                     ", not an integer type: it is incremented with version + 1");
  }

  if (const ColumnInfo* a = need("amount", o.amount); a && IsFloatingColumnType(a->type)) {
    errors.push_back("database.orders.amount: column '" + o.amount + "' is " + a->type +
                     ": floating-point money is refused (inexact); store money as DECIMAL(12,2) "
                     "(amount_unit: yuan) or integer fen (amount_unit: fen)");
  }

  if (const ColumnInfo* c = need("created_at", o.created_at)) {
    const bool datetime = o.created_at_format == OrdersMapping::TimeFormat::kDatetime;
    if (datetime && IsIntegerColumnType(d, c->type)) {
      errors.push_back("database.orders.created_at_format: column '" + o.created_at + "' is " +
                       c->type + ": set created_at_format to epoch_s or epoch_ms");
    } else if (!datetime && LooksLikeDateTimeType(c->type)) {
      errors.push_back("database.orders.created_at_format: column '" + o.created_at + "' is " +
                       c->type + ": set created_at_format to datetime");
    }
    if (datetime && HasTimeZoneType(c->type)) {
      report.notes.push_back("created_at column '" + o.created_at + "' is " + c->type +
                             ": values are read with their UTC offset");
    }
  }

  if (const ColumnInfo* s = need("status", o.status)) {
    if (IsIntegerColumnType(d, s->type)) {
      for (const auto& [key, value] : {std::pair{"unpaid", o.status_values.unpaid},
                                       std::pair{"paid", o.status_values.paid},
                                       std::pair{"cancelled", o.status_values.cancelled}}) {
        if (!IsIntegerLiteral(value)) {
          errors.push_back(std::string("database.orders.status_values.") + key + ": '" + value +
                           "' is not an integer, but column '" + o.status + "' is " + s->type);
        }
      }
      report.notes.push_back("status column '" + o.status + "' is " + s->type +
                             ": status values are bound as integers");
    } else {
      report.notes.push_back("status column '" + o.status + "' is " +
                             (s->type.empty() ? std::string("untyped") : s->type) +
                             ": status values are bound as text");
    }
  }
  if (!o.filter.column.empty()) {
    const ColumnInfo* f = FindColumn(order_columns, o.filter.column);
    if (f && IsIntegerColumnType(d, f->type)) {
      for (const auto& v : o.filter.values) {
        if (!IsIntegerLiteral(v)) {
          errors.push_back("database.orders.filter.values: '" + v + "' is not an integer, but column '" +
                           o.filter.column + "' is " + f->type);
        }
      }
    }
  }

  const PaymentsMapping& p = db.payments;
  if (!p.table.empty()) {
    if (payment_columns.empty()) {
      errors.push_back("database.payments.table: table '" + p.table +
                       "' not found (or not visible to this database user)");
    } else {
      const PaymentsColumns& pc = p.columns;
      for (const auto& [key, column] :
           {std::pair{"order_no", pc.order_no}, std::pair{"transaction_id", pc.transaction_id},
            std::pair{"trade_state", pc.trade_state}, std::pair{"amount", pc.amount},
            std::pair{"success_time", pc.success_time}, std::pair{"raw", pc.raw}}) {
        if (column.empty()) continue;
        const ColumnInfo* c = FindColumn(payment_columns, column);
        if (!c) {
          errors.push_back(std::string("database.payments.columns.") + key + ": column '" + column +
                           "' not found in table '" + p.table +
                           "' (columns: " + names(payment_columns) + ")");
        } else if (std::string_view(key) == "amount" && IsFloatingColumnType(c->type)) {
          errors.push_back("database.payments.columns.amount: column '" + column + "' is " + c->type +
                           ": floating-point money is refused; store money as DECIMAL(12,2) or "
                           "integer fen");
        }
      }
    }
  }

  if (!errors.empty()) return Fail(Join(errors, "\n"));
  return report;
}

// ------------------------------------------------------------ SqlMapping

class SqlMapping::Builder {
 public:
  explicit Builder(Dialect d) : dialect_(d) {}
  Builder& Sql(std::string_view s) {
    text_ += s;
    return *this;
  }
  Builder& Param(SqlValue v) {
    params_.push_back(std::move(v));
    if (dialect_ == Dialect::kPostgres) {
      text_ += "$" + std::to_string(params_.size());
    } else {
      text_ += "?";
    }
    return *this;
  }
  SqlStatement Done() { return SqlStatement{std::move(text_), std::move(params_)}; }

 private:
  Dialect dialect_;
  std::string text_;
  std::vector<SqlValue> params_;
};

SqlMapping::SqlMapping(Dialect d, OrdersMapping orders, PaymentsMapping payments,
                       ColumnTraits traits, TimeCodec time)
    : dialect_(d),
      orders_(std::move(orders)),
      payments_(std::move(payments)),
      traits_(traits),
      time_(time) {}

Result<SqlMapping> SqlMapping::Create(Dialect d, const OrdersMapping& orders,
                                      const PaymentsMapping& payments, ColumnTraits traits) {
  std::vector<std::string> errors;
  auto column = [&](const std::string& key, const std::string& name, bool required) {
    if (name.empty()) {
      if (required) errors.push_back(key + ": a column name is required");
      return std::string();
    }
    auto q = QuoteColumn(d, name);
    if (!q) {
      errors.push_back(key + ": " + q.error().message);
      return std::string();
    }
    return *q;
  };
  auto table = [&](const std::string& key, const std::string& name) {
    auto q = QuoteTable(d, name);
    if (!q) {
      errors.push_back(key + ": " + q.error().message);
      return std::string();
    }
    return *q;
  };

  std::string q_table = table("database.orders.table", orders.table);
  std::string q_order_no = column("database.orders.order_no", orders.order_no, true);
  std::string q_out_trade_no = column("database.orders.out_trade_no", orders.out_trade_no, false);
  std::string q_status = column("database.orders.status", orders.status, true);
  std::string q_amount = column("database.orders.amount", orders.amount, true);
  std::string q_created_at = column("database.orders.created_at", orders.created_at, true);
  std::string q_filter = column("database.orders.filter.column", orders.filter.column, false);
  std::string q_paid_at = column("database.orders.paid_at", orders.paid_at, false);
  std::string q_updated_at = column("database.orders.updated_at", orders.updated_at, false);
  std::string q_version = column("database.orders.version", orders.version, false);
  std::string q_sub_mchid = column("database.orders.sub_mchid", orders.sub_mchid, false);

  const StatusValues& sv = orders.status_values;
  for (const auto& [key, value] : {std::pair{"unpaid", sv.unpaid}, std::pair{"paid", sv.paid},
                                   std::pair{"cancelled", sv.cancelled}}) {
    if (value.empty()) {
      errors.push_back(std::string("database.orders.status_values.") + key + ": a value is required");
    } else if (traits.status_integer && !IsIntegerLiteral(value)) {
      errors.push_back(std::string("database.orders.status_values.") + key + ": '" + value +
                       "' is not an integer, but column '" + orders.status + "' is an integer column");
    }
  }
  if (!sv.unpaid.empty() &&
      (sv.unpaid == sv.paid || sv.unpaid == sv.cancelled || (!sv.paid.empty() && sv.paid == sv.cancelled))) {
    errors.push_back("database.orders.status_values: unpaid, paid and cancelled must differ");
  }
  if (orders.filter.column.empty() != orders.filter.values.empty()) {
    errors.push_back(
        "database.orders.filter: set both column and values (at least one), or neither");
  }
  if (traits.filter_integer) {
    for (const auto& v : orders.filter.values) {
      if (!IsIntegerLiteral(v)) {
        errors.push_back("database.orders.filter.values: '" + v + "' is not an integer, but column '" +
                         orders.filter.column + "' is an integer column");
      }
    }
  }
  auto codec = TimeCodec::Create(orders.created_at_format, orders.timezone);
  if (!codec) errors.push_back("database.orders.timezone: " + codec.error().message);

  std::string q_pay_table;
  std::vector<std::string> q_pay_columns;
  if (!payments.table.empty()) {
    q_pay_table = table("database.payments.table", payments.table);
    const PaymentsColumns& pc = payments.columns;
    q_pay_columns = {
        column("database.payments.columns.order_no", pc.order_no, true),
        column("database.payments.columns.transaction_id", pc.transaction_id, false),
        column("database.payments.columns.trade_state", pc.trade_state, false),
        column("database.payments.columns.amount", pc.amount, false),
        column("database.payments.columns.success_time", pc.success_time, false),
        column("database.payments.columns.raw", pc.raw, false),
    };
  }
  if (!errors.empty()) return Fail(Join(errors, "\n"));

  SqlMapping m(d, orders, payments, traits, *codec);
  m.q_table_ = std::move(q_table);
  m.q_order_no_ = std::move(q_order_no);
  m.q_out_trade_no_ = std::move(q_out_trade_no);
  m.q_status_ = std::move(q_status);
  m.q_amount_ = std::move(q_amount);
  m.q_created_at_ = std::move(q_created_at);
  m.q_filter_ = std::move(q_filter);
  m.q_paid_at_ = std::move(q_paid_at);
  m.q_updated_at_ = std::move(q_updated_at);
  m.q_version_ = std::move(q_version);
  m.q_sub_mchid_ = std::move(q_sub_mchid);
  m.q_pay_table_ = std::move(q_pay_table);
  m.q_pay_columns_ = std::move(q_pay_columns);
  return m;
}

SqlValue SqlMapping::StatusValue(const std::string& value) const {
  // Create() guarantees integer literals when the column is integer.
  if (traits_.status_integer || (traits_.status_untyped && IsIntegerLiteral(value))) {
    return SqlValue{*ToInt64(value)};
  }
  return SqlValue{value};
}

void SqlMapping::AppendEquals(Builder& b, const std::string& column, std::string_view value,
                              bool integer, bool untyped) const {
  b.Sql(column);
  if (integer) {
    b.Sql(" = ").Param(SqlValue{*ToInt64(value)});
  } else if (untyped && IsIntegerLiteral(value)) {
    b.Sql(" IN (").Param(SqlValue{*ToInt64(value)}).Sql(", ").Param(SqlValue{std::string(value)}).Sql(")");
  } else {
    b.Sql(" = ").Param(SqlValue{std::string(value)});
  }
}

void SqlMapping::AppendFilter(Builder& b) const {
  if (q_filter_.empty()) return;
  b.Sql(" AND ").Sql(q_filter_).Sql(" IN (");
  bool first = true;
  for (const std::string& v : orders_.filter.values) {
    if (!first) b.Sql(", ");
    first = false;
    if (traits_.filter_integer) {
      b.Param(SqlValue{*ToInt64(v)});
    } else if (traits_.filter_untyped && IsIntegerLiteral(v)) {
      b.Param(SqlValue{*ToInt64(v)}).Sql(", ").Param(SqlValue{v});
    } else {
      b.Param(SqlValue{v});
    }
  }
  b.Sql(")");
}

std::optional<SqlStatement> SqlMapping::LoadOrder(std::string_view order_no) const {
  if (traits_.order_no_integer && !IsIntegerLiteral(order_no)) return std::nullopt;
  Builder b(dialect_);
  b.Sql("SELECT ").Sql(q_status_).Sql(", ").Sql(q_amount_).Sql(", ").Sql(q_created_at_);
  if (!q_out_trade_no_.empty()) b.Sql(", ").Sql(q_out_trade_no_);
  if (!q_sub_mchid_.empty()) b.Sql(", ").Sql(q_sub_mchid_);
  b.Sql(" FROM ").Sql(q_table_).Sql(" WHERE ");
  AppendEquals(b, q_order_no_, order_no, traits_.order_no_integer, traits_.order_no_untyped);
  AppendFilter(b);
  return b.Done();
}

ShopState SqlMapping::ClassifyStatus(std::string_view raw) const {
  const StatusValues& sv = orders_.status_values;
  if (raw == sv.unpaid) return ShopState::kUnpaid;
  if (raw == sv.paid) return ShopState::kPaid;
  if (raw == sv.cancelled) return ShopState::kCancelled;
  return ShopState::kOther;
}

StoreResult<ShopOrder> SqlMapping::DecodeOrder(std::string_view order_no, const SqlRow& row) const {
  const size_t expected = 3 + (q_out_trade_no_.empty() ? 0 : 1) + (q_sub_mchid_.empty() ? 0 : 1);
  if (row.size() != expected) {
    return BadRow("order " + std::string(order_no) + ": expected " + std::to_string(expected) +
                  " columns, got " + std::to_string(row.size()));
  }
  ShopOrder order;
  order.order_no = std::string(order_no);
  order.out_trade_no = order.order_no;
  order.raw_status = row[0] ? *row[0] : "NULL";
  order.state = row[0] ? ClassifyStatus(*row[0]) : ShopState::kOther;
  // Amount, time and WeChat Pay references matter only while the order is
  // unpaid; for any other status the decision is "nothing to do", and an odd
  // value in a finished order must not turn that into an error.
  const bool strict = order.state == ShopState::kUnpaid;
  auto where = [&](const std::string& key, const std::string& column) {
    return "order " + order.order_no + ": database.orders." + key + " column '" + column + "' ";
  };

  if (!row[1]) {
    if (strict) return BadRow(where("amount", orders_.amount) + "is NULL");
  } else {
    auto fen = orders_.amount_unit == OrdersMapping::AmountUnit::kYuan ? ParseYuanToFen(*row[1])
                                                                      : ParseFen(*row[1]);
    if (fen) {
      order.amount_fen = *fen;
    } else if (strict) {
      return BadRow(where("amount", orders_.amount) + "holds " + fen.error().message +
                    (orders_.amount_unit == OrdersMapping::AmountUnit::kFen
                         ? " (is amount_unit yuan?)"
                         : ""));
    }
  }

  if (!row[2]) {
    if (strict) return BadRow(where("created_at", orders_.created_at) + "is NULL");
  } else {
    auto t = time_.Decode(*row[2]);
    if (t) {
      order.created_at = *t;
    } else if (strict) {
      return BadRow(where("created_at", orders_.created_at) + "holds " + t.error().message +
                    ": check created_at_format");
    }
  }

  size_t next = 3;
  if (!q_out_trade_no_.empty()) {
    const auto& v = row[next++];
    if (v && IsValidOrderNo(*v)) {
      order.out_trade_no = *v;
    } else if (strict) {
      return BadRow(where("out_trade_no", orders_.out_trade_no) +
                    (v ? "holds '" + *v + "', not a valid out_trade_no (6-32 of [0-9A-Za-z_-|*])"
                       : std::string("is NULL")));
    }
  }
  if (!q_sub_mchid_.empty()) {
    const auto& v = row[next++];
    if (v && !v->empty()) {
      if (AllDigits(*v) && v->size() <= 32) {
        order.sub_mchid = *v;
      } else if (strict) {
        return BadRow(where("sub_mchid", orders_.sub_mchid) + "holds '" + *v +
                      "', not a merchant number (digits)");
      }
    }
  }
  return order;
}

void SqlMapping::AppendUpdateSet(Builder& b, const std::string& new_status, const SqlValue* paid_at,
                                 TimePoint now) const {
  b.Sql("UPDATE ").Sql(q_table_).Sql(" SET ").Sql(q_status_).Sql(" = ").Param(StatusValue(new_status));
  if (paid_at && !q_paid_at_.empty()) b.Sql(", ").Sql(q_paid_at_).Sql(" = ").Param(*paid_at);
  if (!q_updated_at_.empty()) b.Sql(", ").Sql(q_updated_at_).Sql(" = ").Param(time_.Encode(now));
  if (!q_version_.empty()) b.Sql(", ").Sql(q_version_).Sql(" = ").Sql(q_version_).Sql(" + 1");
}

SqlStatement SqlMapping::MarkPaid(const ShopOrder& order, const Trade& trade, TimePoint now) const {
  auto success = ParseRfc3339(trade.success_time);
  const SqlValue paid_at = time_.Encode(success ? *success : now);
  Builder b(dialect_);
  AppendUpdateSet(b, orders_.status_values.paid, &paid_at, now);
  b.Sql(" WHERE ");
  AppendEquals(b, q_order_no_, order.order_no, traits_.order_no_integer, traits_.order_no_untyped);
  b.Sql(" AND ");
  AppendEquals(b, q_status_, orders_.status_values.unpaid, traits_.status_integer,
               traits_.status_untyped);
  AppendFilter(b);
  return b.Done();
}

SqlStatement SqlMapping::MarkCancelled(const ShopOrder& order, TimePoint now) const {
  Builder b(dialect_);
  AppendUpdateSet(b, orders_.status_values.cancelled, nullptr, now);
  b.Sql(" WHERE ");
  AppendEquals(b, q_order_no_, order.order_no, traits_.order_no_integer, traits_.order_no_untyped);
  b.Sql(" AND ");
  AppendEquals(b, q_status_, orders_.status_values.unpaid, traits_.status_integer,
               traits_.status_untyped);
  AppendFilter(b);
  return b.Done();
}

std::optional<SqlStatement> SqlMapping::InsertPayment(const ShopOrder& order, const Trade& trade,
                                                      TimePoint now) const {
  if (q_pay_table_.empty()) return std::nullopt;
  const int64_t fen = trade.amount_total.value_or(order.amount_fen);
  auto success = ParseRfc3339(trade.success_time);
  const std::vector<SqlValue> values = {
      SqlValue{order.order_no},
      SqlValue{trade.transaction_id},
      SqlValue{trade.trade_state},
      orders_.amount_unit == OrdersMapping::AmountUnit::kYuan ? SqlValue{FormatFenAsYuan(fen)}
                                                              : SqlValue{fen},
      time_.Encode(success ? *success : now),
      SqlValue{trade.raw_json},
  };
  Builder b(dialect_);
  b.Sql("INSERT INTO ").Sql(q_pay_table_).Sql(" (");
  bool first = true;
  for (const auto& c : q_pay_columns_) {
    if (c.empty()) continue;
    b.Sql(first ? "" : ", ").Sql(c);
    first = false;
  }
  b.Sql(") VALUES (");
  first = true;
  for (size_t i = 0; i < q_pay_columns_.size(); ++i) {
    if (q_pay_columns_[i].empty()) continue;
    b.Sql(first ? "" : ", ").Param(values[i]);
    first = false;
  }
  b.Sql(")");
  return b.Done();
}

SqlStatement SqlMapping::ReadStatus(const ShopOrder& order) const {
  Builder b(dialect_);
  b.Sql("SELECT ").Sql(q_status_).Sql(" FROM ").Sql(q_table_).Sql(" WHERE ");
  AppendEquals(b, q_order_no_, order.order_no, traits_.order_no_integer, traits_.order_no_untyped);
  return b.Done();
}

Transition SqlMapping::DecodeNotApplied(const std::optional<SqlRow>& row) const {
  Transition t;
  t.applied = false;
  if (!row || row->empty()) {
    t.current = ShopState::kOther;
    t.raw_status = "(order row not found)";
  } else if (!(*row)[0]) {
    t.current = ShopState::kOther;
    t.raw_status = "NULL";
  } else {
    t.raw_status = *(*row)[0];
    t.current = ClassifyStatus(t.raw_status);
  }
  return t;
}

SqlStatement SqlMapping::ListUnpaid(TimePoint created_before, const SweepCursor& after,
                                    int limit) const {
  Builder b(dialect_);
  b.Sql("SELECT ").Sql(q_order_no_).Sql(", ").Sql(q_created_at_).Sql(" FROM ").Sql(q_table_);
  b.Sql(" WHERE ");
  AppendEquals(b, q_status_, orders_.status_values.unpaid, traits_.status_integer,
               traits_.status_untyped);
  AppendFilter(b);
  b.Sql(" AND ").Sql(q_created_at_).Sql(" < ").Param(time_.Encode(created_before));
  if (!after.order_no.empty()) {
    // Written out instead of a row comparison: MySQL uses an index for this
    // form, and every dialect accepts it.
    const SqlValue at = time_.Encode(after.created_at);
    const SqlValue no = traits_.order_no_integer && IsIntegerLiteral(after.order_no)
                            ? SqlValue{*ToInt64(after.order_no)}
                            : SqlValue{after.order_no};
    b.Sql(" AND (").Sql(q_created_at_).Sql(" > ").Param(at);
    b.Sql(" OR (").Sql(q_created_at_).Sql(" = ").Param(at);
    b.Sql(" AND ").Sql(q_order_no_).Sql(" > ").Param(no).Sql("))");
  }
  b.Sql(" ORDER BY ").Sql(q_created_at_).Sql(", ").Sql(q_order_no_).Sql(" LIMIT ");
  b.Param(SqlValue{int64_t{std::max(limit, 1)}});
  return b.Done();
}

StoreResult<SweepItem> SqlMapping::DecodeSweepRow(const SqlRow& row) const {
  if (row.size() != 2 || !row[0]) return BadRow("sweep: a row without an order number");
  auto t = row[1] ? time_.Decode(*row[1]) : Result<TimePoint>(Fail("NULL"));
  if (!t) {
    return BadRow("sweep: order " + *row[0] + ": database.orders.created_at column '" +
                  orders_.created_at + "' holds " + t.error().message);
  }
  return SweepItem{*row[0], *t};
}

SqlStatement SqlMapping::DatabaseNow() const {
  switch (dialect_) {
    case Dialect::kSqlite: return {"SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')", {}};
    case Dialect::kMysql: return {"SELECT CAST(NOW(3) AS CHAR)", {}};
    case Dialect::kPostgres: return {"SELECT CAST(LOCALTIMESTAMP(3) AS TEXT)", {}};
  }
  return {"SELECT 1", {}};
}

StoreResult<TimePoint> SqlMapping::DecodeDatabaseNow(const SqlRow& row) const {
  if (row.size() != 1 || !row[0]) {
    return StoreError{StoreError::Kind::kUnavailable, "database clock: no answer"};
  }
  auto codec = TimeCodec::Create(OrdersMapping::TimeFormat::kDatetime,
                                 dialect_ == Dialect::kSqlite ? "UTC" : orders_.timezone);
  auto t = codec ? codec->Decode(*row[0]) : Result<TimePoint>(codec.error());
  if (!t) {
    return StoreError{StoreError::Kind::kUnavailable, "database clock: " + t.error().message};
  }
  return *t;
}

Status ValidateDatabaseMapping(const DatabaseConfig& db) {
  auto m = SqlMapping::Create(DialectOf(db.driver), db.orders, db.payments);
  if (!m) return m.error();
  return Status::Ok();
}

}  // namespace wxpay
