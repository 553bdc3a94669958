# libavengers build. `make` builds the shared and static library and the `avengers` command;
# `make check` runs every test suite; `make demo` trains and evaluates on the bundled data.
# This file holds the settings and the flags every part shares; each concern has its own file in
# mk/ (listed at the end) and registers its test suites with CHECK_SUITES.

PREFIX     ?= /usr/local
EXEC_PREFIX ?= $(PREFIX)
LIBDIR     ?= $(EXEC_PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR     ?= $(EXEC_PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR    ?=

CC      ?= cc
CXX     ?= c++
PKG_CONFIG ?= pkg-config
LDCONFIG ?= ldconfig
PYTHON  ?= /usr/bin/python3
CFLAGS  ?= -O2 -g
LDFLAGS ?=

HEADER := include/avengers/avengers.h
MAJOR  := $(shell sed -n 's/^\#define AV_VERSION_MAJOR \([0-9]*\).*/\1/p' $(HEADER))
MINOR  := $(shell sed -n 's/^\#define AV_VERSION_MINOR \([0-9]*\).*/\1/p' $(HEADER))
PATCH  := $(shell sed -n 's/^\#define AV_VERSION_PATCH \([0-9]*\).*/\1/p' $(HEADER))
VERSION := $(MAJOR).$(MINOR).$(PATCH)

# `make NO_BLAS=1`: the library without OpenBLAS (k-means distance blocks from the library's own
# kernels; libc, pthreads and zlib only), built beside the normal build in build-noblas/.
NO_BLAS ?=
ifneq ($(filter 1 yes,$(NO_BLAS)),)
BUILDDIR  ?= build-noblas
LIBOUTDIR ?= build-noblas/lib
PLATFORM_CFLAGS += -DAV_NO_BLAS
endif

# GCC's ISO C mode on s390x evaluates float expressions in double (FLT_EVAL_METHOD 1), so a float
# sum or a float constant would round differently than on every other platform (and than the
# tests' expectations); "fast" keeps float arithmetic in float there, as the hardware does.
ifneq ($(findstring s390,$(shell $(CC) -dumpmachine 2>/dev/null)),)
PLATFORM_CFLAGS += -fexcess-precision=fast
endif

# Build output; overridable so that sanitizer builds (mk/sanitizers.mk, mk/fuzz.mk) live beside the
# normal build instead of clobbering it, e.g. `make BUILDDIR=build-asan LIBOUTDIR=build-asan/lib`.
BUILDDIR  ?= build
LIBOUTDIR ?= lib

SONAME   := libavengers.so.$(MAJOR)
SHLIB    := $(LIBOUTDIR)/libavengers.so.$(VERSION)
STLIB    := $(LIBOUTDIR)/libavengers.a

# ---- flags shared by every C and C++ build (one definition each) ---------------------------------
# Warnings valid in C and C++ (C++ builds and the header-alone check), then the C-only ones.
CXXWARN := -Wall -Wextra -Wpedantic -Werror
WARN    := $(CXXWARN) -Wshadow -Wstrict-prototypes -Wmissing-prototypes
C_STD   := -std=c11 -D_POSIX_C_SOURCE=200809L
# DEP_CFLAGS and DEP_LIBS come from pkg-config when a recipe first needs them (mk/deps.mk), so the
# flags that use them are expanded late (`=`), never while the Makefile is read.
# -pthread at compile time (the wasm build, which has no threads, compiles without it: mk/wasm.mk)
PTHREAD_CFLAGS ?= -pthread
AV_CFLAGS = $(C_STD) $(WARN) -Iinclude -Isrc $(DEP_CFLAGS) -fvisibility=hidden $(PTHREAD_CFLAGS) $(PLATFORM_CFLAGS) \
            $(EXTRA_CFLAGS)
LIB_LIBS  = $(DEP_LIBS) -lpthread -lm

# Suites of `make check`, in the order they run; each mk/ file appends its own.
CHECK_SUITES :=

.PHONY: all lib shared static check demo bench install uninstall clean
.DEFAULT_GOAL := all

all: deps-check shared static all-extra

# The mk/ files hook into these with double-colon rules of their own.
.PHONY: all-extra install-extra uninstall-extra clean-extra
all-extra::
install-extra::
uninstall-extra::
clean-extra::

# Every suite registered in CHECK_SUITES runs as `make check-<suite>`; the runner prints each
# suite's summary and the total as the last line: `N passed, N failed`.
check: all test-deps-check
	@PYTHON=$(PYTHON) tests/run_suites.sh $(CHECK_SUITES)

clean: clean-extra
	rm -rf build build-noblas lib/*.so* lib/*.a demo

# One file per concern. The order matters: a file may name in its rules' targets and prerequisites
# only what the files before it define.
#   deps        the Debian packages: checked (and installed as root) by a recipe step, `make deps`
#   library     the shared and static library, pkg-config file, install/uninstall, man page (3)
#   tests       C unit tests (tests/unit/<layer>/) and integration tests (tests/integration/)
#   cli         the `avengers` command, its install and end-to-end tests (tests/cli/)
#   demo        `make demo` on the bundled llmrouter9 data
#   fuzz        fuzz targets, corpus replay, libFuzzer runs (tests/fuzz/)
#   sanitizers  `make asan`, `make tsan`, `make valgrind`
#   abi         exported symbols, the header alone, frozen constants/prototypes, abidiff gate
#   bindings    Python, C++, Rust and the install check; the Dask merge test
#   examples    the C, C++, Python, Rust and Dask examples
#   bench       `make bench`, the NEON cross-check, the evaluation timing
#   paper_reference  the paper's rule and k-means against independent numpy/scikit-learn code
#   cross       `make cross-check` on other platforms (NO_BLAS, i686, s390x, AArch64)
#   wasm        the WebAssembly build (Emscripten, Node.js) and the JavaScript binding (bindings/js/)
#   windows     the MinGW-w64 build for Windows (DLL, tests under Wine) that cross-check runs
include $(addprefix mk/,deps.mk library.mk tests.mk cli.mk demo.mk fuzz.mk sanitizers.mk abi.mk \
                        bindings.mk examples.mk bench.mk paper_reference.mk cross.mk wasm.mk \
                        windows.mk)
