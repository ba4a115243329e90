core_SRCS := \
  src/core/order.cc \
  src/core/trade.cc
$(eval $(call module,core))

$(eval $(call test_binary,core_unit,\
  tests/core/order_test.cc,\
  core))
