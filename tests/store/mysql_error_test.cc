// MysqlError: the one translation of libmariadb errors.
#include "store/mysql_error.h"

#include <errmsg.h>
#include <gtest/gtest.h>
#include <mysqld_error.h>

namespace wxpay {
namespace {

TEST(MysqlErrorTest, LockWaitTimeoutIsUnavailableAndSaysWhy) {
  StoreError e = MysqlError("mysql: UPDATE `orders` SET", ER_LOCK_WAIT_TIMEOUT, "HY000",
                            "Lock wait timeout exceeded; try restarting transaction");
  EXPECT_EQ(e.kind, StoreError::Kind::kUnavailable);
  EXPECT_EQ(e.message,
            "mysql: UPDATE `orders` SET failed: Lock wait timeout exceeded; try restarting "
            "transaction (error 1205, SQLSTATE HY000); a row lock held by another session "
            "outlasted database.timeout; retried later");
  EXPECT_FALSE(MysqlErrorLosesSession(ER_LOCK_WAIT_TIMEOUT));
}

TEST(MysqlErrorTest, LostOrKilledSessionsAreDetected) {
  for (unsigned int code : {unsigned{CR_SERVER_GONE_ERROR}, unsigned{CR_SERVER_LOST}, unsigned{ER_CONNECTION_KILLED},
                            unsigned{ER_SERVER_SHUTDOWN}, unsigned{CR_ERR_NET_READ}, 4031u}) {
    EXPECT_TRUE(MysqlErrorLosesSession(code)) << code;
    StoreError e = MysqlError("mysql: SELECT", code, "HY000", "gone");
    EXPECT_EQ(e.kind, StoreError::Kind::kUnavailable) << code;
    EXPECT_NE(e.message.find("connection was lost"), std::string::npos) << e.message;
  }
  for (unsigned int code : {unsigned{ER_LOCK_DEADLOCK}, unsigned{ER_DUP_ENTRY},
                            unsigned{ER_BAD_FIELD_ERROR}, unsigned{ER_TRUNCATED_WRONG_VALUE}}) {
    EXPECT_FALSE(MysqlErrorLosesSession(code)) << code;
  }
}

TEST(MysqlErrorTest, ConnectionAndCredentialProblemsNameTheConfigKeys) {
  EXPECT_NE(MysqlError("mysql: connecting", CR_CONN_HOST_ERROR, "HY000", "refused")
                .message.find("database.host"),
            std::string::npos);
  EXPECT_NE(MysqlError("mysql: connecting", ER_ACCESS_DENIED_ERROR, "28000",
                       "Access denied for user 'shop'@'10.0.0.1' (using password: YES)")
                .message.find("database.password_file"),
            std::string::npos);
  EXPECT_NE(MysqlError("mysql: connecting", ER_BAD_DB_ERROR, "42000", "Unknown database 'x'")
                .message.find("database.name"),
            std::string::npos);
  EXPECT_NE(MysqlError("mysql: connecting", CR_SSL_CONNECTION_ERROR, "HY000", "TLS/SSL error")
                .message.find("database.tls"),
            std::string::npos);
  EXPECT_NE(MysqlError("mysql: SELECT", ER_BAD_FIELD_ERROR, "42S22", "Unknown column 'x'")
                .message.find("check-config --connect"),
            std::string::npos);
}

TEST(MysqlErrorTest, ValuesTheServerCannotStoreAreBadRows) {
  for (unsigned int code : {unsigned{ER_TRUNCATED_WRONG_VALUE}, unsigned{ER_DATA_TOO_LONG},
                            unsigned{ER_WARN_DATA_OUT_OF_RANGE}, unsigned{ER_BAD_NULL_ERROR}}) {
    EXPECT_EQ(MysqlError("mysql: INSERT", code, "22007", "bad").kind, StoreError::Kind::kBadRow)
        << code;
  }
  EXPECT_EQ(MysqlError("mysql: INSERT", ER_DUP_ENTRY, "23000", "Duplicate entry").kind,
            StoreError::Kind::kUnavailable);
}

TEST(MysqlErrorTest, EmptyMessageAndSqlstateStillReadWell) {
  EXPECT_EQ(MysqlError("mysql: COMMIT", 9999, "", "").message,
            "mysql: COMMIT failed: (no message) (error 9999); retried later");
}

TEST(MysqlErrorTest, HandshakeLossWhileConnectingPointsAtTheAddress) {
  StoreError e = MysqlConnectError("mysql: connecting to u@db:3306/shop", CR_SERVER_LOST, "HY000",
                                   "Lost connection to server at 'handshake: reading initial "
                                   "communication packet', system error: 110");
  EXPECT_EQ(e.kind, StoreError::Kind::kUnavailable);
  EXPECT_NE(e.message.find("database.port"), std::string::npos) << e.message;
  EXPECT_EQ(e.message.find("connection was lost"), std::string::npos) << e.message;
  // Other connect errors keep their own advice.
  EXPECT_NE(MysqlConnectError("c", ER_ACCESS_DENIED_ERROR, "28000", "denied")
                .message.find("database.password_file"),
            std::string::npos);
}

}  // namespace
}  // namespace wxpay
