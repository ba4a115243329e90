// The one translation of libpq and PostgreSQL errors into StoreError (what
// failed, the server's words, what to do). Pure: it takes the SQLSTATE and
// message libpq reports.
#pragma once

#include <string_view>

#include "core/ports.h"

namespace wxpay {

// True when the error means the session is gone: connection exceptions
// (class 08) and the server terminating it (57P01 pg_terminate_backend or
// shutdown, 57P02 crash, 57P03 not accepting connections yet).
bool PgErrorLosesSession(std::string_view sqlstate);

// `what` names the operation, e.g. "postgresql: UPDATE "orders" SET ...";
// `connection_bad` is PQstatus() == CONNECTION_BAD after the failure (the
// SQLSTATE is empty for errors detected by libpq itself). Connection
// problems, timeouts, lock waits, deadlocks, missing rights or columns are
// kUnavailable; a value the server cannot convert or store (class 22) is kBadRow.
StoreError PgError(std::string_view what, std::string_view sqlstate, std::string_view message,
                   bool connection_bad);

// A failed PQconnectdbParams: kUnavailable, with advice picked from libpq's
// message (credentials, TLS, database name, reachability).
StoreError PgConnectError(std::string_view what, std::string_view message);

}  // namespace wxpay
