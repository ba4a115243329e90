// The one translation of MariaDB/MySQL client and server errors into
// StoreError (what failed, the server's words, what to do). Pure: it takes the
// error number, SQLSTATE and message that libmariadb reports.
#pragma once

#include <string_view>

#include "core/ports.h"

namespace wxpay {

// True when the error means the session itself is gone or cannot be trusted
// (connection lost, killed, server shutting down, any client-side error): the
// connection must be closed, and an open transaction was rolled back.
bool MysqlErrorLosesSession(unsigned int code);

// `what` names the operation, e.g. "mysql: UPDATE `orders` SET ...".
// Connection problems, timeouts, lock waits, deadlocks, missing rights or
// columns are kUnavailable (retry later, never ack); a value the server cannot
// store or convert is kBadRow.
StoreError MysqlError(std::string_view what, unsigned int code, std::string_view sqlstate,
                      std::string_view message);

// The same for a failed mysql_real_connect: a session lost during the
// handshake gets advice about the address and TLS instead of "reconnecting".
StoreError MysqlConnectError(std::string_view what, unsigned int code, std::string_view sqlstate,
                             std::string_view message);

}  // namespace wxpay
