# The shop's database (SQLite, MariaDB/MySQL, PostgreSQL) and the daemon's own
# state database.
#
# Agreed file names for the MariaDB and PostgreSQL adapters (their owner adds
# them; each is picked up here as soon as it exists):
#   src/store/mysql_store.cc  defines OpenMysqlStore (store/store_factory.h)
#   src/store/pg_store.cc     defines OpenPgStore
#   src/store/mysql_*.cc, src/store/pg_*.cc       further sources of theirs
#   src/store/server_*.cc                         what both share (pool, store logic)
#   tests/store/mysql_*_test.cc, pg_*_test.cc     pure unit tests -> store_unit
#   tests/store/mysql_*_it.cc, pg_*_it.cc         the conformance instantiation
#                                                 and server tests -> store_mysql_it, store_pg_it
#   tests/store/server_*.cc                       what both server test binaries share
# store_factory.cc dispatches to all three adapters, so it is built only once
# both mysql_store.cc and pg_store.cc exist (no weak fallbacks).

store_MYSQL_SRCS := $(wildcard src/store/mysql_*.cc)
store_PG_SRCS := $(wildcard src/store/pg_*.cc)
store_SERVER_SRCS := \
  src/store/server_pool.cc \
  src/store/server_store.cc \
  src/store/server_sweep_lock.cc
store_FACTORY_SRCS := $(if $(and $(wildcard src/store/mysql_store.cc),$(wildcard src/store/pg_store.cc)),\
  src/store/store_factory.cc)

store_SRCS := \
  src/store/mapping.cc \
  src/store/sqlite_handle.cc \
  src/store/sqlite_store.cc \
  src/store/state_store.cc \
  src/store/sweep_lock.cc \
  $(store_SERVER_SRCS) \
  $(store_MYSQL_SRCS) \
  $(store_PG_SRCS) \
  $(store_FACTORY_SRCS)
$(eval $(call module,store))

$(eval $(call test_binary,store_unit,\
  tests/store/mapping_test.cc \
  tests/store/state_store_test.cc \
  tests/store/server_store_test.cc \
  tests/store/sweep_lock_test.cc \
  tests/store/group_commit_test.cc \
  $(wildcard tests/store/mysql_*_test.cc tests/store/pg_*_test.cc),\
  store ops core))

# SQLite needs no server, but this binary works on real database files and
# races real connections, so it runs with the integration tests.
$(eval $(call test_binary,store_sqlite_it,\
  tests/store/conformance.cc \
  tests/store/sqlite_conformance_it.cc,\
  store ops core))

store_SERVER_IT_SRCS := \
  tests/store/conformance.cc \
  tests/store/server_fixture.cc \
  tests/store/server_sessions.cc \
  tests/store/server_checks.cc \
  tests/store/server_sweep_lock_checks.cc

ifneq ($(wildcard tests/store/mysql_*_it.cc),)
$(eval $(call test_binary,store_mysql_it,\
  $(store_SERVER_IT_SRCS) \
  $(wildcard tests/store/mysql_*_it.cc),\
  store ops core))
endif

ifneq ($(wildcard tests/store/pg_*_it.cc),)
$(eval $(call test_binary,store_pg_it,\
  $(store_SERVER_IT_SRCS) \
  $(wildcard tests/store/pg_*_it.cc),\
  store ops core))
endif
