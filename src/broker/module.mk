# RabbitMQ adapter (librabbitmq-c 0.11): connection, session with one frame
# dispatcher, publisher confirms, topology, reconnect. Pure parts are unit
# tested; the rest runs against a real broker (scripts/start-rabbitmq.sh).
# Depends on config for the one parser of rabbitmq.url (config/url.h).
broker_SRCS := \
  src/broker/amqp_connection.cc \
  src/broker/amqp_endpoint.cc \
  src/broker/amqp_error.cc \
  src/broker/amqp_table.cc \
  src/broker/backoff.cc \
  src/broker/broker_session.cc \
  src/broker/delay_tiers.cc \
  src/broker/field_table.cc \
  src/broker/follow_up.cc \
  src/broker/message.cc \
  src/broker/publish_tracker.cc \
  src/broker/queue_reader.cc \
  src/broker/reconnecting_broker.cc \
  src/broker/topology.cc
$(eval $(call module,broker))

$(eval $(call test_binary,broker_unit,\
  tests/broker/amqp_endpoint_test.cc \
  tests/broker/amqp_table_test.cc \
  tests/broker/backoff_test.cc \
  tests/broker/delay_tiers_test.cc \
  tests/broker/follow_up_test.cc \
  tests/broker/publish_tracker_test.cc \
  tests/broker/topology_plan_test.cc,\
  broker config ops core))

$(eval $(call test_binary,broker_it,\
  tests/broker/rabbit_fixture.cc \
  tests/broker/session_it_test.cc \
  tests/broker/session_wake_it_test.cc \
  tests/broker/topology_it_test.cc \
  tests/broker/reconnect_it_test.cc \
  tests/broker/tls_it_test.cc,\
  broker config ops core))
