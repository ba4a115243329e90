#include "store/pg_error.h"

#include <string>

namespace wxpay {
namespace {

std::string_view Advice(std::string_view sqlstate, bool lost) {
  if (sqlstate == "55P03") {
    return "a row lock held by another session outlasted database.timeout (lock_timeout); "
           "retried later";
  }
  if (sqlstate == "57014") {
    return "the statement ran longer than database.timeout (statement_timeout); retried later";
  }
  if (sqlstate == "40P01") return "deadlock with another transaction (rolled back); retried later";
  if (sqlstate == "40001") return "serialization failure (rolled back); retried later";
  if (sqlstate == "28P01" || sqlstate == "28000") {
    return "check database.user and database.password_file, and the server's pg_hba.conf";
  }
  if (sqlstate == "3D000") return "check database.name";
  if (sqlstate == "42501") {
    return "grant the database user SELECT and UPDATE on the orders table (and INSERT on the "
           "payments table)";
  }
  if (sqlstate == "42703" || sqlstate == "42P01") {
    return "check database.orders and database.payments against the schema "
           "(`check-config --connect` lists every problem)";
  }
  if (sqlstate == "53300") {
    return "the server refuses more connections (max_connections); lower policy.concurrency or "
           "raise the server's limit; retried later";
  }
  if (sqlstate == "25006") {
    return "the server is read-only (a standby?): point database.host at the primary";
  }
  if (sqlstate == "23505") {
    return "a unique key refused the row (a payment row for this transaction already exists?); "
           "nothing was changed";
  }
  if (sqlstate == "0A000") {
    return "the schema changed under a prepared statement; the connection is reopened";
  }
  if (sqlstate == "57P03") return "the server is starting or shutting down; retried later";
  if (lost) {
    return "the connection was lost (server restarted or the session was terminated); a new one "
           "is opened on the next call";
  }
  return "retried later";
}

// libpq reports connection failures as text only (no SQLSTATE); its own
// messages are English, the server's follow its lc_messages, hence the
// fallback that names everything worth checking.
std::string_view ConnectAdvice(std::string_view message) {
  auto has = [&](std::string_view needle) { return message.find(needle) != std::string_view::npos; };
  if (has("password") || has("authentication") || has("pg_hba.conf")) {
    return "check database.user and database.password_file, and the server's pg_hba.conf";
  }
  if (has("SSL") || has("certificate")) {
    return "TLS failed: check database.tls (mode, ca_file) against the server's ssl settings";
  }
  if (has("database \"") && has("does not exist")) return "check database.name";
  if (has("Connection refused") || has("could not translate host name") || has("timeout expired") ||
      has("No route to host") || has("Network is unreachable")) {
    return "cannot reach the server: check database.host and database.port and that PostgreSQL "
           "is running; retried later";
  }
  return "check database.host, database.port, database.tls, database.user and "
         "database.password_file; retried later";
}

// libpq's messages end with a newline and may span lines ("DETAIL: ...").
std::string OneLine(std::string_view message) {
  std::string out;
  for (char c : message) {
    if (c == '\n' || c == '\r') {
      if (!out.empty() && out.back() != ' ') out += "; ";
    } else if (c == '\t' || c == ' ') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return out;
}

}  // namespace

bool PgErrorLosesSession(std::string_view sqlstate) {
  return sqlstate.substr(0, 2) == "08" || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03";
}

StoreError PgConnectError(std::string_view what, std::string_view message) {
  std::string text(what);
  text += " failed: ";
  const std::string line = OneLine(message);
  text += line.empty() ? std::string("(no message)") : line;
  text += "; ";
  text += ConnectAdvice(message);
  return StoreError{StoreError::Kind::kUnavailable, std::move(text)};
}

StoreError PgError(std::string_view what, std::string_view sqlstate, std::string_view message,
                   bool connection_bad) {
  const bool lost = connection_bad || PgErrorLosesSession(sqlstate);
  std::string text(what);
  text += " failed: ";
  const std::string line = OneLine(message);
  text += line.empty() ? std::string("(no message)") : line;
  if (!sqlstate.empty()) {
    text += " (SQLSTATE ";
    text += sqlstate;
    text += ")";
  }
  text += "; ";
  text += Advice(sqlstate, lost);
  const bool bad_value = sqlstate.substr(0, 2) == "22" || sqlstate == "23502";
  return StoreError{bad_value ? StoreError::Kind::kBadRow : StoreError::Kind::kUnavailable,
                    std::move(text)};
}

}  // namespace wxpay
