core_SRCS := \
  src/core/order.cc \
  src/core/host.cc \
  src/core/trade.cc \
  src/core/text.cc \
  src/core/retry.cc \
  src/core/message.cc \
  src/core/decision.cc \
  src/core/trade_check.cc \
  src/core/not_found_breaker.cc \
  src/core/wechat_breaker.cc \
  src/core/engine.cc
$(eval $(call module,core))

$(eval $(call test_binary,core_unit,\
  tests/core/order_test.cc \
  tests/core/host_test.cc \
  tests/core/retry_test.cc \
  tests/core/message_test.cc \
  tests/core/breaker_test.cc \
  tests/core/trade_check_test.cc \
  tests/core/decision_test.cc \
  tests/core/engine_table_test.cc \
  tests/core/engine_close_test.cc \
  tests/core/engine_policy_test.cc,\
  core))
