# Benchmark programs for `make bench` and `make soak` (scripts/run-bench.sh,
# scripts/soak.sh). They are not test binaries: `make test` neither builds
# nor runs them. Build them with `make -j2 bench-programs`.
#   bench_floor    the RSA-2048 signing floor with the daemon's own code
#   bench_publish  publishes order numbers onto the work queue, timed

bench_floor_OBJS := $(BUILD)/obj/tests/bench/floor_main.o
bench_floor_LIBS := $(foreach m,wechatpay config ops core,$(BUILD)/lib/lib$(m).a)
$(BUILD)/bench/bench_floor: $(bench_floor_OBJS) $(bench_floor_LIBS)
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -o $@ $(bench_floor_OBJS) $(bench_floor_LIBS) $(LIBS)

bench_publish_OBJS := $(BUILD)/obj/tests/bench/publish_main.o
bench_publish_LIBS := $(foreach m,broker config ops core,$(BUILD)/lib/lib$(m).a)
$(BUILD)/bench/bench_publish: $(bench_publish_OBJS) $(bench_publish_LIBS)
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -o $@ $(bench_publish_OBJS) $(bench_publish_LIBS) $(LIBS)

.PHONY: bench-programs
bench-programs: $(BUILD)/bench/bench_floor $(BUILD)/bench/bench_publish
