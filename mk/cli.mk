# The `avengers` command (cli/), its end-to-end tests (`make check-cli`) and `make demo`.
# The command links the static library plus cJSON (Debian libcjson-dev); the library never does.

CLI_BIN     := $(BUILDDIR)/bin/avengers
CLI_SRCS    := $(sort $(wildcard cli/*.c))
CLI_OBJS    := $(patsubst cli/%.c,$(BUILDDIR)/cli/%.o,$(CLI_SRCS))
CLI_HDRS    := $(wildcard cli/*.h) $(HEADER)
CJSON_OK    := $(shell $(PKG_CONFIG) --exists libcjson 2>/dev/null && echo yes)
ifeq ($(CJSON_OK),yes)
CJSON_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcjson)
CJSON_LIBS   := $(shell $(PKG_CONFIG) --libs libcjson)
endif
CLI_CFLAGS  := -std=c11 $(WARN) -D_POSIX_C_SOURCE=200809L -Iinclude -Icli $(CJSON_CFLAGS) \
               $(DEP_CFLAGS) $(EXTRA_CFLAGS)

.PHONY: cli cli-deps-check check-cli
all-extra:: cli
cli: $(CLI_BIN)

cli-deps-check:
	@if [ "$(CJSON_OK)" != yes ]; then \
	  echo "the avengers command needs cJSON development files (pkg-config libcjson)."; \
	  echo "On Debian/Ubuntu:  sudo apt-get install -y libcjson-dev"; \
	  exit 1; fi

$(BUILDDIR)/cli/%.o: cli/%.c $(CLI_HDRS) | cli-deps-check
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CLI_CFLAGS) -c $< -o $@

$(CLI_BIN): $(CLI_OBJS) $(STLIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJS) $(STLIB) $(CJSON_LIBS) $(LDFLAGS) $(LIB_LIBS) -lz

install-extra::
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(CLI_BIN) $(DESTDIR)$(BINDIR)/avengers
	install -m 644 docs/man/avengers.1 $(DESTDIR)$(MANDIR)/man1/avengers.1

uninstall-extra::
	rm -f $(DESTDIR)$(BINDIR)/avengers $(DESTDIR)$(MANDIR)/man1/avengers.1

# End-to-end tests of the command on tests/data/llm9 (tests/cli/test_cli.py prints `N passed, N failed`).
CHECK_SUITES += cli
check-cli: $(CLI_BIN)
	@AVENGERS=$(CLI_BIN) $(PYTHON) tests/cli/test_cli.py

# ---- demo: train on the bundled llmrouter9 train split with the paper's defaults, evaluate on the
# test split, print the table, write demo/router.avr, demo/eval.json and demo/frontier.svg.
DEMO_DATA := examples/data/llmrouter9
demo: $(CLI_BIN)
	@mkdir -p demo
	$(CLI_BIN) train --data $(DEMO_DATA)/data.jsonl.gz \
	  --embeddings $(DEMO_DATA)/emb_tfidf_svd384.npy --split train -k 60 --top-p 4 --n-init 10 \
	  --embedder-id tfidf-svd384 -o demo/router.avr
	$(CLI_BIN) eval --router demo/router.avr --data $(DEMO_DATA)/data.jsonl.gz \
	  --embeddings $(DEMO_DATA)/emb_tfidf_svd384.npy --split test --alphas 0:1:0.05 \
	  --json demo/eval.json --svg demo/frontier.svg
	@echo "== beyond the paper: k, ensemble size, top_p, kappa and normalisation chosen by 5-fold"
	@echo "== cross-validation on the same training rows (about a minute)"
	$(CLI_BIN) train --data $(DEMO_DATA)/data.jsonl.gz \
	  --embeddings $(DEMO_DATA)/emb_tfidf_svd384.npy --split train --tune \
	  --embedder-id tfidf-svd384 -o demo/router-tuned.avr
	$(CLI_BIN) eval --router demo/router-tuned.avr --data $(DEMO_DATA)/data.jsonl.gz \
	  --embeddings $(DEMO_DATA)/emb_tfidf_svd384.npy --split test --alphas 0:1:0.05 \
	  --json demo/eval-tuned.json --svg demo/frontier-tuned.svg
	@echo "wrote demo/router.avr, demo/eval.json, demo/frontier.svg (the paper's rule) and"
	@echo "demo/router-tuned.avr, demo/eval-tuned.json, demo/frontier-tuned.svg (cross-validated)"

# Not part of `make check`: time one 101-alpha sweep over 100,000 synthetic queries.
.PHONY: eval-speed
$(BUILDDIR)/tests/eval_speed: tests/cli/eval_speed.c $(STLIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -o $@ $< $(STLIB) $(LIB_LIBS)
eval-speed: $(BUILDDIR)/tests/eval_speed
	OPENBLAS_NUM_THREADS=1 $(BUILDDIR)/tests/eval_speed
