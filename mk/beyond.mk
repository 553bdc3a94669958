# Beyond the paper (issue 7): the Dask aggregation test (`make check-dask`) and the command-line
# parts (`make check-beyond-cli`: merge, train --tune, eval --budget). The C unit tests
# (tests/unit/test_route_ex.c, test_online.c, test_merge.c, test_tune.c, test_budget.c) run in the
# `unit` suite. Needs Debian python3-dask and python3-distributed; without them the test is skipped
# with the reason printed, and the suite reports 0 passed, 0 failed.
CHECK_SUITES += dask beyond-cli
# Models added while readers route: under ThreadSanitizer too (`make tsan`; mk/hardening.mk sets
# the same default when this file has not).
TSAN_TESTS ?= test_threads
TSAN_TESTS += test_online
.PHONY: check-dask check-beyond-cli dask-example

check-dask: shared
	@log=$$(mktemp); \
	  $(PYTHON) -m pytest -q -rs -p no:cacheprovider -W ignore::DeprecationWarning tests/dask \
	    >$$log 2>&1; rc=$$?; cat $$log; \
	  if [ $$rc -eq 5 ] && grep -q skipped $$log; then echo "0 passed, 0 failed"; rm -f $$log; exit 0; fi; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; echo "0 passed, 1 failed"; rm -f $$log; exit 1; fi; \
	  if ! grep -Eq '[0-9]+ (passed|failed)' $$log; then echo "0 passed, 0 failed"; fi; \
	  rm -f $$log; exit $$rc

# The example on the bundled data (60 clusters, 8 partitions, 2 worker processes).
dask-example: shared
	$(PYTHON) examples/dask/feedback_merge.py

# `avengers merge`, `train --tune` and `eval --budget` end to end on the fixture.
check-beyond-cli: shared cli
	@AVENGERS=$(abspath $(CLI_BIN)) $(PYTHON) -m pytest -q -p no:cacheprovider tests/beyond; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; echo "0 passed, 1 failed"; exit 1; fi; \
	  exit $$rc
