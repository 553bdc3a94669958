# Fuzzing (docs/SECURITY.md). Each target in tests/fuzz/fuzz_<name>.c defines LLVMFuzzerTestOneInput.
# Linked with replay.c it is a standalone program (any compiler) that runs a corpus; linked with
# clang's -fsanitize=fuzzer it is a libFuzzer binary. Corpora: tests/fuzz/corpus/<name>/.
#
#   make check-corpus     every corpus file through its target (a suite of `make check`)
#   make check-fuzz-api   a short fixed-seed libFuzzer run of the API-sequence target (a suite)
#   make fuzz-build       every target with libFuzzer, ASan and UBSan in build-fuzz/
#   make fuzz FUZZ_SECONDS=N   each target N seconds on a working copy of its corpus
#   make fuzz-seeds, make fuzz-api-seeds   regenerate the seed corpora (commit the result)

FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_HDRS    := tests/fuzz/fuzz.h tests/fuzz/avfile.h $(HEADER)
FUZZ_CFLAGS   = $(C_STD) $(WARN) -Iinclude -Itests -Icli $(CJSON_CFLAGS) -pthread
# Extra sources a target needs besides the library (the CLI readers for jsonl/npy).
FUZZ_EXTRA_jsonl := cli/jsonl.c
FUZZ_EXTRA_npy   := cli/npy.c
FUZZ_LINK     = $(STLIB) $(CJSON_LIBS) $(LIB_LIBS)
REPLAYERS := $(patsubst %,$(BUILDDIR)/fuzz/replay_%,$(FUZZ_TARGETS))

# The libFuzzer build: clang, ASan+UBSan (ASAN_CFLAGS, mk/sanitizers.mk), its own directory.
FUZZ_CC      ?= clang
FUZZ_DIR     := build-fuzz
# Arguments of the sub-make that builds it (`$(MAKE) $(FUZZ_BUILD_VARS) <targets>`).
FUZZ_BUILD_VARS = --no-print-directory CC=$(FUZZ_CC) BUILDDIR=$(FUZZ_DIR) LIBOUTDIR=$(FUZZ_DIR)/lib \
                  CFLAGS="$(ASAN_CFLAGS) -fsanitize=fuzzer-no-link"

$(BUILDDIR)/fuzz/replay_jsonl $(BUILDDIR)/fuzz/fuzz_jsonl: cli/jsonl.c cli/jsonl.h
$(BUILDDIR)/fuzz/replay_npy $(BUILDDIR)/fuzz/fuzz_npy: cli/npy.c cli/npy.h

$(BUILDDIR)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(FUZZ_HDRS) $(STLIB) | cli-deps-check
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(FUZZ_CFLAGS) -o $@ $< tests/fuzz/replay.c $(FUZZ_EXTRA_$*) $(FUZZ_LINK)

$(BUILDDIR)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_HDRS) $(STLIB) | cli-deps-check
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_EXTRA_$*) $(FUZZ_LINK)

# ---- corpus replay --------------------------------------------------------------------------------
CHECK_SUITES += corpus fuzz-api
.PHONY: check-corpus check-fuzz-api fuzz fuzz-build fuzz-seeds fuzz-api-seeds
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

# ---- the API-sequence target in `make check` --------------------------------------------------------
# A short deterministic libFuzzer run of tests/fuzz/fuzz_api.c from its seed corpus: FUZZ_API_RUNS
# executions with -seed=1, so every `make check` explores a little past the committed inputs.
# Without clang's libFuzzer it replays the corpus instead. A crash leaves the input in
# $(FUZZ_DIR)/artifacts/api-check-* and fails the suite.
# About 20 s on one core of the shared 2-core test machine (ASan+UBSan).
FUZZ_API_RUNS    ?= 4000
# Wall-clock cap of the run (a loaded machine then explores fewer inputs, never hangs the check).
FUZZ_API_MAX_S   ?= 90
# Checks of the target to switch off (AV_FUZZ_API_SKIP, see the target's header comment); empty:
# every check on.
FUZZ_API_SKIP    ?=
# Whether $(FUZZ_CC) links libFuzzer is probed when the suite runs (not on every make).
check-fuzz-api:
	@if printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{(void)d; (void)n; return 0;}\n' \
	    | $(FUZZ_CC) -x c -fsanitize=fuzzer -o /dev/null - >/dev/null 2>&1; then \
	  $(MAKE) $(FUZZ_BUILD_VARS) -s $(FUZZ_DIR)/fuzz/fuzz_api >/dev/null || exit 1; \
	  mkdir -p $(FUZZ_DIR)/artifacts; work=$$(mktemp -d); log=$$(mktemp); \
	  cp tests/fuzz/corpus/api/* $$work/; \
	  if AV_FUZZ_API_SKIP="$(FUZZ_API_SKIP)" OPENBLAS_NUM_THREADS=1 $(FUZZ_DIR)/fuzz/fuzz_api -seed=1 \
	      -runs=$(FUZZ_API_RUNS) -max_total_time=$(FUZZ_API_MAX_S) -max_len=4096 -timeout=20 \
	      -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/artifacts/api-check- $$work >$$log 2>&1; then \
	    echo "fuzz api: clean, $$(sed -n 's/^stat::number_of_executed_units: *//p' $$log) executions" \
	      "(-seed=1) from $$(ls tests/fuzz/corpus/api | wc -l) seeds"; \
	    echo "1 passed, 0 failed"; st=0; \
	  else grep -v '^#\|^INFO\|Uses:' $$log | tail -n 40; echo "fuzz api: FAILED"; \
	    echo "0 passed, 1 failed"; st=1; fi; rm -rf $$work $$log; exit $$st; \
	else \
	  echo "fuzz api: $(FUZZ_CC) cannot link libFuzzer here; replaying the corpus only"; \
	  $(MAKE) --no-print-directory -s $(BUILDDIR)/fuzz/replay_api >/dev/null || exit 1; \
	  AV_FUZZ_API_SKIP="$(FUZZ_API_SKIP)" OPENBLAS_NUM_THREADS=1 $(BUILDDIR)/fuzz/replay_api \
	    tests/fuzz/corpus/api 2>/dev/null | tail -n 1; \
	fi

# ---- libFuzzer ------------------------------------------------------------------------------------
# `make fuzz FUZZ_SECONDS=N` builds the library and every target with clang's libFuzzer, ASan and
# UBSan (in build-fuzz/, beside the normal build) and runs each target N seconds on a working copy
# of its seed corpus (new inputs land in build-fuzz/corpus/<target>; crashes in
# build-fuzz/artifacts/). It fails if any target finds a crash, leak or broken invariant.
FUZZ_SECONDS ?= 30
FUZZ_MAX_LEN ?= 16384

fuzz-build:
	@$(MAKE) $(FUZZ_BUILD_VARS) $(patsubst %,$(FUZZ_DIR)/fuzz/fuzz_%,$(FUZZ_TARGETS))

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

# ---- seed corpora ---------------------------------------------------------------------------------
# From tests/data/llm9 (regress_* files are kept).
fuzz-seeds: $(BUILDDIR)/fuzz/make_seeds
	@mkdir -p $(patsubst %,tests/fuzz/corpus/%,load route jsonl npy)
	OPENBLAS_NUM_THREADS=1 $(BUILDDIR)/fuzz/make_seeds tests/fuzz/corpus/load tests/fuzz/corpus/route
	$(PYTHON) tests/fuzz/make_cli_seeds.py
$(BUILDDIR)/fuzz/make_seeds: tests/fuzz/make_seeds.c tests/fuzz/small_router.h $(FUZZ_HDRS) $(STLIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(FUZZ_CFLAGS) -o $@ $< $(STLIB) $(LIB_LIBS)

# The API-sequence target's seed programs.
fuzz-api-seeds:
	$(PYTHON) tests/fuzz/make_api_seeds.py tests/fuzz/corpus/api

clean-extra::
	rm -rf build-fuzz
