# The API-sequence fuzz target (tests/fuzz/fuzz_api.c, issue 12) in `make check`. mk/hardening.mk
# already builds it like every tests/fuzz/fuzz_*.c (its corpus replay is part of check-corpus, and
# `make fuzz FUZZ_SECONDS=N` runs it N seconds); this suite adds a short deterministic libFuzzer
# run from the seed corpus: FUZZ_API_RUNS executions with -seed=1, so every `make check` explores
# a little beyond the committed inputs. Without clang's libFuzzer it replays the corpus instead.
# A crash leaves the input in $(FUZZ_DIR)/artifacts/api-check-* and fails the suite.

# About 20 s on one core of the shared 2-core test machine (ASan+UBSan).
FUZZ_API_RUNS    ?= 4000
# Wall-clock cap of the run (a loaded machine then explores fewer inputs, never hangs the check).
FUZZ_API_MAX_S   ?= 90
# Checks of the target to switch off (AV_FUZZ_API_SKIP, see the target's header comment); empty:
# every check on.
FUZZ_API_SKIP    ?=
CHECK_SUITES += fuzz-api
.PHONY: check-fuzz-api fuzz-api-seeds
# Whether $(FUZZ_CC) links libFuzzer is probed when the suite runs (not on every make).
check-fuzz-api:
	@if printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{(void)d; (void)n; return 0;}\n' \
	    | $(FUZZ_CC) -x c -fsanitize=fuzzer -o /dev/null - >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory -s CC=$(FUZZ_CC) BUILDDIR=$(FUZZ_DIR) LIBOUTDIR=$(FUZZ_DIR)/lib \
	    CFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" $(FUZZ_DIR)/fuzz/fuzz_api >/dev/null || exit 1; \
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

# Regenerate the seed programs (the regress_* inputs are kept; commit the result).
fuzz-api-seeds:
	$(PYTHON) tests/fuzz/make_api_seeds.py tests/fuzz/corpus/api
