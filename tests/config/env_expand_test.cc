#include "config/env_expand.h"

#include <gtest/gtest.h>

#include "config/test_support.h"

namespace wxpay {
namespace {

using testing::MapEnv;

std::string Expanded(std::string_view text, const EnvLookup& env) {
  Result<std::string> result = ExpandEnv(text, env);
  return result.ok() ? *result : "ERROR: " + result.error().message;
}

TEST(EnvExpand, ReplacesVariablesAnywhereInTheText) {
  const EnvLookup env = MapEnv({{"CREDENTIALS_DIRECTORY", "/run/credentials/x.service"}, {"A", "1"}, {"EMPTY", ""}});
  EXPECT_EQ(Expanded("${CREDENTIALS_DIRECTORY}/apiclient_key.pem", env), "/run/credentials/x.service/apiclient_key.pem");
  EXPECT_EQ(Expanded("a${A}b${A}c", env), "a1b1c");
  EXPECT_EQ(Expanded("${EMPTY}", env), "");
  EXPECT_EQ(Expanded("no variables", env), "no variables");
}

TEST(EnvExpand, DollarWithoutBraceAndEscapesStayLiteral) {
  const EnvLookup env = MapEnv({{"A", "1"}});
  EXPECT_EQ(Expanded("pa$$word$", env), "pa$$word$");
  EXPECT_EQ(Expanded("$${A}", env), "${A}");
  EXPECT_EQ(Expanded("x$${A}${A}", env), "x${A}1");
}

TEST(EnvExpand, ValuesAreNotExpandedAgain) {
  const EnvLookup env = MapEnv({{"A", "${B}"}, {"B", "no"}});
  EXPECT_EQ(Expanded("${A}", env), "${B}");
}

TEST(EnvExpand, UnsetVariableIsAnErrorNamingIt) {
  const EnvLookup env = MapEnv({});
  EXPECT_EQ(Expanded("x${NOPE}y", env), "ERROR: environment variable NOPE is not set");
  EXPECT_EQ(Expanded("${CREDENTIALS_DIRECTORY}/k.pem", env),
            "ERROR: environment variable CREDENTIALS_DIRECTORY is not set (systemd sets it when the unit has "
            "LoadCredential=)");
  EXPECT_EQ(Expanded("${STATE_DIRECTORY}", env),
            "ERROR: environment variable STATE_DIRECTORY is not set (systemd sets it when the unit has StateDirectory=)");
}

TEST(EnvExpand, MalformedReferences) {
  const EnvLookup env = MapEnv({{"A", "1"}});
  EXPECT_EQ(Expanded("${A", env), "ERROR: \"${\" without a closing \"}\" (write $${ for a literal ${)");
  EXPECT_EQ(Expanded("${}", env),
            "ERROR: \"${}\" is not a variable reference (names are letters, digits and _, not starting with a "
            "digit; write $${ for a literal ${)");
  EXPECT_EQ(Expanded("${1A}", env),
            "ERROR: \"${1A}\" is not a variable reference (names are letters, digits and _, not starting with a "
            "digit; write $${ for a literal ${)");
  EXPECT_EQ(Expanded("${A-B}", env),
            "ERROR: \"${A-B}\" is not a variable reference (names are letters, digits and _, not starting with a "
            "digit; write $${ for a literal ${)");
}

}  // namespace
}  // namespace wxpay
