// PgError / PgConnectError: the one translation of libpq errors.
#include "store/pg_error.h"

#include <gtest/gtest.h>

namespace wxpay {
namespace {

TEST(PgErrorTest, LockTimeoutIsUnavailableAndSaysWhy) {
  StoreError e = PgError("postgresql: UPDATE \"orders\" SET", "55P03",
                         "canceling statement due to lock timeout", false);
  EXPECT_EQ(e.kind, StoreError::Kind::kUnavailable);
  EXPECT_EQ(e.message,
            "postgresql: UPDATE \"orders\" SET failed: canceling statement due to lock timeout "
            "(SQLSTATE 55P03); a row lock held by another session outlasted database.timeout "
            "(lock_timeout); retried later");
  EXPECT_FALSE(PgErrorLosesSession("55P03"));
}

TEST(PgErrorTest, StatementTimeoutAndDeadlockAreUnavailable) {
  EXPECT_NE(PgError("q", "57014", "canceling statement due to statement timeout", false)
                .message.find("statement_timeout"),
            std::string::npos);
  EXPECT_EQ(PgError("q", "40P01", "deadlock detected", false).kind,
            StoreError::Kind::kUnavailable);
}

TEST(PgErrorTest, TerminatedAndBrokenSessionsAreLost) {
  for (const char* state : {"57P01", "57P02", "57P03", "08006", "08003", "08P01"}) {
    EXPECT_TRUE(PgErrorLosesSession(state)) << state;
  }
  EXPECT_FALSE(PgErrorLosesSession(""));
  EXPECT_FALSE(PgErrorLosesSession("23505"));
  StoreError e = PgError("postgresql: SELECT", "", "server closed the connection unexpectedly\n"
                         "\tThis probably means the server terminated abnormally\n", true);
  EXPECT_EQ(e.kind, StoreError::Kind::kUnavailable);
  EXPECT_EQ(e.message.find('\n'), std::string::npos) << e.message;
  EXPECT_EQ(e.message.find('\t'), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("connection was lost"), std::string::npos) << e.message;
}

TEST(PgErrorTest, ConversionErrorsAreBadRows) {
  EXPECT_EQ(PgError("q", "22P02", "invalid input syntax for type bigint", false).kind,
            StoreError::Kind::kBadRow);
  EXPECT_EQ(PgError("q", "22001", "value too long for type character varying(32)", false).kind,
            StoreError::Kind::kBadRow);
  EXPECT_EQ(PgError("q", "42703", "column \"x\" does not exist", false).kind,
            StoreError::Kind::kUnavailable);
}

TEST(PgErrorTest, ConnectFailuresNameTheConfigKeysToCheck) {
  auto advice = [](const char* message) {
    return PgConnectError("postgresql: connecting to shop@db:5432/shop", message).message;
  };
  EXPECT_NE(advice("connection to server at \"db\" (10.0.0.5), port 5432 failed: FATAL:  password "
                   "authentication failed for user \"shop\"\n")
                .find("database.password_file"),
            std::string::npos);
  EXPECT_NE(advice("connection to server at \"db\", port 5432 failed: Connection refused\n\tIs the "
                   "server running on that host and accepting TCP/IP connections?\n")
                .find("database.host"),
            std::string::npos);
  EXPECT_NE(advice("connection to server at \"db\", port 5432 failed: server does not support SSL, "
                   "but SSL was required\n")
                .find("database.tls"),
            std::string::npos);
  EXPECT_NE(advice("connection to server failed: FATAL:  database \"shopx\" does not exist\n")
                .find("database.name"),
            std::string::npos);
  EXPECT_EQ(PgConnectError("w", "x").kind, StoreError::Kind::kUnavailable);
}

}  // namespace
}  // namespace wxpay
