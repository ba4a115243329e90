#include "store/mysql_error.h"

#include <errmsg.h>
#include <mysqld_error.h>

#include <string>

namespace wxpay {
namespace {

// Not in every mysqld_error.h: MySQL 8's max_execution_time and MariaDB's
// wait_timeout disconnect notice.
constexpr unsigned int kMysqlQueryTimeout = 3024;
constexpr unsigned int kClientInteractionTimeout = 4031;

std::string_view Advice(unsigned int code) {
  switch (code) {
    case ER_LOCK_WAIT_TIMEOUT:
      return "a row lock held by another session outlasted database.timeout; retried later";
    case ER_LOCK_DEADLOCK:
      return "deadlock with another transaction (rolled back); retried later";
    case ER_STATEMENT_TIMEOUT:
    case kMysqlQueryTimeout:
    case ER_QUERY_INTERRUPTED:
      return "the statement ran longer than database.timeout; retried later";
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_UNKNOWN_HOST:
      return "cannot reach the server: check database.host and database.port and that the "
             "server is running; retried later";
    case CR_SSL_CONNECTION_ERROR:
      return "TLS failed: check database.tls (mode, ca_file) against the server's TLS setup";
    case ER_ACCESS_DENIED_ERROR:
      return "check database.user and database.password_file";
    case ER_BAD_DB_ERROR:
      return "check database.name";
    case ER_DBACCESS_DENIED_ERROR:
    case ER_TABLEACCESS_DENIED_ERROR:
    case ER_COLUMNACCESS_DENIED_ERROR:
      return "grant the database user SELECT and UPDATE on the orders table (and INSERT on the "
             "payments table)";
    case ER_BAD_FIELD_ERROR:
    case ER_NO_SUCH_TABLE:
      return "check database.orders and database.payments against the schema "
             "(`check-config --connect` lists every problem)";
    case ER_CON_COUNT_ERROR:
    case ER_TOO_MANY_USER_CONNECTIONS:
      return "the server refuses more connections (max_connections); lower policy.concurrency "
             "or raise the server's limit; retried later";
    case ER_OPTION_PREVENTS_STATEMENT:
    case ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION:
      return "the server is read-only (a replica?): point database.host at the primary";
    case ER_DUP_ENTRY:
      return "a unique key refused the row (a payment row for this transaction already exists?); "
             "nothing was changed";
    default:
      break;
  }
  if (MysqlErrorLosesSession(code)) {
    return "the connection was lost (server restarted, or the session was killed); a new one is "
           "opened on the next call";
  }
  return "retried later";
}

bool IsBadValue(unsigned int code) {
  switch (code) {
    case ER_WARN_DATA_OUT_OF_RANGE:
    case ER_TRUNCATED_WRONG_VALUE:
    case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD:
    case ER_DATA_TOO_LONG:
    case WARN_DATA_TRUNCATED:
    case ER_BAD_NULL_ERROR:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool MysqlErrorLosesSession(unsigned int code) {
  if (code >= CR_MIN_ERROR && code <= CR_MAX_ERROR) return true;    // client library
  if (code >= CER_MIN_ERROR && code <= CER_MAX_ERROR) return true;  // MariaDB client library
  switch (code) {
    case ER_SERVER_SHUTDOWN:
    case ER_CONNECTION_KILLED:
    case ER_ABORTING_CONNECTION:
    case ER_NEW_ABORTING_CONNECTION:
    case ER_NET_READ_ERROR:
    case ER_NET_READ_INTERRUPTED:
    case ER_NET_ERROR_ON_WRITE:
    case ER_NET_WRITE_INTERRUPTED:
    case kClientInteractionTimeout:
      return true;
    default:
      return false;
  }
}

StoreError MysqlConnectError(std::string_view what, unsigned int code, std::string_view sqlstate,
                             std::string_view message) {
  StoreError e = MysqlError(what, code, sqlstate, message);
  if (MysqlErrorLosesSession(code) && Advice(code) == Advice(CR_SERVER_LOST)) {
    e.message.resize(e.message.size() - Advice(code).size());
    e.message += "the server did not complete the handshake: check that database.host and "
                 "database.port name a MariaDB/MySQL server, database.tls, and the server's "
                 "max_connections; retried later";
  }
  return e;
}

StoreError MysqlError(std::string_view what, unsigned int code, std::string_view sqlstate,
                      std::string_view message) {
  std::string text(what);
  text += " failed: ";
  text += message.empty() ? std::string_view("(no message)") : message;
  text += " (error " + std::to_string(code);
  if (!sqlstate.empty()) {
    text += ", SQLSTATE ";
    text += sqlstate;
  }
  text += "); ";
  text += Advice(code);
  return StoreError{IsBadValue(code) ? StoreError::Kind::kBadRow : StoreError::Kind::kUnavailable,
                    std::move(text)};
}

}  // namespace wxpay
