#!/usr/bin/python3
"""Routing cost of an ensemble router against single routers with as many and with a quarter of
the clusters, in one run (ratios, not absolute figures, are what to compare; docs/PERFORMANCE.md).

  /usr/bin/python3 bench/ensemble_cost.py
"""
import gzip, json, os, sys, time

os.environ["AV_NUM_THREADS"] = "1"  # one thread: the kernel's cost, not the machine's cores
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
import numpy as np  # noqa: E402
import avengers  # noqa: E402

D = os.path.join(ROOT, "examples", "data", "llmrouter9")
rows = [json.loads(l) for l in gzip.open(D + "/data.jsonl.gz", "rt").read().split("\n") if l]
models = sorted(rows[0]["scores"])
S = np.array([[r["scores"][m] for m in models] for r in rows], np.float32)
Q = np.array([[r["costs"][m] for m in models] for r in rows], np.float32)
X = np.load(D + "/emb_tfidf_svd384.npy")
b = avengers.Builder(384, models); b.add_many(X, S, Q)
rs = {"single k=300": b.fit(n_clusters=300, n_init=1),
      "ensemble 4x300": b.fit(n_clusters=300, members=4, n_init=1),
      "single k=1200": b.fit(n_clusters=1200, n_init=1)}
for rep in range(3):
    for name, r in rs.items():
        t = time.perf_counter()
        for _ in range(5):
            r.route_batch(X, 1.0)
        dt = (time.perf_counter() - t) / (5 * len(X))
        print("round %d  %-15s %6.2f us/query  (%d clusters, %d members)"
              % (rep, name, dt * 1e6, r.n_clusters, r.members))
