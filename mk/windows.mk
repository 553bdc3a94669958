# Windows x86-64 (docs/PORTABILITY.md): a MinGW-w64 cross build without OpenBLAS into
# build-cross/windows/ (`make cross-build-windows`): avengers.dll with its import library
# libavengers.dll.a (objects built with AV_BUILDING_DLL: AV_API is dllexport), the static library
# libavengers.a (objects built with AV_STATIC), the C unit and integration tests and the portability
# probe (statically linked, AV_STATIC), a program that links the DLL through the import library
# (AV_API is dllimport there) and, when Debian's cJSON source is unpacked (make deps-cross), the
# command avengers.exe. Everything runs under Wine (tests/portability/cross_check.py). zlib is
# Debian's libz-mingw-w64-dev, linked statically so that the DLL needs nothing beyond Windows.

WIN_TRIPLET ?= x86_64-w64-mingw32
WIN_CC      ?= $(WIN_TRIPLET)-gcc
WIN_AR      ?= $(WIN_TRIPLET)-ar
WIN_DIR     ?= $(CROSS_DIR)/windows
WIN_ZLIB    ?= /usr/$(WIN_TRIPLET)/lib/libz.a
# Debian's cJSON source (`apt-get source cjson`, unpacked by tools/install-cross-deps.sh): compiled
# into the build directory, never committed.
WIN_CJSON   ?= $(CROSS_ZLIB_ROOT)/$(WIN_TRIPLET)/cjson
# C99 stdio (%zu, two-digit exponents, as glibc) rather than the CRT's.
WIN_CFLAGS  ?= -O2
WIN_FLAGS    = $(WIN_CFLAGS) $(C_STD) $(WARN) -Iinclude -Isrc -DAV_NO_BLAS -D__USE_MINGW_ANSI_STDIO=1
WIN_LDFLAGS := -static-libgcc

WIN_DLL_OBJS := $(patsubst src/%.c,$(WIN_DIR)/dll/%.o,$(LIB_SRCS))
WIN_ST_OBJS  := $(patsubst src/%.c,$(WIN_DIR)/obj/%.o,$(LIB_SRCS))
WIN_DLL      := $(WIN_DIR)/lib/avengers.dll
WIN_IMPLIB   := $(WIN_DIR)/lib/libavengers.dll.a
WIN_STLIB    := $(WIN_DIR)/lib/libavengers.a
# Left out on Windows (tests/portability/cross_check.py prints why): test_crashsave kills a forked
# child with SIGKILL; test_closure injects write()/fsync() failures with --wrap and makes FIFOs,
# device nodes and symbolic links.
WIN_SKIP_TESTS := test_crashsave test_closure
WIN_TEST_BINS := $(patsubst %,%.exe,$(call test_bins,$(filter-out $(WIN_SKIP_TESTS), \
                   $(basename $(notdir $(TEST_SRCS)))),$(WIN_DIR)))
WIN_PROBE    := $(WIN_DIR)/portability/probe.exe
WIN_DLL_PROBE := $(WIN_DIR)/bin/probe_dll.exe
WIN_CLI      := $(WIN_DIR)/bin/avengers.exe

$(WIN_DIR)/dll/%.o: src/%.c $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_FLAGS) -DAV_BUILDING_DLL -c $< -o $@
$(WIN_DIR)/obj/%.o: src/%.c $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_FLAGS) -DAV_STATIC -c $< -o $@

$(WIN_DLL): $(WIN_DLL_OBJS)
	@mkdir -p $(dir $@)
	$(WIN_CC) -shared -o $@ $^ -Wl,--out-implib,$(WIN_IMPLIB) $(WIN_LDFLAGS) $(WIN_ZLIB)
$(WIN_IMPLIB): $(WIN_DLL)
$(WIN_STLIB): $(WIN_ST_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(WIN_AR) rcs $@ $^

# Tests and the probe: static executables (winpthreads for the tests' own threads).
$(WIN_DIR)/tests/%.exe: tests/%.c $(TEST_HDRS) $(WIN_STLIB)
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_FLAGS) -DAV_STATIC -Itests -pthread -o $@ $< $(WIN_STLIB) $(WIN_ZLIB) $(WIN_TEST_LDFLAGS) -static
$(WIN_PROBE): tests/portability/probe.c $(WIN_STLIB) $(HEADER)
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_FLAGS) -DAV_STATIC -o $@ $< $(WIN_STLIB) $(WIN_ZLIB) -static
# The probe again, linked with avengers.dll through its import library: the header as a DLL user
# sees it (no AV_STATIC, so AV_API is dllimport); its decisions and files must be the same.
$(WIN_DLL_PROBE): tests/portability/probe.c $(WIN_IMPLIB) $(HEADER)
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_FLAGS) -o $@ $< -L$(WIN_DIR)/lib -l:libavengers.dll.a -static-libgcc
	cp $(WIN_DLL) $(dir $@)

# avengers.exe: the command with Debian's cJSON compiled in (static, CJSON_HIDE_SYMBOLS).
WIN_CLI_OBJS := $(patsubst cli/%.c,$(WIN_DIR)/cli/%.o,$(CLI_SRCS)) $(WIN_DIR)/cjson/cJSON.o
$(WIN_DIR)/cjson/include/cjson/cJSON.h: $(WIN_CJSON)/cJSON.h
	@mkdir -p $(dir $@)
	cp $< $@
$(WIN_DIR)/cjson/cJSON.o: $(WIN_CJSON)/cJSON.c $(WIN_DIR)/cjson/include/cjson/cJSON.h
	$(WIN_CC) $(WIN_CFLAGS) -DCJSON_HIDE_SYMBOLS -I$(WIN_DIR)/cjson/include/cjson -c $< -o $@
$(WIN_DIR)/cli/%.o: cli/%.c $(CLI_HDRS) $(WIN_DIR)/cjson/include/cjson/cJSON.h
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_FLAGS) -DAV_STATIC -DCJSON_HIDE_SYMBOLS -Icli -I$(WIN_DIR)/cjson/include -c $< -o $@
$(WIN_CLI): $(WIN_CLI_OBJS) $(WIN_STLIB)
	@mkdir -p $(dir $@)
	$(WIN_CC) -o $@ $(WIN_CLI_OBJS) $(WIN_STLIB) $(WIN_ZLIB) -static

.PHONY: cross-build-windows
cross-build-windows: $(WIN_DLL) $(WIN_STLIB) $(WIN_TEST_BINS) $(WIN_PROBE) $(WIN_DLL_PROBE) \
                     $(if $(wildcard $(WIN_CJSON)/cJSON.c),$(WIN_CLI))

# The allocation-counting tests wrap the allocator as on Linux (mk/tests.mk), with the CRT's
# _aligned_malloc/_aligned_free in place of posix_memalign (the library's aligned memory there).
WIN_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=_aligned_malloc
$(call test_bins,test_batch,$(WIN_DIR)).exe: WIN_TEST_LDFLAGS += $(WIN_WRAP)
$(call test_bins,test_format,$(WIN_DIR)).exe: WIN_TEST_LDFLAGS += $(WIN_WRAP) \
  -Wl,--wrap=free,--wrap=_aligned_free
$(patsubst %,%.exe,$(call test_bins,test_format test_load test_threads test_concurrency,$(WIN_DIR))): \
  tests/fuzz/small_router.h tests/fuzz/avfile.h
