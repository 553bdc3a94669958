# Sanitizer and valgrind runs, each in a build directory of its own beside the normal build:
#   make asan       ASan+UBSan build of the library, then the suites in ASAN_SUITES
#   make tsan       ThreadSanitizer build of the threaded tests (TSAN_TESTS)
#   make valgrind   every C test and the corpus replay under memcheck (VALGRIND_TESTS)

# ASan+UBSan, also the libFuzzer build's (mk/fuzz.mk).
ASAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
TSAN_CFLAGS := -O1 -g -fsanitize=thread
# Exit codes 86/87 for sanitizer reports: distinct from every exit code the CLI tests expect.
ASAN_ENV    := ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:exitcode=86 \
               UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=87 OPENBLAS_NUM_THREADS=1
# Suites whose programs honour BUILDDIR/LIBOUTDIR/CFLAGS (the Python and Rust suites load the
# library into an uninstrumented host and are not run here; the C++ tests are built instrumented).
ASAN_SUITES ?= unit integration corpus cli cpp
# The tests that run threads against one router: readers beside updaters, models added while
# readers route, the concurrency matrix, the readers-during-add_model regression; and the SAMPLED
# trainer's pass threads reading a row source and keeping per-row bounds (about 60 s under
# ThreadSanitizer).
TSAN_TESTS  ?= test_threads test_feedback test_concurrency test_closure test_source test_bounds

.PHONY: asan tsan valgrind
asan:
	@$(ASAN_ENV) BUILDDIR=build-asan LIBOUTDIR=build-asan/lib CFLAGS="$(ASAN_CFLAGS)" \
	  MAKE="$(MAKE)" tests/run_suites.sh $(ASAN_SUITES)

TSAN_BINS = $(call test_bins,$(TSAN_TESTS),build-tsan)
tsan:
	@BUILDDIR=build-tsan LIBOUTDIR=build-tsan/lib CFLAGS="$(TSAN_CFLAGS)" \
	  $(MAKE) --no-print-directory -s $(TSAN_BINS)
	@TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 OPENBLAS_NUM_THREADS=1 \
	  tests/run_unit.sh $(TSAN_BINS)

# Every C test and the corpus replay under memcheck: any error or definite/indirect leak fails.
# Children are traced too: a test that re-runs itself (test_simd) must see the same (valgrind's)
# CPU features in the child as in the parent. Slow (memcheck runs the k-means and SIMD tests some
# 50x slower: the whole suite takes about 25 minutes); a subset:
# `make valgrind VALGRIND_TESTS="test_format test_threads test_crashsave"`.
VALGRIND ?= valgrind -q --trace-children=yes --error-exitcode=99 --leak-check=full \
            --show-leak-kinds=definite,indirect \
            --errors-for-leak-kinds=definite,indirect
VALGRIND_TESTS ?= $(notdir $(TEST_BINS))
VALGRIND_BINS := $(call test_bins,$(VALGRIND_TESTS),$(BUILDDIR))
valgrind: $(VALGRIND_BINS) $(REPLAYERS)
	@p=0; f=0; for t in $(VALGRIND_BINS); do \
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
	rm -rf build-asan build-tsan
