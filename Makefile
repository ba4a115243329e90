# wxpay-reconciler — plain Makefile, explicit source lists per module.
#
#   make              build build/wxpay-reconciler
#   make test         unit + integration tests, then the same under ASan+UBSan
#   make demo         the daemon end to end on this machine
#   make bench        performance figures
#   make install      PREFIX=/usr/local DESTDIR=
#
# Each module lists its sources in src/<module>/module.mk and becomes one
# static library; test binaries link only the modules they need.

.DEFAULT_GOAL := all
SHELL := /bin/bash

SAN ?= 0
ifeq ($(SAN),1)
BUILD ?= build-asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT := -O1 -g
else
BUILD ?= build
SANFLAGS :=
OPT := -O2 -g
endif

PREFIX ?= /usr/local
DESTDIR ?=

CXX ?= g++
PKGS := librabbitmq libcurl openssl sqlite3 libcjson yaml-cpp libmariadb libpq
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# libhowardhinnant-date-dev ships no .pc file; these are its CMake target's settings.
DATE_CFLAGS := -DUSE_OS_TZDB=1 -DONLY_C_LOCALE=1 -DHAS_STRING_VIEW=1
DATE_LIBS := -ldate-tz
GTEST_LIBS := $(shell pkg-config --libs gmock gtest_main 2>/dev/null)

CXXFLAGS := -std=c++20 -Wall -Wextra -Werror -Wshadow $(OPT) $(SANFLAGS) \
            -Isrc -Itests -MMD -MP $(PKG_CFLAGS) $(DATE_CFLAGS) $(EXTRA_CXXFLAGS)
LDFLAGS := $(SANFLAGS) -pthread
LIBS := $(PKG_LIBS) $(DATE_LIBS)

MODULES :=
TEST_BINS :=

# $(call module,NAME): NAME_SRCS -> $(BUILD)/lib/libNAME.a
define module
$(1)_OBJS := $$(patsubst %.cc,$$(BUILD)/obj/%.o,$$($(1)_SRCS))
$$(BUILD)/lib/lib$(1).a: $$($(1)_OBJS)
	@mkdir -p $$(@D)
	@rm -f $$@
	ar rcs $$@ $$^
MODULES += $(1)
endef

# $(call test_binary,NAME,TEST_SRCS,MODULES dependents-first)
define test_binary
$(1)_TOBJS := $$(patsubst %.cc,$$(BUILD)/obj/%.o,$(2))
$(1)_TLIBS := $$(foreach m,$(3),$$(BUILD)/lib/lib$$(m).a)
$$(BUILD)/tests/$(1): $$($(1)_TOBJS) $$($(1)_TLIBS)
	@mkdir -p $$(@D)
	$$(CXX) $$(LDFLAGS) -o $$@ $$($(1)_TOBJS) $$($(1)_TLIBS) $$(LIBS) $$(GTEST_LIBS)
TEST_BINS += $$(BUILD)/tests/$(1)
$(1): $$(BUILD)/tests/$(1)
.PHONY: $(1)
endef

include src/core/module.mk
include $(wildcard src/ops/module.mk)
include $(wildcard src/config/module.mk)
include $(wildcard src/wechatpay/module.mk)
include $(wildcard src/store/module.mk)
include $(wildcard src/broker/module.mk)
include $(wildcard src/daemon/module.mk)
include $(wildcard src/cli/module.mk)
include $(wildcard tests/bench/module.mk)
include $(wildcard tests/service/module.mk)

# Link order: dependents first.
MAIN_MODULES := $(filter cli daemon broker store wechatpay config ops core,cli daemon broker store wechatpay config ops core)
MAIN_MODULES := $(filter $(MODULES),$(MAIN_MODULES))
MAIN_LIBS := $(foreach m,$(MAIN_MODULES),$(BUILD)/lib/lib$(m).a)

$(BUILD)/wxpay-reconciler: $(BUILD)/obj/src/main.o $(MAIN_LIBS)
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -o $@ $< $(MAIN_LIBS) $(LIBS)

$(BUILD)/obj/%.o: %.cc
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -c -o $@ $<

.PHONY: all deps tests test unit-test bench demo soak install clean print-tests
all: $(BUILD)/wxpay-reconciler

tests: all $(TEST_BINS)

print-tests:
	@echo $(TEST_BINS)

deps:
	@scripts/install-deps.sh

# The whole suite: unit and integration tests against real servers, then the
# same under ASan+UBSan.
test: deps
	@scripts/run-tests.sh

unit-test: tests
	@set -e; for t in $(filter %_unit,$(TEST_BINS)); do echo "== $$t"; $$t --gtest_brief=1; done

bench: deps
	@scripts/run-bench.sh

demo: deps
	@scripts/demo.sh

soak: deps
	@scripts/soak.sh

# Where `make install` puts things (DESTDIR, if set, is prepended to each):
#   $(PREFIX)/bin/wxpay-reconciler
#   $(PREFIX)/lib/systemd/system/wxpay-reconciler.service, its ExecStart=
#       rewritten to the installed binary. systemd reads units from both
#       /usr/local/lib/systemd/system (the default PREFIX: local software that
#       dpkg never touches) and /usr/lib/systemd/system (PREFIX=/usr, where
#       Debian 12's packages put units; /lib is a symlink to /usr/lib there);
#       see `systemd-analyze unit-paths`.
#   /etc/wxpay-reconciler/config.yaml (only if absent: an edited configuration
#       is never replaced) and config.yaml.example (always, the pristine
#       sample). Always /etc: the unit and the binary look there. Mode 0644:
#       the service's DynamicUser= account must read it; secrets belong in
#       /etc/credstore (LoadCredential=), never in this file.
#   $(PREFIX)/share/doc/wxpay-reconciler/: README.md and examples/ (the
#       systemd drop-ins and the minimal configuration).
install uninstall: UNITDIR = $(PREFIX)/lib/systemd/system
install uninstall: DOCDIR = $(PREFIX)/share/doc/wxpay-reconciler
install uninstall: CONFDIR = /etc/wxpay-reconciler
install uninstall: DOC_EXAMPLES = etc/minimal.yaml $(sort $(wildcard systemd/examples/*.conf))
install: all
	install -d -m 0755 $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CONFDIR) $(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(BUILD)/wxpay-reconciler $(DESTDIR)$(PREFIX)/bin/wxpay-reconciler
	sed 's#^ExecStart=[^ ]*/wxpay-reconciler #ExecStart=$(PREFIX)/bin/wxpay-reconciler #' \
	    systemd/wxpay-reconciler.service >$(DESTDIR)$(UNITDIR)/.wxpay-reconciler.service.tmp
	@unit=$(DESTDIR)$(UNITDIR)/.wxpay-reconciler.service.tmp; \
	if [ "$$(grep -c '^ExecStart=' $$unit)" != 1 ] || ! grep -q '^ExecStart=$(PREFIX)/bin/wxpay-reconciler ' $$unit; then \
	    rm -f $$unit; echo "install: systemd/wxpay-reconciler.service needs exactly one 'ExecStart=<dir>/wxpay-reconciler ...' line" >&2; exit 1; \
	fi; chmod 0644 $$unit && mv -f $$unit $(DESTDIR)$(UNITDIR)/wxpay-reconciler.service
	install -m 0644 etc/wxpay-reconciler.yaml $(DESTDIR)$(CONFDIR)/config.yaml.example
	@if [ -e $(DESTDIR)$(CONFDIR)/config.yaml ]; then \
	    echo "install: kept $(DESTDIR)$(CONFDIR)/config.yaml; the new sample is config.yaml.example"; \
	else \
	    echo "install -m 0644 etc/wxpay-reconciler.yaml $(DESTDIR)$(CONFDIR)/config.yaml"; \
	    install -m 0644 etc/wxpay-reconciler.yaml $(DESTDIR)$(CONFDIR)/config.yaml; \
	fi
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -m 0644 $(DOC_EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/
	@if [ -z "$(DESTDIR)" ]; then echo "install: next: edit $(CONFDIR)/config.yaml, then systemctl daemon-reload"; fi

# Removes what `make install` put in place (same PREFIX and DESTDIR), except
# /etc/wxpay-reconciler/config.yaml: the live configuration stays. Stop and
# disable the service first (systemctl disable --now wxpay-reconciler).
.PHONY: uninstall
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/wxpay-reconciler $(DESTDIR)$(UNITDIR)/wxpay-reconciler.service \
	    $(DESTDIR)$(CONFDIR)/config.yaml.example $(DESTDIR)$(DOCDIR)/README.md \
	    $(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(notdir $(DOC_EXAMPLES)))
	@rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	@rmdir $(DESTDIR)$(CONFDIR) 2>/dev/null || true
	@if [ -e $(DESTDIR)$(CONFDIR)/config.yaml ]; then \
	    echo "uninstall: kept $(DESTDIR)$(CONFDIR)/config.yaml (your configuration)"; \
	fi

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
