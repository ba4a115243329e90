cli_SRCS := \
  src/cli/args.cc \
  src/cli/commands.cc \
  src/cli/wiring.cc \
  src/cli/broker_commands.cc \
  src/cli/run_command.cc
$(eval $(call module,cli))

$(eval $(call test_binary,cli_unit,\
  tests/cli/args_test.cc,\
  cli config core))

# Acceptance tests of the one-shot commands: the real binary ($WXPAY_TEST_BIN)
# against the WeChat Pay simulator and real databases (scripts/run-tests.sh).
cli_IT_SUPPORT := \
  tests/cli/cli_runner.cc \
  tests/cli/cli_config.cc \
  tests/cli/sim_control.cc \
  tests/wechatpay/sim_fixture.cc \
  tests/wechatpay/test_data.cc

# The shop's database on SQLite, MariaDB or PostgreSQL (tests/cli/shop_db.h).
cli_SHOP_DB := \
  tests/cli/db_sessions.cc \
  tests/store/server_sessions.cc \
  tests/cli/shop_db.cc \
  tests/store/conformance.cc

$(eval $(call test_binary,cli_query_it,\
  $(cli_IT_SUPPORT) \
  tests/cli/query_it.cc,\
  wechatpay ops core))

$(eval $(call test_binary,cli_config_it,\
  $(cli_IT_SUPPORT) \
  $(cli_SHOP_DB) \
  tests/cli/config_it.cc,\
  store wechatpay config ops core))

$(eval $(call test_binary,cli_reconcile_it,\
  $(cli_IT_SUPPORT) \
  $(cli_SHOP_DB) \
  tests/cli/shop_fixture.cc \
  tests/cli/reconcile_it.cc,\
  store wechatpay config ops core))

$(eval $(call test_binary,cli_sweep_it,\
  $(cli_IT_SUPPORT) \
  $(cli_SHOP_DB) \
  tests/cli/shop_fixture.cc \
  tests/cli/sweep_it.cc,\
  store wechatpay config ops core))
