ops_SRCS := \
  src/ops/log.cc
$(eval $(call module,ops))

$(eval $(call test_binary,ops_unit,\
  tests/ops/log_test.cc,\
  ops))
