# The daemon as a service (issue 5): the real binary under a fake service
# manager (sd_notify, watchdog, reload, stop), start-up waits and exit codes,
# journald logging, the metrics textfile, and `make install`. Needs what
# daemon_it needs: RabbitMQ, the WeChat Pay simulator and WXPAY_TEST_BIN.
$(eval $(call test_binary,service_it,\
  tests/service/notify_log.cc \
  tests/ops/notify_datagram.cc \
  tests/service/thread_freezer.cc \
  tests/service/service_fixture.cc \
  tests/service/notify_sequence_it_test.cc \
  tests/service/watchdog_it_test.cc \
  tests/service/startup_it_test.cc \
  tests/service/logging_it_test.cc \
  tests/service/metrics_it_test.cc \
  tests/service/install_it_test.cc \
  tests/daemon/it_support.cc \
  tests/broker/rabbit_fixture.cc \
  tests/wechatpay/sim_fixture.cc \
  tests/wechatpay/test_data.cc,\
  broker wechatpay config ops core))
