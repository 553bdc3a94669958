# Performance measurements (docs/PERFORMANCE.md), none of them part of `make check`.
#
# `make bench`: builds bench/ and prints the table of docs/PERFORMANCE.md, then the JSON lines it
# was made from, all measured in one run (libavengers, then the peers: numpy, faiss, scikit-learn
# through /usr/bin/python3), then the training-at-scale table of docs/SCALING.md (bench/scaling.py:
# libavengers SAMPLED and FULL, scikit-learn KMeans and MiniBatchKMeans, faiss, avengers.dask, each
# in its own process). Needs python3-numpy, python3-sklearn, python3-faiss, python3-dask,
# python3-distributed (Debian). BENCH_ONLY=single|batch|load|llm9|scaling runs one part.
# BENCH_SCALE picks the scaling tier: default (n = 10k and 100k, d = 384, k = 60, quality at
# k = 60; a few minutes), full (the issue's table: n = 10k, 100k, 1M x d = 384, 1024 x k = 60, 300,
# quality at k = 60 and 300, every method stopped after 600 s wall; 2 to 3 hours and 9 GB of
# RAM at 1M x 1024) or off. About five minutes on a 2-core machine with the default tier.
#
# `make bench-scaling`: the scaling part alone (tier BENCH_SCALE, default full), its JSON lines
# APPENDED to $(BENCH_DIR)/scaling.jsonl, then the tables of that file, where the last line of
# each (n, d, k, method) wins: so one cell is re-run with
#   make bench-scaling SCALING_ARGS="--n 1000000 --dim 384 --k 60"
# and the table keeps the other cells (each row of the JSON says its commit and load average).
BENCH_DIR := $(BUILDDIR)/bench
BENCH_BIN := $(BENCH_DIR)/bench
BENCH_ONLY ?=
BENCH_SCALE ?= default
# the last release's library (libavengers 1.1.0 from the git history, as check-abi-older-lib
# builds it, in the same place): its av_router_load is timed beside this one's (BENCH_ONLY=load)
BENCH_OLD_DIR = $(abspath $(BUILDDIR))/abi/lib-$(ABI_OLD_LIB_VERSION)
SCALING_ARGS ?=
SCALING := AVENGERS_LIB=$(abspath $(LIBOUTDIR)) $(PYTHON) bench/scaling.py \
  --workdir $(BENCH_DIR)/scaling

$(BENCH_BIN): bench/bench.c $(STLIB) $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(CC) -O2 -g $(TEST_CFLAGS) -o $@ $< $(STLIB) $(LIB_LIBS)

$(BENCH_DIR)/llm9_emb.npy: bench/peers.py
	@mkdir -p $(BENCH_DIR)
	$(PYTHON) bench/peers.py --prep $(BENCH_DIR)

bench: $(BENCH_BIN) $(BENCH_DIR)/llm9_emb.npy shared
	@rm -f $(BENCH_DIR)/results.jsonl
ifneq ($(BENCH_ONLY),scaling)
ifneq ($(filter-out load,$(BENCH_ONLY)),)
	$(BENCH_BIN) $(BENCH_DIR) $(BENCH_ONLY) >> $(BENCH_DIR)/results.jsonl
else
	-@tests/abi/older_lib.sh $(ABI_OLD_LIB_COMMIT) $(ABI_OLD_LIB_VERSION) $(BENCH_OLD_DIR) \
	  "$(CC)" "$(CFLAGS)" $(abspath $(LIBOUTDIR)) > $(BENCH_DIR)/older_lib.log 2>&1
	AV_BENCH_OLD_LIB=$$(ls $(BENCH_OLD_DIR)/src/lib/libavengers.so.1 2>/dev/null) \
	  $(BENCH_BIN) $(BENCH_DIR) $(BENCH_ONLY) >> $(BENCH_DIR)/results.jsonl
endif
	$(PYTHON) bench/peers.py $(BENCH_DIR) $(BENCH_ONLY) >> $(BENCH_DIR)/results.jsonl
endif
ifeq ($(filter-out scaling,$(BENCH_ONLY))$(filter off,$(BENCH_SCALE)),)
	$(SCALING) --tier $(BENCH_SCALE) $(SCALING_ARGS) >> $(BENCH_DIR)/results.jsonl
endif
	@$(PYTHON) bench/report.py $(BENCH_DIR)/results.jsonl --json
ifneq ($(BENCH_ONLY),scaling)
	$(PYTHON) bench/ensemble_cost.py
endif

.PHONY: bench-scaling
bench-scaling: BENCH_SCALE = full
bench-scaling: shared
	@mkdir -p $(BENCH_DIR)
	$(SCALING) --tier $(BENCH_SCALE) $(SCALING_ARGS) >> $(BENCH_DIR)/scaling.jsonl
	@$(PYTHON) bench/scaling.py --report $(BENCH_DIR)/scaling.jsonl

# `make bench-fit-alone`: the 3x target against MiniBatchKMeans (docs/SCALING.md), the fit call
# alone on one thread with the rows in memory, alternated rounds (bench/fit_alone.py;
# FIT_ALONE_ARGS, e.g. "--n 100000 --rounds 5"); its JSON lines APPENDED to
# $(BENCH_DIR)/fit_alone.jsonl, then the ratios and the verdict of that file.
FIT_ALONE_ARGS ?=
.PHONY: bench-fit-alone
bench-fit-alone: shared
	@mkdir -p $(BENCH_DIR)
	AVENGERS_LIB=$(abspath $(LIBOUTDIR)) $(PYTHON) bench/fit_alone.py \
	  --workdir $(BENCH_DIR)/scaling $(FIT_ALONE_ARGS) >> $(BENCH_DIR)/fit_alone.jsonl
	@$(PYTHON) bench/fit_alone.py --report $(BENCH_DIR)/fit_alone.jsonl

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
