# Bindings: Python (ctypes), Rust (cargo workspace), C++ (avengers.hpp), and the install check.
#
#   make check-python   pytest over bindings/python (tests/python), incl. cross-language identity
#   make check-dask     profiles merged across Dask workers through the Python binding (tests/dask)
#   make check-cpp      tests/cpp/test_hpp.cpp built as C++17 and as C++20, both run (also under
#                       `make asan`, with CFLAGS' sanitizer flags)
#   make check-rust     cargo test --offline in bindings/rust (skipped, with a count, without cargo)
#   make check-install  install into a temporary prefix; against it only: C and C++ built with
#                       pkg-config, the installed Python package (no AVENGERS_LIB) and a pip+venv
#                       install, a Rust crate with only a path dependency; relocatable .pc,
#                       ldconfig rules; uninstall, check nothing remains (tests/cpp/check_install.sh)
#   make bindings       regenerate the declarations the bindings take from avengers.h: the Rust
#                       -sys crate's src/bindings.rs (Debian's bindgen) and Python's _decls.py
#                       (pycparser); check-rust and check-python fail while either is stale

CARGO   ?= cargo
HAVE_CARGO := $(shell command -v $(CARGO) >/dev/null 2>&1 && echo yes)
BIND_DIR := $(BUILDDIR)/bindings
# The in-tree library, found at run time through an rpath (absolute: tests may run elsewhere).
INTREE_LINK := -L$(LIBOUTDIR) -lavengers -Wl,-rpath,$(abspath $(LIBOUTDIR))
CARGO_ENV := CARGO_TARGET_DIR=$(abspath $(BUILDDIR))/rust
# The cross-language tests build the C/C++ examples against this library and the Rust example here.
PY_ENV := AVENGERS_LIB_DIR=$${AVENGERS_LIB_DIR:-$(abspath $(LIBOUTDIR))} \
  AVENGERS_CARGO_TARGET_DIR=$(abspath $(BUILDDIR))/rust
# With another LIBOUTDIR, Python and Rust test that library, not the checkout's lib/ (which they
# find by themselves), unless the caller chose one with AVENGERS_LIB / AVENGERS_LIB_DIR.
ifneq ($(abspath $(LIBOUTDIR)),$(abspath lib))
CARGO_ENV += AVENGERS_LIB_DIR=$${AVENGERS_LIB_DIR:-$(abspath $(LIBOUTDIR))}
PY_ENV += AVENGERS_LIB=$${AVENGERS_LIB:-$(abspath $(LIBOUTDIR))/libavengers.so}
endif
# Rust tests: the number of #[test] functions, reported when cargo is missing.
RUST_TEST_COUNT = $(shell cat bindings/rust/*/src/*.rs bindings/rust/*/tests/*.rs 2>/dev/null | grep -c '^ *\#\[test\]')

CHECK_SUITES += python dask cpp rust install
.PHONY: check-python check-dask check-cpp check-rust check-install bindings

# ---- declarations generated from the header -------------------------------------------------------
BINDGEN ?= bindgen
GEN_BINDINGS := $(PYTHON) tools/gen_bindings.py
bindings:
	BINDGEN=$(BINDGEN) $(GEN_BINDINGS)
# One test for the Rust suite: bindings.rs regenerated in memory equals the committed file
# (skipped, with the reason, without bindgen). Its report goes to stderr, "<passed> <failed>" to stdout.
RUST_DECLS_CHECK = if command -v $(BINDGEN) >/dev/null 2>&1; then \
	    if BINDGEN=$(BINDGEN) $(GEN_BINDINGS) --check rust >&2; then echo "1 0"; else echo "0 1"; fi; \
	  else echo "skip: $(BINDGEN) not found (Debian: apt-get install bindgen), bindings.rs not compared with the header" >&2; \
	    echo "0 0"; fi

# ---- Python ---------------------------------------------------------------------------------------
# `make install` also installs the package (pure Python, with its type stubs) where this PYTHON
# imports from inside PREFIX (tools/python_site.py: /usr/local/lib/python3.X/dist-packages on
# Debian), and records LIBDIR in avengers/_installed.py so the installed binding loads the library
# installed with it. INSTALL_PYTHON=no leaves it out; PYTHONDIR chooses another directory.
INSTALL_PYTHON ?= yes
PYTHONDIR ?= $(shell $(PYTHON) tools/python_site.py $(PREFIX) 2>/dev/null)
PY_PKG_FILES := $(wildcard bindings/python/avengers/*.py bindings/python/avengers/*.pyi) \
                bindings/python/avengers/py.typed
ifeq ($(INSTALL_PYTHON),yes)
install-extra::
	@if [ -z "$(PYTHONDIR)" ]; then echo "note: $(PYTHON) not found, the Python package is not installed"; \
	else install -d $(DESTDIR)$(PYTHONDIR)/avengers && \
	  install -m 644 $(PY_PKG_FILES) $(DESTDIR)$(PYTHONDIR)/avengers/ && \
	  printf '# Written by make install: the directory libavengers was installed in.\nLIBDIR = %s\n' \
	    "'$(LIBDIR)'" > $(DESTDIR)$(PYTHONDIR)/avengers/_installed.py && \
	  echo "Python package: $(PYTHONDIR)/avengers"; fi
uninstall-extra::
	@if [ -n "$(PYTHONDIR)" ] && [ -f $(DESTDIR)$(PYTHONDIR)/avengers/_installed.py ]; then \
	  rm -rf $(DESTDIR)$(PYTHONDIR)/avengers; fi
endif

# pytest exit status 5 means "no tests collected": a failure here, not a pass.
check-python: shared
	@$(PY_ENV) $(PYTHON) -m pytest -q -p no:cacheprovider tests/python; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; echo "0 passed, 1 failed"; exit 1; fi; \
	  exit $$rc

# Needs Debian python3-dask and python3-distributed; without them the test is skipped with the
# reason printed, and the suite reports 0 passed, 0 failed.
check-dask: shared
	@log=$$(mktemp); \
	  $(PYTHON) -m pytest -q -rs -p no:cacheprovider -W ignore::DeprecationWarning tests/dask \
	    >$$log 2>&1; rc=$$?; cat $$log; \
	  if [ $$rc -eq 5 ] && grep -q skipped $$log; then echo "0 passed, 0 failed"; rm -f $$log; exit 0; fi; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; echo "0 passed, 1 failed"; rm -f $$log; exit 1; fi; \
	  if ! grep -Eq '[0-9]+ (passed|failed)' $$log; then echo "0 passed, 0 failed"; fi; \
	  rm -f $$log; exit $$rc

# ---- C++ ------------------------------------------------------------------------------------------
# The sanitizer flags of CFLAGS, so that `make asan` (which runs this suite too) builds the C++ tests
# with ASan+UBSan against its instrumented library: RouteOptions built from temporaries is checked
# there for use after free.
CXX_SANITIZE = $(filter -fsanitize=% -fno-sanitize% -fno-omit-frame-pointer,$(CFLAGS))
$(BIND_DIR)/test_hpp17 $(BIND_DIR)/test_hpp20: $(BIND_DIR)/test_hpp%: tests/cpp/test_hpp.cpp \
    include/avengers/avengers.hpp $(HEADER) tests/harness.h tests/testdata.h shared
	@mkdir -p $(dir $@)
	$(CXX) -std=c++$* $(CXXWARN) -O1 $(CXX_SANITIZE) -Iinclude -Itests -o $@ $< $(INTREE_LINK)

# Both test builds run; with clang++ present, the header and test also compile warning-free
# under clang as C++17 and C++20 (each compile counts as one test).
CLANGXX ?= clang++
check-cpp: $(BIND_DIR)/test_hpp17 $(BIND_DIR)/test_hpp20
	@out=$$(tests/run_unit.sh $^ 2>&1); rc=$$?; printf '%s\n' "$$out" | sed '$$d'; \
	  line=$$(printf '%s\n' "$$out" | tail -n 1); p=$${line%% passed*}; f=$${line#*passed, }; f=$${f%% failed*}; \
	  for std in 17 20; do \
	    if printf '#include "avengers/avengers.hpp"\n#ifdef AV_STATIC_LINKING_ONLY\n#error\n#endif\nint main() { return 0; }\n' \
	         | $(CXX) -std=c++$$std $(CXXWARN) -Iinclude -fsyntax-only -x c++ -; \
	    then p=$$((p + 1)); echo "ok   avengers.hpp without AV_STATIC_LINKING_ONLY (c++$$std)"; \
	    else f=$$((f + 1)); echo "FAIL avengers.hpp without AV_STATIC_LINKING_ONLY (c++$$std)"; fi; done; \
	  if command -v $(CLANGXX) >/dev/null 2>&1; then \
	    for std in 17 20; do \
	      if $(CLANGXX) -std=c++$$std $(CXXWARN) -Iinclude -Itests -fsyntax-only tests/cpp/test_hpp.cpp; \
	      then p=$$((p + 1)); echo "ok   $(CLANGXX) -std=c++$$std"; \
	      else f=$$((f + 1)); echo "FAIL $(CLANGXX) -std=c++$$std"; fi; done; \
	  else echo "skip: $(CLANGXX) not found"; fi; \
	  echo "$$p passed, $$f failed"; [ $$rc -eq 0 ] && [ $$f -eq 0 ]

# ---- Rust -----------------------------------------------------------------------------------------
ifeq ($(HAVE_CARGO),yes)
check-rust: shared
	@log=$$(mktemp); \
	  gen=$$($(RUST_DECLS_CHECK)); \
	  (cd bindings/rust && $(CARGO_ENV) $(CARGO) test --offline 2>&1) >$$log; rc=$$?; \
	  cat $$log; \
	  awk '/^test result:/ { for (i = 1; i <= NF; i++) { w = $$(i + 1); gsub(/[;,]/, "", w); \
	         if (w == "passed") p += $$i; if (w == "failed") f += $$i } } \
	       END { split(gen, g, " "); p += g[1]; f += g[2]; \
	             if (!p && !f && rc) f = 1; printf "%d passed, %d failed\n", p, f }' rc=$$rc gen="$$gen" $$log; \
	  rm -f $$log; [ $$rc -eq 0 ] && [ "$${gen#* }" = 0 ]
else
check-rust:
	@gen=$$($(RUST_DECLS_CHECK)); \
	  echo "check-rust: skipped, $(CARGO) not found ($(RUST_TEST_COUNT) Rust tests not run)"; \
	  echo "$${gen% *} passed, $${gen#* } failed"; [ "$${gen#* }" = 0 ]
endif

# ---- install check ----------------------------------------------------------------------------------
check-install: all
	@MAKE="$(MAKE)" CC="$(CC)" CXX="$(CXX)" PYTHON="$(PYTHON)" PKG_CONFIG="$(PKG_CONFIG)" \
	  tests/cpp/check_install.sh

clean-extra::
	rm -rf $(BIND_DIR) $(BUILDDIR)/rust
