# The daemon: the broker thread's delivery loop, worker pool, sweeper and
# its schedule, start-up waits, signals and the main loop.
daemon_SRCS := \
  src/daemon/sweeper.cc \
  src/daemon/order_claims.cc \
  src/daemon/worker_pool.cc \
  src/daemon/metered_gateway.cc \
  src/daemon/follow_ups.cc \
  src/daemon/delivery_loop.cc \
  src/daemon/sweep_scheduler.cc \
  src/daemon/signals.cc \
  src/daemon/startup.cc \
  src/daemon/daemon.cc \
  src/daemon/daemon_config.cc
$(eval $(call module,daemon))

$(eval $(call test_binary,daemon_unit,\
  tests/daemon/delivery_loop_test.cc \
  tests/daemon/daemon_test.cc \
  tests/daemon/sweep_lock_test.cc,\
  daemon broker store config ops core))

# The real binary end to end: RabbitMQ, SQLite and the WeChat Pay simulator.
$(eval $(call test_binary,daemon_it,\
  tests/daemon/it_support.cc \
  tests/daemon/daemon_it_fixture.cc \
  tests/daemon/daemon_it_test.cc \
  tests/broker/rabbit_fixture.cc \
  tests/wechatpay/sim_fixture.cc \
  tests/wechatpay/test_data.cc,\
  daemon broker store wechatpay config ops core))

# The daemon under load and faults: a mixed batch on two processes through a
# broker restart and a SIGKILL, reschedule timing, dead letters, heartbeats.
$(eval $(call test_binary,daemon_batch_it,\
  tests/daemon/it_support.cc \
  tests/daemon/daemon_it_fixture.cc \
  tests/daemon/daemon_batch_it_test.cc \
  tests/broker/rabbit_fixture.cc \
  tests/wechatpay/sim_fixture.cc \
  tests/wechatpay/test_data.cc,\
  daemon broker store wechatpay config ops core))
