ops_SRCS := \
  src/ops/log.cc \
  src/ops/notifier.cc \
  src/ops/sd_notifier.cc \
  src/ops/recording_notifier.cc \
  src/ops/health.cc \
  src/ops/metrics.cc \
  src/ops/atomic_file.cc \
  src/ops/metrics_textfile.cc
$(eval $(call module,ops))

# tests/ops/notify_receiver.cc is a test helper (a fake NOTIFY_SOCKET);
# tests/ops/notify_datagram.cc reads its datagrams. Other test binaries that
# check notifications may list them too.
$(eval $(call test_binary,ops_unit,\
  tests/ops/log_test.cc \
  tests/ops/notifier_test.cc \
  tests/ops/sd_notifier_test.cc \
  tests/ops/notify_receiver.cc \
  tests/ops/notify_datagram.cc \
  tests/ops/health_test.cc \
  tests/ops/metrics_test.cc \
  tests/ops/atomic_file_test.cc,\
  ops core))
