# The ABI gate (docs/ABI.md). Suites of `make check`: exported symbols, the header alone, frozen
# constants and prototypes. `make abi-check` adds the abidiff-style layout check (abigail-tools);
# `make abi-baseline` regenerates the committed baselines after a deliberate ABI change.

CHECK_SUITES += abi-symbols headers abi-frozen
.PHONY: check-abi-symbols check-headers check-abi-frozen abi-check abi-baseline

# Exported dynamic symbols == the AV_API functions of the header.
check-abi-symbols: $(SHLIB)
	@$(PYTHON) tests/abi/check_symbols.py $(HEADER) $(SHLIB)

# The header alone as C99, C11 (gcc, clang) and C++17 (g++, clang++), warnings as errors.
HEADER_CC  ?= gcc clang
HEADER_CXX ?= g++ clang++
check-headers:
	@mkdir -p $(BUILDDIR)/abi; cp tests/abi/header_alone.c $(BUILDDIR)/abi/header_alone.cpp; p=0; f=0; \
	for cc in $(HEADER_CC); do for std in c99 c11; do for exp in "" -DAV_STATIC_LINKING_ONLY; do \
	  if $$cc -std=$$std $$exp $(CXXWARN) -Wstrict-prototypes -Iinclude -c tests/abi/header_alone.c \
	       -o $(BUILDDIR)/abi/h.o; then p=$$((p + 1)); else echo "FAIL $$cc -std=$$std $$exp"; f=$$((f + 1)); fi; \
	done; done; done; \
	for cxx in $(HEADER_CXX); do \
	  if $$cxx -std=c++17 $(CXXWARN) -Iinclude -c $(BUILDDIR)/abi/header_alone.cpp \
	       -o $(BUILDDIR)/abi/h.o; then p=$$((p + 1)); else echo "FAIL $$cxx -std=c++17"; f=$$((f + 1)); fi; \
	done; echo "$$p passed, $$f failed"; [ $$f -eq 0 ]

# Old and new callers (docs/ABI.md): a program built against each released header kept in
# tests/abi/headers/ (0.1, 0.2) with guard words around every struct it passes, and one built
# against this header passing structs larger than the library knows; both linked with the shared
# library being tested, as a program built elsewhere would be.
CHECK_SUITES += abi-callers
.PHONY: check-abi-callers
ABI_OLD_HEADERS := $(notdir $(wildcard tests/abi/headers/*))
ABI_CALLERS := $(patsubst %,$(BUILDDIR)/abi/old_caller_%,$(ABI_OLD_HEADERS)) $(BUILDDIR)/abi/new_caller
ABI_CALLER_LINK = -L$(LIBOUTDIR) -lavengers -Wl,-rpath,$(abspath $(LIBOUTDIR))
$(BUILDDIR)/abi/old_caller_%: tests/abi/old_caller.c tests/abi/headers/%/avengers/avengers.h \
                              tests/harness.h $(SHLIB) | shared
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(C_STD) $(CXXWARN) -Itests/abi/headers/$* -Itests -o $@ $< $(ABI_CALLER_LINK)
$(BUILDDIR)/abi/new_caller: tests/abi/new_caller.c $(HEADER) tests/harness.h $(SHLIB) | shared
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(C_STD) $(CXXWARN) -Iinclude -Itests -o $@ $< $(ABI_CALLER_LINK)
check-abi-callers: $(ABI_CALLERS)
	@tests/run_unit.sh $(ABI_CALLERS)

# Appended members lie past every released layout, never in its tail padding
# (tests/abi/check_layout.py), and a program built against this header runs on the last release's
# library (tests/abi/older_lib.sh builds libavengers 1.4.0 from the git history, once).
CHECK_SUITES += abi-layout abi-older-lib
.PHONY: check-abi-layout check-abi-older-lib
ABI_OLD_LIB_COMMIT  ?= a20b125
ABI_OLD_LIB_VERSION ?= 1.4.0
check-abi-layout:
	@$(PYTHON) tests/abi/check_layout.py $(HEADER) tests/abi/headers $(CC)
check-abi-older-lib: $(SHLIB)
	@tests/abi/older_lib.sh $(ABI_OLD_LIB_COMMIT) $(ABI_OLD_LIB_VERSION) \
	  $(abspath $(BUILDDIR))/abi/lib-$(ABI_OLD_LIB_VERSION) "$(CC)" "$(CFLAGS)" $(abspath $(LIBOUTDIR))

# Constants keep their values and functions their prototypes (tests/abi/frozen.py explains why
# abidiff alone is not enough): tests/abi/constants.txt and tests/abi/prototypes.txt.
FROZEN_CHECK = $(PYTHON) tests/abi/frozen.py check $(HEADER) tests/abi $(CC)
check-abi-frozen:
	@$(FROZEN_CHECK)

# abigail-tools: the built library's ABI (public types only, from the headers) against the committed
# baseline; tests/abi/abi_check.py decides what is incompatible (docs/ABI.md).
ABI_BASELINE := tests/abi/libavengers.abi
# --load-all-types: every public type, also those libabigail cannot reach from a function.
ABIDW_FLAGS  := --headers-dir include/avengers --load-all-types --no-corpus-path --no-comp-dir-path
abi-check: $(SHLIB)
	@mkdir -p $(BUILDDIR)/abi
	@abidw $(ABIDW_FLAGS) --out-file $(BUILDDIR)/abi/current.abi $(SHLIB)
	@$(PYTHON) tests/abi/abi_check.py $(HEADER) $(ABI_BASELINE) $(BUILDDIR)/abi/current.abi
	@$(FROZEN_CHECK)
	@$(MAKE) --no-print-directory -s check-abi-callers

abi-baseline: $(SHLIB)
	abidw $(ABIDW_FLAGS) --out-file $(ABI_BASELINE) $(SHLIB)
	$(PYTHON) tests/abi/frozen.py dump $(HEADER) tests/abi
