# Hardening (issue 5): hostile-file, concurrency and crash-save unit tests, fuzz targets and their
# corpus replayer, sanitizer and valgrind runs, the ABI gate. docs/SECURITY.md, docs/ABI.md.

# The hostile-file test counts every allocation of the loader through link-time wrappers.
AV_WRAP_ALLOC := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=posix_memalign,--wrap=free
$(BUILDDIR)/tests/test_format: TEST_CFLAGS += $(AV_WRAP_ALLOC)
# The closure test makes the library's own write() and fsync() fail on demand.
$(BUILDDIR)/tests/test_closure: TEST_CFLAGS += -Wl,--wrap=write,--wrap=fsync
$(BUILDDIR)/tests/test_closure: tests/fuzz/avfile.h tests/tiny.h
$(BUILDDIR)/tests/test_format $(BUILDDIR)/tests/test_threads $(BUILDDIR)/tests/test_crashsave: \
  tests/fuzz/small_router.h tests/fuzz/avfile.h tests/testdata.h

# ---- fuzz targets, corpus replay -----------------------------------------------------------------
# Each target in tests/fuzz/fuzz_<name>.c defines LLVMFuzzerTestOneInput. Linked with replay.c it is
# a standalone program (any compiler) that runs a corpus; linked with clang's -fsanitize=fuzzer it
# is a libFuzzer binary. Corpora: tests/fuzz/corpus/<name>/.
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_HDRS    := tests/fuzz/fuzz.h tests/fuzz/avfile.h $(HEADER)
FUZZ_CFLAGS  := -std=c11 $(WARN) -D_POSIX_C_SOURCE=200809L -Iinclude -Itests -Icli $(CJSON_CFLAGS) -pthread
# Extra sources a target needs besides the library (the CLI readers for jsonl/npy).
FUZZ_EXTRA_jsonl := cli/jsonl.c
FUZZ_EXTRA_npy   := cli/npy.c
REPLAYERS := $(patsubst %,$(BUILDDIR)/fuzz/replay_%,$(FUZZ_TARGETS))

$(BUILDDIR)/fuzz/replay_jsonl $(BUILDDIR)/fuzz/fuzz_jsonl: cli/jsonl.c cli/jsonl.h
$(BUILDDIR)/fuzz/replay_npy $(BUILDDIR)/fuzz/fuzz_npy: cli/npy.c cli/npy.h

$(BUILDDIR)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(FUZZ_HDRS) $(STLIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(FUZZ_CFLAGS) -o $@ $< tests/fuzz/replay.c $(FUZZ_EXTRA_$*) $(STLIB) \
	  $(CJSON_LIBS) $(LIB_LIBS)

CHECK_SUITES += corpus
.PHONY: check-corpus
# Every corpus file through its target; a crash or broken invariant aborts with the file named in
# the log (shown on failure).
check-corpus: $(REPLAYERS)
	@p=0; f=0; for t in $(FUZZ_TARGETS); do \
	  log=$$(mktemp); \
	  if OPENBLAS_NUM_THREADS=1 $(BUILDDIR)/fuzz/replay_$$t tests/fuzz/corpus/$$t >$$log 2>&1; then \
	    line=$$(tail -n 1 $$log); echo "corpus $$t: $$line"; \
	    p=$$((p + $${line%% passed*})); \
	  else echo "corpus $$t: FAILED"; tail -n 30 $$log; f=$$((f + 1)); fi; \
	  rm -f $$log; done; \
	echo "$$p passed, $$f failed"; [ $$f -eq 0 ]

# Regenerate the seed corpora from tests/data/llm9 (commit the result; regress_* files are kept).
.PHONY: fuzz-seeds
fuzz-seeds: $(BUILDDIR)/fuzz/make_seeds
	@mkdir -p $(patsubst %,tests/fuzz/corpus/%,load route jsonl npy)
	OPENBLAS_NUM_THREADS=1 $(BUILDDIR)/fuzz/make_seeds tests/fuzz/corpus/load tests/fuzz/corpus/route
	$(PYTHON) tests/fuzz/make_cli_seeds.py
$(BUILDDIR)/fuzz/make_seeds: tests/fuzz/make_seeds.c tests/fuzz/small_router.h $(FUZZ_HDRS) $(STLIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(FUZZ_CFLAGS) -o $@ $< $(STLIB) $(LIB_LIBS)

# ---- libFuzzer ------------------------------------------------------------------------------------
# `make fuzz FUZZ_SECONDS=N` builds the library and every target with clang's libFuzzer, ASan and
# UBSan (in build-fuzz/, beside the normal build) and runs each target N seconds on a working copy
# of its seed corpus (new inputs land in build-fuzz/corpus/<target>; crashes in
# build-fuzz/artifacts/). It fails if any target finds a crash, leak or broken invariant.
FUZZ_SECONDS ?= 30
FUZZ_CC      ?= clang
FUZZ_MAX_LEN ?= 16384
FUZZ_SAN     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_DIR     := build-fuzz

$(BUILDDIR)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_HDRS) $(STLIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_EXTRA_$*) $(STLIB) \
	  $(CJSON_LIBS) $(LIB_LIBS)

.PHONY: fuzz fuzz-build
fuzz-build:
	@$(MAKE) --no-print-directory CC=$(FUZZ_CC) BUILDDIR=$(FUZZ_DIR) LIBOUTDIR=$(FUZZ_DIR)/lib \
	  CFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" $(patsubst %,$(FUZZ_DIR)/fuzz/fuzz_%,$(FUZZ_TARGETS))

fuzz: fuzz-build
	@mkdir -p $(FUZZ_DIR)/artifacts; st=0; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$t; cp -n tests/fuzz/corpus/$$t/* $(FUZZ_DIR)/corpus/$$t/ 2>/dev/null; \
	  log=$(FUZZ_DIR)/fuzz_$$t.log; \
	  dict=; [ -f tests/fuzz/$$t.dict ] && dict=-dict=tests/fuzz/$$t.dict; \
	  if OPENBLAS_NUM_THREADS=1 $(FUZZ_DIR)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	      -max_len=$(FUZZ_MAX_LEN) -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t- \
	      $$dict $(FUZZ_DIR)/corpus/$$t >$$log 2>&1; then \
	    echo "fuzz $$t: clean, $$(sed -n 's/^stat::number_of_executed_units: *//p' $$log) executions in $(FUZZ_SECONDS) s"; \
	  else echo "fuzz $$t: FAILED (log $$log)"; tail -n 40 $$log; st=1; fi; done; exit $$st

# ---- sanitizers and valgrind ----------------------------------------------------------------------
# ASan+UBSan build of the library and the test suites in build-asan/ (its own library copies).
SAN_CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
# Exit codes 86/87 for sanitizer reports: distinct from every exit code the CLI tests expect.
SAN_ENV     := ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:exitcode=86 \
               UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=87 OPENBLAS_NUM_THREADS=1
# Suites whose programs honour BUILDDIR/LIBOUTDIR/CFLAGS (the Python, C++ and Rust suites load the
# library into an uninstrumented host and are not run here).
ASAN_SUITES ?= unit corpus cli
.PHONY: asan tsan valgrind
asan:
	@$(SAN_ENV) BUILDDIR=build-asan LIBOUTDIR=build-asan/lib CFLAGS="$(SAN_CFLAGS)" \
	  MAKE="$(MAKE)" tests/run_suites.sh $(ASAN_SUITES)

# ThreadSanitizer on the threaded tests (others may append to TSAN_TESTS).
TSAN_TESTS := $(or $(TSAN_TESTS),test_threads test_online) test_concurrency test_closure
TSAN_CFLAGS := -O1 -g -fsanitize=thread
tsan:
	@BUILDDIR=build-tsan LIBOUTDIR=build-tsan/lib CFLAGS="$(TSAN_CFLAGS)" \
	  $(MAKE) --no-print-directory -s $(patsubst %,build-tsan/tests/%,$(TSAN_TESTS))
	@TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 OPENBLAS_NUM_THREADS=1 \
	  tests/run_unit.sh $(patsubst %,build-tsan/tests/%,$(TSAN_TESTS))

# Every unit test and the corpus replay under memcheck: any error or definite/indirect leak fails.
# Children are traced too: a test that re-runs itself (test_simd) must see the same (valgrind's)
# CPU features in the child as in the parent. Slow (memcheck runs the k-means and SIMD tests some
# 50x slower: the whole suite takes about 25 minutes); a subset:
# `make valgrind VALGRIND_TESTS="test_format test_threads test_crashsave"`.
VALGRIND ?= valgrind -q --trace-children=yes --error-exitcode=99 --leak-check=full \
            --show-leak-kinds=definite,indirect \
            --errors-for-leak-kinds=definite,indirect
VALGRIND_TESTS ?= $(notdir $(UNIT_BINS))
valgrind: $(patsubst %,$(BUILDDIR)/tests/%,$(VALGRIND_TESTS)) $(REPLAYERS)
	@p=0; f=0; for t in $(patsubst %,$(BUILDDIR)/tests/%,$(VALGRIND_TESTS)); do \
	  out=$$(OPENBLAS_NUM_THREADS=1 $(VALGRIND) $$t 2>&1); rc=$$?; \
	  line=$$(printf '%s\n' "$$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1); \
	  if [ $$rc -eq 0 ] && [ -n "$$line" ]; then echo "valgrind $$t: $$line"; p=$$((p + 1)); \
	  else printf '%s\n' "$$out" | tail -n 40; echo "valgrind $$t: FAILED (exit $$rc)"; f=$$((f + 1)); fi; \
	done; for t in $(FUZZ_TARGETS); do \
	  if OPENBLAS_NUM_THREADS=1 $(VALGRIND) $(BUILDDIR)/fuzz/replay_$$t tests/fuzz/corpus/$$t >/dev/null 2>&1; \
	  then echo "valgrind corpus $$t: clean"; p=$$((p + 1)); \
	  else echo "valgrind corpus $$t: FAILED"; f=$$((f + 1)); fi; done; \
	echo "$$p passed, $$f failed"; [ $$f -eq 0 ]

clean-extra::
	rm -rf build-asan build-tsan build-fuzz

# ---- ABI ------------------------------------------------------------------------------------------
# Exported dynamic symbols == the AV_API functions of the header.
CHECK_SUITES += abi-symbols
.PHONY: check-abi-symbols check-headers abi-check abi-baseline
check-abi-symbols: $(SHLIB)
	@$(PYTHON) tests/abi/check_symbols.py $(HEADER) $(SHLIB)

# The header alone as C99, C11 (gcc, clang) and C++17 (g++, clang++), warnings as errors.
CHECK_SUITES += headers
HEADER_CC  ?= gcc clang
HEADER_CXX ?= g++ clang++
HEADER_WARN := -Wall -Wextra -Wpedantic -Werror
check-headers:
	@mkdir -p $(BUILDDIR)/abi; cp tests/abi/header_alone.c $(BUILDDIR)/abi/header_alone.cpp; p=0; f=0; \
	for cc in $(HEADER_CC); do for std in c99 c11; do \
	  if $$cc -std=$$std $(HEADER_WARN) -Wstrict-prototypes -Iinclude -c tests/abi/header_alone.c \
	       -o $(BUILDDIR)/abi/h.o; then p=$$((p + 1)); else echo "FAIL $$cc -std=$$std"; f=$$((f + 1)); fi; \
	done; done; \
	for cxx in $(HEADER_CXX); do \
	  if $$cxx -std=c++17 $(HEADER_WARN) -Iinclude -c $(BUILDDIR)/abi/header_alone.cpp \
	       -o $(BUILDDIR)/abi/h.o; then p=$$((p + 1)); else echo "FAIL $$cxx -std=c++17"; f=$$((f + 1)); fi; \
	done; echo "$$p passed, $$f failed"; [ $$f -eq 0 ]

# abigail-tools: the built library's ABI (public types only, from the headers) against the committed
# baseline; tests/abi/abi_check.py decides what is incompatible (docs/ABI.md).
ABI_BASELINE := tests/abi/libavengers.abi
# --load-all-types: every public type, also those libabigail cannot reach from a function.
ABIDW_FLAGS  := --headers-dir include/avengers --load-all-types --no-corpus-path --no-comp-dir-path
abi-check: $(SHLIB)
	@mkdir -p $(BUILDDIR)/abi
	@abidw $(ABIDW_FLAGS) --out-file $(BUILDDIR)/abi/current.abi $(SHLIB)
	@$(PYTHON) tests/abi/abi_check.py $(HEADER) $(ABI_BASELINE) $(BUILDDIR)/abi/current.abi
	@$(PYTHON) tests/abi/frozen.py check $(HEADER) tests/abi $(CC)

# Constants keep their values and functions their prototypes (tests/abi/frozen.py explains why
# abidiff alone is not enough): tests/abi/constants.txt and tests/abi/prototypes.txt.
CHECK_SUITES += abi-frozen
.PHONY: check-abi-frozen
check-abi-frozen:
	@$(PYTHON) tests/abi/frozen.py check $(HEADER) tests/abi $(CC)

# Regenerate the committed baselines after a deliberate ABI change (see docs/ABI.md).
abi-baseline: $(SHLIB)
	abidw $(ABIDW_FLAGS) --out-file $(ABI_BASELINE) $(SHLIB)
	$(PYTHON) tests/abi/frozen.py dump $(HEADER) tests/abi
