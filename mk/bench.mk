# Performance measurements (docs/PERFORMANCE.md), none of them part of `make check`.
#
# `make bench`: builds bench/ and prints the table of docs/PERFORMANCE.md, then the JSON lines it
# was made from, all measured in one run (libavengers, then the peers: numpy, faiss, scikit-learn
# through /usr/bin/python3). Needs python3-numpy, python3-sklearn, python3-faiss (Debian). Takes
# about three minutes on a 2-core machine. BENCH_ONLY=single|batch|load|llm9 runs one part.
BENCH_DIR := $(BUILDDIR)/bench
BENCH_BIN := $(BENCH_DIR)/bench
BENCH_ONLY ?=

$(BENCH_BIN): bench/bench.c $(STLIB) $(LIB_HDRS)
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

# `make eval-speed`: time one 101-alpha evaluation sweep over 100,000 synthetic queries.
.PHONY: eval-speed
$(BENCH_DIR)/eval_sweep: bench/eval_sweep.c $(STLIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -o $@ $< $(STLIB) $(LIB_LIBS)
eval-speed: $(BENCH_DIR)/eval_sweep
	OPENBLAS_NUM_THREADS=1 $(BENCH_DIR)/eval_sweep

# The NEON kernels run under emulation on an x86 machine: AArch64 cross compiler and qemu-user
# (Debian: gcc-aarch64-linux-gnu qemu-user-static). Not part of `make check` (CI lacks them).
AARCH64_CC ?= aarch64-linux-gnu-gcc
QEMU_AARCH64 ?= qemu-aarch64-static
.PHONY: neon-cross-check
neon-cross-check:
	@mkdir -p $(BENCH_DIR)
	$(AARCH64_CC) -O2 -static $(C_STD) $(WARN) -Iinclude -Isrc -pthread \
	  -o $(BENCH_DIR)/neon_check bench/neon_check.c src/kernels/neon.c src/kernels/scalar.c \
	  src/kernels/dispatch.c -lm
	$(QEMU_AARCH64) $(BENCH_DIR)/neon_check

clean-extra::
	rm -rf $(BENCH_DIR)
