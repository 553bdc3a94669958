# WebAssembly (docs/PORTABILITY.md): the library built with Emscripten (emcc), without OpenBLAS and
# without threads (pthread_create fails there, so av_route_batch routes on the calling thread), as
# a static archive, as the Node.js module of the JavaScript binding (bindings/js/) and as test
# programs (the C unit and integration tests and the probe) that run under `node`.
#   make cross-build-wasm          SIMD128 kernels (-msimd128; backend "wasm-simd128") in
#                                  build-cross/wasm/; AV_SIMD=scalar forces the scalar kernels
#   make cross-build-wasm-scalar   the library and the probe without -msimd128 (scalar kernels
#                                  alone) in build-cross/wasm-scalar/
#   make check-js                  the binding's tests under node (bindings/js/test.js)
# zlib for wasm is built from Debian's zlib source package by `make deps-cross`
# (tools/install-cross-deps.sh) into $(CROSS_ZLIB_ROOT)/wasm32-emscripten.

EMCC      ?= emcc
EMAR      ?= emar
NODE      ?= node
# emcc spends much of its time starting up (Python): two at a time, whatever the caller passed
WASM_JOBS ?= 2
WASM_ZLIB ?= $(CROSS_ZLIB_ROOT)/wasm32-emscripten
# Debian's emcc runs its JavaScript tools with `node`, which finds Debian's node-acorn only
# through NODE_PATH when that `node` is not Debian's own.
WASM_ENV  := NODE_PATH=$(if $(NODE_PATH),$(NODE_PATH):)/usr/share/nodejs
# Link flags of every wasm program: the heap grows as needed, files are the host's (NODERAWFS),
# the exit code is main's, no threads (-pthread in the shared compile flags is overridden), and
# tools/wasm-pre.js (Node's fetch, the environment).
WASM_LINK := -sALLOW_MEMORY_GROWTH=1 -sUSE_PTHREADS=0 --pre-js tools/wasm-pre.js
WASM_PROGRAM_LINK := $(WASM_LINK) -sNODERAWFS=1 -sEXIT_RUNTIME=1
# The binding's module: what bindings/js/avengers.js calls (comma: mk/examples.mk).
WASM_EXPORTS := _malloc _free av_strerror av_last_error av_version_string av_simd_backend \
  av_router_load_buffer av_router_save_buffer av_free av_router_free av_router_dim \
  av_router_n_clusters av_router_n_models av_router_model_name av_router_model_index av_route \
  av_route_batch av_profile_update av_router_simd_backend av_js_route_ex av_js_heap_used
WASM_MODULE_LINK := $(WASM_LINK) -sMODULARIZE=1 -sEXPORT_NAME=createAvengersCore --no-entry \
  -sEXPORTED_FUNCTIONS=$(subst $(eval) ,$(comma),$(patsubst av_%,_av_%,$(WASM_EXPORTS))) \
  -sEXPORTED_RUNTIME_METHODS=UTF8ToString,stringToUTF8,lengthBytesUTF8

# $(call wasm_make,build dir,extra CFLAGS,more targets): the static library, the probe and more.
# Compiled without -pthread (PTHREAD_CFLAGS empty): objects compiled with it keep _Thread_local
# variables in wasm TLS, and a program linked without threads never sets up the TLS block, so
# those variables alias the data at the bottom of memory (the error detail overwrote a string
# literal: the "row N" messages of test_error, the known issue of 1.2).
wasm_make = $(WASM_ENV) $(MAKE) --no-print-directory -j$(WASM_JOBS) NO_BLAS=1 CC=$(EMCC) AR=$(EMAR) \
  PTHREAD_CFLAGS= \
  BUILDDIR=$(CROSS_DIR)/$(1) LIBOUTDIR=$(CROSS_DIR)/$(1)/lib CFLAGS="-O2 $(2)" \
  DEP_CFLAGS="-I$(WASM_ZLIB)/include" \
  DEP_LIBS="-L$(WASM_ZLIB)/lib -lz $(WASM_PROGRAM_LINK)" \
  $(CROSS_DIR)/$(1)/lib/libavengers.a $(CROSS_DIR)/$(1)/portability/probe $(3)

.PHONY: cross-build-wasm cross-build-wasm-scalar check-js
cross-build-wasm: wasm-zlib-check
	+@$(call wasm_make,wasm,-msimd128,unit-tests)
	+@$(MAKE) --no-print-directory $(CROSS_DIR)/wasm/js/avengers_core.js
cross-build-wasm-scalar: wasm-zlib-check
	+@$(call wasm_make,wasm-scalar,)

.PHONY: wasm-zlib-check
wasm-zlib-check:
	@test -f $(WASM_ZLIB)/lib/libz.a || { echo "no zlib for wasm in $(WASM_ZLIB): make deps-cross"; exit 1; }

# The binding's core module (CommonJS factory + .wasm), copied next to the binding's sources.
$(CROSS_DIR)/wasm/js/avengers_core.js: $(CROSS_DIR)/wasm/lib/libavengers.a bindings/js/glue.c \
    tools/wasm-pre.js
	@mkdir -p $(dir $@) bindings/js/wasm
	$(WASM_ENV) $(EMCC) -O2 -msimd128 $(C_STD) $(WARN) -Iinclude -o $@ bindings/js/glue.c \
	  $(CROSS_DIR)/wasm/lib/libavengers.a -L$(WASM_ZLIB)/lib -lz $(WASM_MODULE_LINK)
	cp $@ $(@:.js=.wasm) bindings/js/wasm/

check-js: cross-build-wasm $(CLI_BIN)
	@cd bindings/js && AV_NATIVE_CLI=$(abspath $(CLI_BIN)) $(NODE) test.js

clean-extra::
	rm -rf bindings/js/wasm
