# libavengers build. `make` builds the shared and static library and the `avengers` command;
# `make check` runs every test suite; `make demo` trains and evaluates on the bundled data.
# Feature areas add their own rules in mk/*.mk and register test suites with CHECK_SUITES.

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
PYTHON  ?= /usr/bin/python3
CFLAGS  ?= -O2 -g
LDFLAGS ?=

HEADER := include/avengers/avengers.h
MAJOR  := $(shell sed -n 's/^\#define AV_VERSION_MAJOR \([0-9]*\).*/\1/p' $(HEADER))
MINOR  := $(shell sed -n 's/^\#define AV_VERSION_MINOR \([0-9]*\).*/\1/p' $(HEADER))
PATCH  := $(shell sed -n 's/^\#define AV_VERSION_PATCH \([0-9]*\).*/\1/p' $(HEADER))
VERSION := $(MAJOR).$(MINOR).$(PATCH)

# Build output; overridable so that sanitizer builds (mk/hardening.mk) live beside the normal build
# instead of clobbering it, e.g. `make BUILDDIR=build-asan LIBOUTDIR=build-asan/lib`.
BUILDDIR  ?= build
LIBOUTDIR ?= lib

SONAME   := libavengers.so.$(MAJOR)
SHLIB    := $(LIBOUTDIR)/libavengers.so.$(VERSION)
STLIB    := $(LIBOUTDIR)/libavengers.a

# Dependencies come from pkg-config; if it is missing or the packages are not installed, say how
# to install them instead of failing with a compiler error.
DEPS_PKGS := openblas zlib
DEPS_OK   := $(shell $(PKG_CONFIG) --exists $(DEPS_PKGS) libcjson 2>/dev/null && echo yes)
# Running as root on a machine without them (a fresh Debian box): install them first.
ifneq ($(DEPS_OK),yes)
ifeq ($(shell id -u),0)
ifeq ($(filter clean uninstall,$(MAKECMDGOALS)),)
$(info libavengers: installing missing Debian packages (tools/install-deps.sh) ...)
$(shell ./tools/install-deps.sh >&2)
endif
endif
endif
DEPS_OK   := $(shell $(PKG_CONFIG) --exists $(DEPS_PKGS) 2>/dev/null && echo yes)
ifeq ($(DEPS_OK),yes)
DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(DEPS_PKGS))
DEP_LIBS   := $(shell $(PKG_CONFIG) --libs $(DEPS_PKGS))
endif

WARN     := -Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
AV_CFLAGS := -std=c11 $(WARN) -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc $(DEP_CFLAGS) \
             -fvisibility=hidden -pthread $(EXTRA_CFLAGS)
LIB_LIBS := $(DEP_LIBS) -lpthread -lm

LIB_SRCS := $(sort $(wildcard src/*.c) $(wildcard src/simd/*.c))
LIB_OBJS := $(patsubst src/%.c,$(BUILDDIR)/obj/%.o,$(LIB_SRCS))
PIC_OBJS := $(patsubst src/%.c,$(BUILDDIR)/pic/%.o,$(LIB_SRCS))

CHECK_SUITES := unit

.PHONY: all lib shared static check demo bench install uninstall clean deps-check
.DEFAULT_GOAL := all

all: deps-check shared static all-extra

# Feature areas (mk/*.mk) hook into these with double-colon rules of their own.
.PHONY: all-extra install-extra uninstall-extra clean-extra
all-extra::
install-extra::
uninstall-extra::
clean-extra::

lib: shared static
shared: $(SHLIB) $(LIBOUTDIR)/libavengers.so.$(MAJOR) $(LIBOUTDIR)/libavengers.so
static: $(STLIB)

deps-check:
	@if [ "$(DEPS_OK)" != yes ]; then \
	  echo "libavengers needs OpenBLAS and zlib development files (found through pkg-config)."; \
	  echo "On Debian/Ubuntu:  sudo apt-get install -y libopenblas-dev zlib1g-dev pkgconf"; \
	  echo "or run:            make deps   (installs every build and test dependency, needs root)"; \
	  exit 1; fi

$(BUILDDIR)/obj/%.o: src/%.c src/internal.h $(HEADER) | deps-check
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(AV_CFLAGS) -c $< -o $@

$(BUILDDIR)/pic/%.o: src/%.c src/internal.h $(HEADER) | deps-check
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(AV_CFLAGS) -fPIC -c $< -o $@

$(SHLIB): $(PIC_OBJS) src/avengers.map
	@mkdir -p $(LIBOUTDIR)
	$(CC) $(CFLAGS) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=src/avengers.map \
	  -Wl,--no-undefined -o $@ $(PIC_OBJS) $(LDFLAGS) $(LIB_LIBS)

$(LIBOUTDIR)/libavengers.so.$(MAJOR): $(SHLIB)
	ln -sf $(notdir $(SHLIB)) $@
$(LIBOUTDIR)/libavengers.so: $(LIBOUTDIR)/libavengers.so.$(MAJOR)
	ln -sf $(notdir $<) $@

$(STLIB): $(LIB_OBJS)
	@mkdir -p $(LIBOUTDIR)
	rm -f $@
	ar rcs $@ $^

# ---- unit tests ----------------------------------------------------------------------------------
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILDDIR)/tests/%,$(UNIT_SRCS))
TEST_CFLAGS := -std=c11 $(WARN) -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc -Itests $(DEP_CFLAGS) -pthread

$(BUILDDIR)/tests/%: tests/unit/%.c $(wildcard tests/*.h) $(STLIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -o $@ $< $(STLIB) $(LIB_LIBS)

.PHONY: unit-tests check-unit
unit-tests: $(UNIT_BINS)
check-unit: $(UNIT_BINS)
	@tests/run_unit.sh $(UNIT_BINS)

# Every suite registered in CHECK_SUITES runs as `make check-<suite>`; the runner prints each
# suite's summary and the total as the last line: `N passed, N failed`.
check: all
	@PYTHON=$(PYTHON) tests/run_suites.sh $(CHECK_SUITES)

# Install every build, test and demo dependency from Debian packages (needs root).
.PHONY: deps
deps:
	./tools/install-deps.sh

# ---- install --------------------------------------------------------------------------------------
# Phony: regenerated on every install, since it embeds PREFIX/LIBDIR (which the file's date cannot
# tell); otherwise `make install PREFIX=/a` after `make install` installs a .pc pointing elsewhere.
.PHONY: build/avengers.pc
build/avengers.pc: pkgconfig/avengers.pc.in $(HEADER)
	@mkdir -p build
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
	    -e 's|@VERSION@|$(VERSION)|g' $< > $@

install: all build/avengers.pc
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/avengers $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 include/avengers/*.h* $(DESTDIR)$(INCLUDEDIR)/avengers/
	install -m 755 $(SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(SHLIB)) $(DESTDIR)$(LIBDIR)/libavengers.so.$(MAJOR)
	ln -sf libavengers.so.$(MAJOR) $(DESTDIR)$(LIBDIR)/libavengers.so
	install -m 644 $(STLIB) $(DESTDIR)$(LIBDIR)/
	install -m 644 build/avengers.pc $(DESTDIR)$(PKGCONFIGDIR)/avengers.pc
	@$(MAKE) --no-print-directory install-extra

uninstall: uninstall-extra
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/avengers/,$(notdir $(wildcard include/avengers/*.h*)))
	-rmdir $(DESTDIR)$(INCLUDEDIR)/avengers 2>/dev/null
	rm -f $(DESTDIR)$(LIBDIR)/$(notdir $(SHLIB)) $(DESTDIR)$(LIBDIR)/libavengers.so.$(MAJOR) \
	      $(DESTDIR)$(LIBDIR)/libavengers.so $(DESTDIR)$(LIBDIR)/libavengers.a \
	      $(DESTDIR)$(PKGCONFIGDIR)/avengers.pc

clean: clean-extra
	rm -rf build lib/*.so* lib/*.a demo

# Feature areas: CLI, bench, fuzz/sanitizers, bindings, examples.
-include $(sort $(wildcard mk/*.mk))
