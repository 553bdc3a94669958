#!/usr/bin/python3
"""Train a router on the bundled llmrouter9 train split and evaluate it on the test split.

    PYTHONPATH=bindings/python /usr/bin/python3 examples/python/train_eval.py [--save router.avr]

Prints, for a sweep of alpha (performance weight), the test accuracy (mean score of the routed
model) and the total cost, next to every single model and the oracle (best model per query,
cheapest among ties), computed by the library's replay evaluator (Router.evaluate).
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))  # the in-tree binding, if not installed
import avengers  # noqa: E402


def load(data_dir, emb_name):
    rows = [json.loads(line) for line in gzip.open(os.path.join(data_dir, "data.jsonl.gz"), "rt")]
    models = list(rows[0]["scores"])
    scores = np.array([[r["scores"][m] for m in models] for r in rows], dtype=np.float32)
    costs = np.array([[r["costs"][m] for m in models] for r in rows], dtype=np.float32)
    train = np.array([r["split"] == "train" for r in rows])
    emb = np.load(os.path.join(data_dir, emb_name))
    return models, emb, scores, costs, train


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--data", default=os.path.join(ROOT, "examples", "data", "llmrouter9"))
    ap.add_argument("--emb", default="emb_tfidf_svd384.npy")
    ap.add_argument("--clusters", type=int, default=60)
    ap.add_argument("--top-p", type=int, default=4)
    ap.add_argument("--save", help="write the trained router here")
    args = ap.parse_args()

    models, emb, scores, costs, train = load(args.data, args.emb)
    test = ~train
    t0 = time.time()
    with avengers.Builder(emb.shape[1], models) as b:
        b.add_many(emb[train], scores[train], costs[train])
        router = b.fit(n_clusters=args.clusters, top_p=args.top_p, embedder_id=args.emb)
    print("trained on %d rows: %d clusters, top_p %d, %.2f s (libavengers %s, %s)"
          % (train.sum(), router.n_clusters, router.top_p, time.time() - t0,
             avengers.version(), router.simd_backend))

    # Replay evaluation in the library: every test query routed once, scored for 11 alphas
    # (0, 0.1, ..., 1), beside every single model and the oracle (docs/EVALUATION.md).
    ev = router.evaluate(emb[test], scores[test], costs[test], models=models,
                         alphas=np.linspace(0, 1, 11))
    print("\n%-34s %9s %12s" % ("test (%d queries)" % ev.n_rows, "accuracy", "cost (USD)"))
    rows = [("alpha=%.1f" % p.alpha, p) for p in ev.points]
    rows += list(ev.model_points.items()) + [("oracle", ev.oracle)]
    for name, p in rows:
        print("%-34s %9.4f %12.6f" % (name, p.mean_score, p.total_cost))
    m = ev.metrics
    print("\nbest single model: %s (%.4f); best router gain %+.4f; cost saved at equal accuracy: %s"
          % (m["best_model_name"], m["best_score"], m["perf_gain"],
             "n/a" if np.isnan(m["cost_save"]) else "%.1f%%" % (100 * m["cost_save"])))
    print("Pareto frontier: " + ", ".join(
        ("alpha=%.1f" % k if kind == "router" else k) for kind, k in ev.frontier))
    if args.save:
        router.save(args.save)
        print("\nsaved %s" % args.save)
    router.close()


if __name__ == "__main__":
    main()
