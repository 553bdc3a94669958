# Bindings and packaging (issue 6): Python (ctypes), Rust (cargo workspace), C++ (avengers.hpp),
# examples, the install check, and the libavengers(3) man page.
#
#   make check-python   pytest over bindings/python (tests/python), incl. cross-language identity
#   make check-cpp      tests/cpp/test_hpp.cpp built as C++17 and as C++20, both run
#   make check-rust     cargo test --offline in bindings/rust (skipped, with a count, without cargo)
#   make check-install  install into a temporary prefix, build the C/C++ examples against it with
#                       pkg-config only, run Python against it, uninstall, check nothing remains
#   make examples       train + evaluate (Python), then route with the C, C++ and Rust examples

CARGO   ?= cargo
HAVE_CARGO := $(shell command -v $(CARGO) >/dev/null 2>&1 && echo yes)
BIND_DIR := $(BUILDDIR)/bindings
CXXWARN := -Wall -Wextra -Wpedantic -Werror
# The in-tree library, found at run time through an rpath (absolute: tests may run elsewhere).
INTREE_LINK := -L$(LIBOUTDIR) -lavengers -Wl,-rpath,$(abspath $(LIBOUTDIR))
CARGO_ENV := CARGO_TARGET_DIR=$(abspath $(BUILDDIR))/rust
PY_ENV :=
# With another LIBOUTDIR, Python and Rust test that library, not the checkout's lib/ (which they
# find by themselves), unless the caller chose one with AVENGERS_LIB / AVENGERS_LIB_DIR.
ifneq ($(abspath $(LIBOUTDIR)),$(abspath lib))
CARGO_ENV += AVENGERS_LIB_DIR=$${AVENGERS_LIB_DIR:-$(abspath $(LIBOUTDIR))}
PY_ENV += AVENGERS_LIB=$${AVENGERS_LIB:-$(abspath $(LIBOUTDIR))/libavengers.so}
endif
comma := ,
# Rust tests: the number of #[test] functions, reported when cargo is missing.
RUST_TEST_COUNT = $(shell cat bindings/rust/*/src/*.rs bindings/rust/*/tests/*.rs 2>/dev/null | grep -c '^ *\#\[test\]')

CHECK_SUITES += python cpp rust install
.PHONY: check-python check-cpp check-rust check-install examples bindings-cpp

# ---- C++ ------------------------------------------------------------------------------------------
$(BIND_DIR)/test_hpp17: tests/cpp/test_hpp.cpp include/avengers/avengers.hpp $(HEADER) tests/harness.h \
                        tests/testdata.h shared
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 $(CXXWARN) -O1 -Iinclude -Itests -o $@ $< $(INTREE_LINK)
$(BIND_DIR)/test_hpp20: tests/cpp/test_hpp.cpp include/avengers/avengers.hpp $(HEADER) tests/harness.h \
                        tests/testdata.h shared
	@mkdir -p $(dir $@)
	$(CXX) -std=c++20 $(CXXWARN) -O1 -Iinclude -Itests -o $@ $< $(INTREE_LINK)

# Both test builds run; with clang++ present, the header and test also compile warning-free
# under clang as C++17 and C++20 (each compile counts as one test).
CLANGXX ?= clang++
check-cpp: $(BIND_DIR)/test_hpp17 $(BIND_DIR)/test_hpp20
	@out=$$(tests/run_unit.sh $^ 2>&1); rc=$$?; printf '%s\n' "$$out" | sed '$$d'; \
	  line=$$(printf '%s\n' "$$out" | tail -n 1); p=$${line%% passed*}; f=$${line#*passed, }; f=$${f%% failed*}; \
	  if command -v $(CLANGXX) >/dev/null 2>&1; then \
	    for std in 17 20; do \
	      if $(CLANGXX) -std=c++$$std $(CXXWARN) -Iinclude -Itests -fsyntax-only tests/cpp/test_hpp.cpp; \
	      then p=$$((p + 1)); echo "ok   $(CLANGXX) -std=c++$$std"; \
	      else f=$$((f + 1)); echo "FAIL $(CLANGXX) -std=c++$$std"; fi; done; \
	  else echo "skip: $(CLANGXX) not found"; fi; \
	  echo "$$p passed, $$f failed"; [ $$rc -eq 0 ] && [ $$f -eq 0 ]

# ---- Python ---------------------------------------------------------------------------------------
# pytest exit status 5 means "no tests collected": a failure here, not a pass.
check-python: shared
	@$(PY_ENV) $(PYTHON) -m pytest -q -p no:cacheprovider tests/python; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; echo "0 passed, 1 failed"; exit 1; fi; \
	  exit $$rc

# ---- Rust -----------------------------------------------------------------------------------------
ifeq ($(HAVE_CARGO),yes)
check-rust: shared
	@log=$$(mktemp); \
	  (cd bindings/rust && $(CARGO_ENV) $(CARGO) test --offline 2>&1) >$$log; rc=$$?; \
	  cat $$log; \
	  awk '/^test result:/ { for (i = 1; i <= NF; i++) { w = $$(i + 1); gsub(/[;,]/, "", w); \
	         if (w == "passed") p += $$i; if (w == "failed") f += $$i } } \
	       END { if (!p && !f && rc) f = 1; printf "%d passed, %d failed\n", p, f }' rc=$$rc $$log; \
	  rm -f $$log; exit $$rc
else
check-rust:
	@echo "check-rust: skipped, $(CARGO) not found ($(RUST_TEST_COUNT) Rust tests not run)"
	@echo "0 passed, 0 failed"
endif

# ---- install check ----------------------------------------------------------------------------------
check-install: all
	@MAKE="$(MAKE)" CC="$(CC)" CXX="$(CXX)" PYTHON="$(PYTHON)" PKG_CONFIG="$(PKG_CONFIG)" \
	  tests/cpp/check_install.sh

# ---- examples ---------------------------------------------------------------------------------------
EX_DATA   := examples/data/llmrouter9
EX_ROUTER := $(BUILDDIR)/examples/llmrouter9.avr
EX_ROWS   ?= 5

$(BIND_DIR)/route_c: examples/c/route.c $(HEADER) shared
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(WARN) -O2 -Iinclude -o $@ $< $(INTREE_LINK)
$(BIND_DIR)/route_cpp: examples/cpp/route.cpp include/avengers/avengers.hpp $(HEADER) shared
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 $(CXXWARN) -O2 -Iinclude -o $@ $< $(INTREE_LINK)

EX_OUT := $(BUILDDIR)/examples
EX_EMB := $(EX_DATA)/emb_tfidf_svd384.npy
examples: $(BIND_DIR)/route_c $(BIND_DIR)/route_cpp
	@mkdir -p $(EX_OUT)
	@echo "== examples/python/train_eval.py"
	$(PYTHON) examples/python/train_eval.py --save $(EX_ROUTER)
	@echo "== examples/c/route.c, examples/cpp/route.cpp$(if $(HAVE_CARGO),$(comma) examples/rust): every row at alpha 0.7"
	$(BIND_DIR)/route_c $(EX_ROUTER) $(EX_EMB) 0.7 > $(EX_OUT)/route_c.txt
	$(BIND_DIR)/route_cpp $(EX_ROUTER) $(EX_EMB) 0.7 > $(EX_OUT)/route_cpp.txt
ifeq ($(HAVE_CARGO),yes)
	cd bindings/rust && $(CARGO_ENV) $(CARGO) run --offline -q --release -p avengers-route-example -- \
	  $(abspath $(EX_ROUTER)) $(abspath $(EX_EMB)) 0.7 > $(abspath $(EX_OUT))/route_rust.txt
	@cmp $(EX_OUT)/route_c.txt $(EX_OUT)/route_rust.txt
else
	@echo "examples/rust: skipped ($(CARGO) not found)"
endif
	@cmp $(EX_OUT)/route_c.txt $(EX_OUT)/route_cpp.txt
	@head -n $(EX_ROWS) $(EX_OUT)/route_c.txt
	@echo "... the languages agree on all $$(wc -l < $(EX_OUT)/route_c.txt) rows"

# ---- man page -------------------------------------------------------------------------------------
install-extra::
	install -d $(DESTDIR)$(MANDIR)/man3
	install -m 644 docs/man/libavengers.3 $(DESTDIR)$(MANDIR)/man3/libavengers.3

uninstall-extra::
	rm -f $(DESTDIR)$(MANDIR)/man3/libavengers.3

clean-extra::
	rm -rf $(BIND_DIR) $(BUILDDIR)/rust $(BUILDDIR)/examples
