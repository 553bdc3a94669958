# C tests: unit tests by layer of the library (tests/unit/<layer>/test_<module>.c) and integration
# tests across layers (tests/integration/test_*.c). Each is a program on the shared harness
# (tests/harness.h) that ends with `N passed, N failed`; tests/run_unit.sh runs a list of them and
# totals. A binary mirrors its source path: tests/unit/io/test_format.c -> $(BUILDDIR)/tests/unit/io/
# test_format. Tests are named by their file name (test_format) in TSAN_TESTS, VALGRIND_TESTS.

TEST_CFLAGS = $(C_STD) $(WARN) -Iinclude -Isrc -Itests $(DEP_CFLAGS) $(PLATFORM_CFLAGS) $(PTHREAD_CFLAGS)
TEST_LDFLAGS :=
TEST_HDRS := $(wildcard tests/*.h)

UNIT_SRCS        := $(sort $(wildcard tests/unit/*/test_*.c))
INTEGRATION_SRCS := $(sort $(wildcard tests/integration/test_*.c))
TEST_SRCS        := $(UNIT_SRCS) $(INTEGRATION_SRCS)
# $(call test_bins,names,build dir): the binaries of the named tests in that build.
test_bins = $(patsubst tests/%.c,$(2)/tests/%,$(foreach t,$(1),$(filter %/$(t).c,$(TEST_SRCS))))
UNIT_BINS        := $(patsubst tests/%.c,$(BUILDDIR)/tests/%,$(UNIT_SRCS))
INTEGRATION_BINS := $(patsubst tests/%.c,$(BUILDDIR)/tests/%,$(INTEGRATION_SRCS))
TEST_BINS        := $(UNIT_BINS) $(INTEGRATION_BINS)

$(TEST_BINS): $(BUILDDIR)/tests/%: tests/%.c $(TEST_HDRS) $(STLIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -o $@ $< $(STLIB) $(TEST_LDFLAGS) $(LIB_LIBS)

# Tests that count allocations wrap the allocator at link time; test_format also counts frees.
WRAP_ALLOC := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=posix_memalign
$(call test_bins,test_batch,$(BUILDDIR)): TEST_LDFLAGS += $(WRAP_ALLOC)
$(call test_bins,test_format test_load,$(BUILDDIR)): TEST_LDFLAGS += $(WRAP_ALLOC) -Wl,--wrap=free
# test_closure makes the library's own write() and fsync() fail on demand.
$(call test_bins,test_closure,$(BUILDDIR)): TEST_LDFLAGS += -Wl,--wrap=write,--wrap=fsync
# Test helpers outside tests/*.h.
$(call test_bins,test_closure test_ensemble,$(BUILDDIR)): tests/fuzz/avfile.h
$(call test_bins,test_format test_load test_threads test_crashsave test_concurrency,$(BUILDDIR)): \
  tests/fuzz/small_router.h tests/fuzz/avfile.h

CHECK_SUITES += unit integration
.PHONY: unit-tests check-unit check-integration
unit-tests: $(TEST_BINS)
check-unit: $(UNIT_BINS)
	@tests/run_unit.sh $(UNIT_BINS)
check-integration: $(INTEGRATION_BINS)
	@tests/run_unit.sh $(INTEGRATION_BINS)

# The layering check (docs/ARCHITECTURE.md): includes and calls of the library's objects only go to
# their own layer or below.
CHECK_SUITES += layers
.PHONY: check-layers
check-layers: $(LIB_OBJS)
	@$(PYTHON) tools/check_layers.py src $(BUILDDIR)/obj
