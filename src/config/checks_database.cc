// Checks of the database section: connection settings per driver and the
// orders/payments mapping (identifiers, status values, filter).
#include <sys/stat.h>

#include <utility>

#include "config/checks.h"

namespace wxpay {
namespace {

bool IsZoneName(const std::string& zone) {
  if (zone.empty() || zone.front() == '/' || zone.find("..") != std::string::npos) return false;
  for (char c : zone) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '/' || c == '_' || c == '-' || c == '+';
    if (!ok) return false;
  }
  return true;
}

// The zone database the date library reads (it is built with USE_OS_TZDB).
bool ZoneExists(const std::string& zone) {
  struct stat st {};
  const std::string path = "/usr/share/zoneinfo/" + zone;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

void ConfigChecker::CheckDatabase() {
  DatabaseConfig& db = config_.database;
  if (Usable("database.driver")) {
    if (db.driver == DatabaseConfig::Driver::kSqlite) {
      if (Usable("database.path")) {
        if (db.path.empty()) {
          Error("database.path", "required when database.driver is sqlite (the shop's database file, e.g. /var/lib/shop/shop.db)");
        } else {
          CheckAbsolute("database.path", db.path);
        }
      }
      if (Usable("database.password_file") && !db.password_file.empty()) {
        Warning("database.password_file", "ignored: sqlite has no passwords");
      }
    } else {
      const std::string driver = db.driver == DatabaseConfig::Driver::kMysql ? "mysql" : "postgresql";
      const std::pair<std::string_view, std::string_view> needed[] = {
          {"database.host", "the database server, e.g. 127.0.0.1"},
          {"database.name", "the shop's database name, e.g. shop"},
          {"database.user", "the user the daemon logs in as"}};
      for (const auto& [key, what] : needed) {
        if (!Usable(key)) continue;
        const std::string& value = key == "database.host" ? db.host : key == "database.name" ? db.name : db.user;
        if (value.empty()) Error(key, "required when database.driver is " + driver + " (" + std::string(what) + ")");
      }
      if (Usable("database.password_file") && !db.password_file.empty()) {
        ReadPassword("database.password_file", db.password_file, db.password);
      }
      if (Usable("database.tls.ca_file") && !db.tls.ca_file.empty()) {
        CheckFile("database.tls.ca_file", db.tls.ca_file, false);
      }
    }
  }

  OrdersMapping& orders = db.orders;
  if (Usable("database.orders.table")) CheckIdentifier("database.orders.table", orders.table, true);
  // Columns: each mapped column at most once, so an update never writes a
  // column it also reads as something else.
  const std::pair<std::string_view, const std::string*> columns[] = {
      {"database.orders.order_no", &orders.order_no},     {"database.orders.status", &orders.status},
      {"database.orders.amount", &orders.amount},         {"database.orders.created_at", &orders.created_at},
      {"database.orders.paid_at", &orders.paid_at},       {"database.orders.updated_at", &orders.updated_at},
      {"database.orders.version", &orders.version},       {"database.orders.sub_mchid", &orders.sub_mchid}};
  for (std::size_t i = 0; i < std::size(columns); ++i) {
    const auto& [key, value] = columns[i];
    if (!Usable(key) || value->empty()) continue;
    CheckIdentifier(key, *value);
    for (std::size_t j = 0; j < i; ++j) {
      if (Usable(columns[j].first) && *columns[j].second == *value) {
        Error(key, "\"" + *value + "\" is already mapped as " + std::string(columns[j].first) + "; each column may be mapped once");
        break;
      }
    }
  }
  if (Usable("database.orders.out_trade_no") && !orders.out_trade_no.empty()) {
    CheckIdentifier("database.orders.out_trade_no", orders.out_trade_no);
  }

  if (Usable("database.orders.timezone")) {
    if (!IsZoneName(orders.timezone)) {
      Error("database.orders.timezone", "\"" + orders.timezone + "\" is not an IANA time zone name (e.g. Asia/Shanghai or UTC)");
    } else if (!ZoneExists(orders.timezone)) {
      Error("database.orders.timezone", "\"" + orders.timezone +
                                            "\" is not in /usr/share/zoneinfo; check the spelling (e.g. Asia/Shanghai) or install tzdata");
    }
  }

  const std::pair<std::string_view, const std::string*> statuses[] = {
      {"database.orders.status_values.unpaid", &orders.status_values.unpaid},
      {"database.orders.status_values.paid", &orders.status_values.paid},
      {"database.orders.status_values.cancelled", &orders.status_values.cancelled}};
  for (std::size_t i = 0; i < std::size(statuses); ++i) {
    const auto& [key, value] = statuses[i];
    if (!Usable(key)) continue;
    if (value->empty()) {
      Error(key, "must not be empty");
      continue;
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (Usable(statuses[j].first) && *statuses[j].second == *value) {
        Error(key, "\"" + *value + "\" is also " + std::string(statuses[j].first) + "; the three status values must differ");
        break;
      }
    }
  }

  const OrderFilter& filter = orders.filter;
  if (UsableAll({"database.orders.filter.column", "database.orders.filter.values"})) {
    if (!filter.column.empty()) {
      CheckIdentifier("database.orders.filter.column", filter.column);
      if (filter.values.empty()) {
        Error("database.orders.filter.values", "required when database.orders.filter.column is set (e.g. [wxpay])");
      }
    } else if (!filter.values.empty()) {
      Error("database.orders.filter.column", "required when database.orders.filter.values is set (the column to filter on)");
    }
  }

  PaymentsMapping& payments = db.payments;
  if (Usable("database.payments.table") && !payments.table.empty()) {
    CheckIdentifier("database.payments.table", payments.table, true);
    const std::pair<std::string_view, const std::string*> payment_columns[] = {
        {"database.payments.columns.order_no", &payments.columns.order_no},
        {"database.payments.columns.transaction_id", &payments.columns.transaction_id},
        {"database.payments.columns.trade_state", &payments.columns.trade_state},
        {"database.payments.columns.amount", &payments.columns.amount},
        {"database.payments.columns.success_time", &payments.columns.success_time},
        {"database.payments.columns.raw", &payments.columns.raw}};
    for (std::size_t i = 0; i < std::size(payment_columns); ++i) {
      const auto& [key, value] = payment_columns[i];
      if (!Usable(key)) continue;
      CheckIdentifier(key, *value);
      for (std::size_t j = 0; j < i; ++j) {
        if (Usable(payment_columns[j].first) && *payment_columns[j].second == *value) {
          Error(key, "\"" + *value + "\" is already mapped as " + std::string(payment_columns[j].first) + "; each column may be mapped once");
          break;
        }
      }
    }
  }
}

}  // namespace wxpay
