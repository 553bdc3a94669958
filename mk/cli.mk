# The `avengers` command (cli/), its install and its end-to-end tests on tests/data/llm9:
# `make check-cli` (tests/cli/test_cli.py), `make check-cli-checks` (tests/cli/test_cli_checks.py:
# route's per-request options, data checks and messages, reproducible files, --tune progress),
# `make check-cli-docs` (tests/cli/test_docs.py: the man pages and README against the command) and
# `make check-cli-merge-tune-budget` (pytest: `avengers merge`, `train --tune`, `eval --budget`). The command links the static library plus
# cJSON (Debian libcjson-dev); the library never does.

CLI_BIN     := $(BUILDDIR)/bin/avengers
CLI_SRCS    := $(sort $(wildcard cli/*.c))
CLI_OBJS    := $(patsubst cli/%.c,$(BUILDDIR)/cli/%.o,$(CLI_SRCS))
CLI_HDRS    := $(wildcard cli/*.h) $(HEADER)
CLI_CFLAGS   = $(C_STD) $(WARN) -Iinclude -Icli $(CJSON_CFLAGS) $(DEP_CFLAGS) $(EXTRA_CFLAGS)

.PHONY: cli check-cli check-cli-checks check-cli-docs check-cli-merge-tune-budget
all-extra:: cli
cli: $(CLI_BIN)

$(BUILDDIR)/cli/%.o: cli/%.c $(CLI_HDRS) | cli-deps-check
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CLI_CFLAGS) -c $< -o $@

$(CLI_BIN): $(CLI_OBJS) $(STLIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJS) $(STLIB) $(CJSON_LIBS) $(LDFLAGS) $(LIB_LIBS) -lz

install-extra::
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(CLI_BIN) $(DESTDIR)$(BINDIR)/avengers
	install -m 644 docs/man/avengers.1 $(DESTDIR)$(MANDIR)/man1/avengers.1

uninstall-extra::
	rm -f $(DESTDIR)$(BINDIR)/avengers $(DESTDIR)$(MANDIR)/man1/avengers.1

CHECK_SUITES += cli cli-checks cli-docs cli-merge-tune-budget
# tests/cli/test_cli*.py and test_docs.py print `N passed, N failed` themselves.
check-cli: $(CLI_BIN)
	@AVENGERS=$(CLI_BIN) $(PYTHON) tests/cli/test_cli.py

check-cli-checks: $(CLI_BIN)
	@AVENGERS=$(CLI_BIN) $(PYTHON) tests/cli/test_cli_checks.py

check-cli-docs: $(CLI_BIN)
	@AVENGERS=$(CLI_BIN) $(PYTHON) tests/cli/test_docs.py

# pytest exit status 5 means "no tests collected": a failure here, not a pass.
check-cli-merge-tune-budget: shared cli
	@AVENGERS=$(abspath $(CLI_BIN)) $(PYTHON) -m pytest -q -p no:cacheprovider \
	  tests/cli/test_merge_tune_budget.py; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; echo "0 passed, 1 failed"; exit 1; fi; \
	  exit $$rc
