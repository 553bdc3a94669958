# `make examples`: train + evaluate (Python), then route every row with the C, C++ and Rust examples
# and check that the languages agree. `make dask-example`: feedback merged across Dask workers.
.PHONY: examples dask-example

EX_DATA   := examples/data/llmrouter9
EX_EMB    := $(EX_DATA)/emb_tfidf_svd384.npy
EX_OUT    := $(BUILDDIR)/examples
EX_ROUTER := $(EX_OUT)/llmrouter9.avr
EX_ROWS   ?= 5
comma := ,

$(EX_OUT)/route_c: examples/c/route.c $(HEADER) shared
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(WARN) -O2 -Iinclude -o $@ $< $(INTREE_LINK)
$(EX_OUT)/route_cpp: examples/cpp/route.cpp include/avengers/avengers.hpp $(HEADER) shared
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 $(CXXWARN) -O2 -Iinclude -o $@ $< $(INTREE_LINK)

examples: $(EX_OUT)/route_c $(EX_OUT)/route_cpp
	@mkdir -p $(EX_OUT)
	@echo "== examples/python/train_eval.py"
	$(PYTHON) examples/python/train_eval.py --save $(EX_ROUTER)
	@echo "== examples/c/route.c, examples/cpp/route.cpp$(if $(HAVE_CARGO),$(comma) examples/rust): every row at alpha 0.7"
	$(EX_OUT)/route_c $(EX_ROUTER) $(EX_EMB) 0.7 > $(EX_OUT)/route_c.txt
	$(EX_OUT)/route_cpp $(EX_ROUTER) $(EX_EMB) 0.7 > $(EX_OUT)/route_cpp.txt
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

# The example on the bundled data (60 clusters, 8 partitions, 2 worker processes).
dask-example: shared
	$(PYTHON) examples/dask/feedback_merge.py

clean-extra::
	rm -rf $(EX_OUT)
