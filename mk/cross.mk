# Other platforms (docs/PORTABILITY.md): `make cross-check` builds the library without OpenBLAS for
# every platform whose tools this machine has, runs the tests there (natively or under qemu-user),
# compares what each decides and writes with the native x86-64 build, and ends
# with `N passed, N failed`. It installs nothing: `make deps-cross` installs the Debian packages
# (tools/install-cross-deps.sh). CROSS_PLATFORMS picks a subset, e.g. `make cross-check
# CROSS_PLATFORMS="s390x i686"`; CROSS_FULL=1 runs every unit and integration test under the slow
# emulators too (default there: the representative subset named in docs/PORTABILITY.md).
# WebAssembly (wasm, wasm-scalar) is built by mk/wasm.mk and runs under Node.js.
# Windows (MinGW-w64, run under Wine) is built by mk/windows.mk.

CROSS_DIR       ?= build-cross
CROSS_ZLIB_ROOT ?= /opt/avengers-cross
CROSS_PLATFORMS ?= noblas i686 s390x aarch64 wasm wasm-scalar windows
CROSS_FULL      ?=

# The portability probe (tests/portability/probe.c) of any build: public API only.
$(BUILDDIR)/portability/probe: tests/portability/probe.c $(STLIB) $(HEADER)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -o $@ $< $(STLIB) $(LIB_LIBS)

# $(call cross_make,triplet,platform,extra CFLAGS): the static library, the unit and integration
# tests and the probe of one Linux target, statically linked so that qemu-user needs no sysroot.
cross_make = $(MAKE) --no-print-directory NO_BLAS=1 CC=$(1)-gcc AR=$(1)-ar \
  BUILDDIR=$(CROSS_DIR)/$(2) LIBOUTDIR=$(CROSS_DIR)/$(2)/lib CFLAGS="-O2 -static $(3)" \
  DEP_CFLAGS="-I$(CROSS_ZLIB_ROOT)/$(1)/include" DEP_LIBS="-L$(CROSS_ZLIB_ROOT)/$(1)/lib -lz" \
  $(CROSS_DIR)/$(2)/lib/libavengers.a unit-tests $(CROSS_DIR)/$(2)/portability/probe

.PHONY: cross-build-i686 cross-build-s390x cross-build-aarch64 cross-build-noblas
# i686 with SSE2 arithmetic (-mfpmath=sse): x87 excess precision would round differently from
# every other platform; Debian's i386 baseline has no SSE2, so that is a choice of this build.
cross-build-i686:
	+@$(call cross_make,i686-linux-gnu,i686,-msse2 -mfpmath=sse)
cross-build-s390x:
	+@$(call cross_make,s390x-linux-gnu,s390x,)
cross-build-aarch64:
	+@$(call cross_make,aarch64-linux-gnu,aarch64,)
cross-build-noblas:
	+@$(MAKE) --no-print-directory NO_BLAS=1 BUILDDIR=$(CROSS_DIR)/noblas \
	  LIBOUTDIR=$(CROSS_DIR)/noblas/lib static unit-tests cli $(CROSS_DIR)/noblas/portability/probe

.PHONY: cross-check deps-cross
cross-check: $(BUILDDIR)/portability/probe $(CLI_BIN)
	@CROSS_DIR=$(CROSS_DIR) CROSS_FULL=$(CROSS_FULL) MAKE="$(MAKE)" \
	  $(PYTHON) tests/portability/cross_check.py $(CROSS_PLATFORMS)

deps-cross:
	./tools/install-cross-deps.sh

clean-extra::
	rm -rf $(CROSS_DIR)
