# `make bench`: builds bench/ and prints the table of docs/PERFORMANCE.md, then the JSON lines it
# was made from, all measured in one run (libavengers, then the peers: numpy, faiss, scikit-learn
# through /usr/bin/python3). Needs python3-numpy, python3-sklearn, python3-faiss (Debian). Takes
# about three minutes on a 2-core machine. BENCH_ONLY=single|batch|load|llm9 runs one part.
BENCH_DIR := $(BUILDDIR)/bench
BENCH_BIN := $(BENCH_DIR)/bench
BENCH_ONLY ?=

$(BENCH_BIN): bench/bench.c $(STLIB) $(HEADER) src/internal.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -g $(TEST_CFLAGS) -o $@ $< $(STLIB) $(LIB_LIBS)

$(BENCH_DIR)/llm9_emb.npy: bench/peers.py
	@mkdir -p $(BENCH_DIR)
	$(PYTHON) bench/peers.py --prep $(BENCH_DIR)

bench: $(BENCH_BIN) $(BENCH_DIR)/llm9_emb.npy
	@rm -f $(BENCH_DIR)/results.jsonl
	$(BENCH_BIN) $(BENCH_DIR) $(BENCH_ONLY) >> $(BENCH_DIR)/results.jsonl
	$(PYTHON) bench/peers.py $(BENCH_DIR) $(BENCH_ONLY) >> $(BENCH_DIR)/results.jsonl
	@$(PYTHON) bench/report.py $(BENCH_DIR)/results.jsonl --json
	$(PYTHON) bench/ensemble_cost.py

clean-extra::
	rm -rf $(BENCH_DIR)

# test_batch counts the library's allocations on the hot path through link-time wrappers.
AV_SPEED_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=posix_memalign
$(BUILDDIR)/tests/test_batch: TEST_CFLAGS += $(AV_SPEED_WRAP)

# The NEON kernels run under emulation on an x86 machine: AArch64 cross compiler and qemu-user
# (Debian: gcc-aarch64-linux-gnu qemu-user-static). Not part of `make check` (CI lacks them).
AARCH64_CC ?= aarch64-linux-gnu-gcc
QEMU_AARCH64 ?= qemu-aarch64-static
.PHONY: neon-cross-check
neon-cross-check:
	@mkdir -p $(BENCH_DIR)
	$(AARCH64_CC) -O2 -static -std=c11 $(WARN) -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc -pthread \
	  -o $(BENCH_DIR)/neon_check bench/neon_check.c src/simd/neon.c src/simd/scalar.c \
	  src/simd/dispatch.c -lm
	$(QEMU_AARCH64) $(BENCH_DIR)/neon_check
