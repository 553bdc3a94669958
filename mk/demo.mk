# `make demo`: train on the bundled llmrouter9 train split with the paper's defaults, evaluate on the
# test split, print the table, write demo/router.avr, demo/eval.json and demo/frontier.svg; then the
# same with k, ensemble size, top_p, kappa and normalisation chosen by cross-validation.
DEMO_DATA := examples/data/llmrouter9
DEMO_IN   := --data $(DEMO_DATA)/data.jsonl.gz --embeddings $(DEMO_DATA)/emb_tfidf_svd384.npy
demo: deps-check $(CLI_BIN)
	@mkdir -p demo
	$(CLI_BIN) train $(DEMO_IN) --split train -k 60 --top-p 4 --n-init 10 \
	  --embedder-id tfidf-svd384 -o demo/router.avr
	$(CLI_BIN) eval --router demo/router.avr $(DEMO_IN) --split test --alphas 0:1:0.05 \
	  --json demo/eval.json --svg demo/frontier.svg
	@echo "== tuned: k, ensemble size, top_p, kappa and normalisation chosen by 5-fold"
	@echo "== cross-validation on the same training rows (most of the demo's time)"
	$(CLI_BIN) train $(DEMO_IN) --split train --tune \
	  --embedder-id tfidf-svd384 -o demo/router-tuned.avr
	$(CLI_BIN) eval --router demo/router-tuned.avr $(DEMO_IN) --split test --alphas 0:1:0.05 \
	  --json demo/eval-tuned.json --svg demo/frontier-tuned.svg
	@echo "wrote demo/router.avr, demo/eval.json, demo/frontier.svg (the paper's rule) and"
	@echo "demo/router-tuned.avr, demo/eval-tuned.json, demo/frontier-tuned.svg (cross-validated)"

# `make demo-text`: route a typed question end to end (examples/python/route_text.py) with an
# embedder that runs here: TF-IDF + SVD fitted with scikit-learn on the bundled training queries
# (demo/embedder-text.npz, no pickle), a router trained on those embeddings (demo/router-text.avr),
# then two questions routed, their (simulated) calls graded and fed back, demo/router-text-updated.avr
# saved. QUESTION="..." routes your own.
.PHONY: demo-text
QUESTION ?=
demo-text: shared
	@mkdir -p demo
	$(PYTHON) examples/python/make_text_router.py --out-dir demo
	$(PYTHON) examples/python/route_text.py --demo demo \
	  $(if $(QUESTION),"$(QUESTION)","How many prime numbers are there below 100?" \
	  "Write a Python function that reverses a linked list.")
