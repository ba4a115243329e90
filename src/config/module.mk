config_SRCS := \
  src/config/checks.cc \
  src/config/checks_broker.cc \
  src/config/checks_database.cc \
  src/config/checks_wechatpay.cc \
  src/config/convert.cc \
  src/config/diagnostics.cc \
  src/config/duration.cc \
  src/config/env_expand.cc \
  src/config/files.cc \
  src/config/keys.cc \
  src/config/loader.cc \
  src/config/reload.cc \
  src/config/url.cc \
  src/config/yaml_tree.cc
$(eval $(call module,config))

config_TESTS := \
  tests/config/duration_test.cc \
  tests/config/env_expand_test.cc \
  tests/config/yaml_tree_test.cc \
  tests/config/url_test.cc \
  tests/config/keys_test.cc \
  tests/config/loader_test.cc \
  tests/config/checks_test.cc \
  tests/config/reload_test.cc \
  tests/config/sample_test.cc
$(eval $(call test_binary,config_unit,$(config_TESTS),config ops core))

# The sample-file test reads etc/ from the source tree, wherever it runs from.
$(BUILD)/obj/tests/config/sample_test.o: CXXFLAGS += -DWXPAY_SOURCE_DIR='"$(CURDIR)"'
