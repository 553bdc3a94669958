#!/usr/bin/python3
"""Train a router on the bundled llmrouter9 train split and evaluate it on the test split.

    PYTHONPATH=bindings/python /usr/bin/python3 examples/python/train_eval.py [--save router.avr]

Prints, for a sweep of alpha (performance weight), the test accuracy (mean score of the routed
model) and the total cost, next to every single model and the oracle (best model per query,
cheapest among ties).
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

    S, Q, X = scores[test], costs[test], emb[test]
    rows = []
    for alpha in np.linspace(0, 1, 11):
        pick = router.route_batch(X, float(alpha))  # one C call, X passed without copying
        got = np.arange(len(pick))
        rows.append(("alpha=%.1f" % alpha, S[got, pick].mean(), Q[got, pick].sum()))
    for i, m in enumerate(models):
        rows.append((m, S[:, i].mean(), Q[:, i].sum()))
    best = S.max(1, keepdims=True)
    oracle = np.where(S == best, Q, np.inf).argmin(1)
    got = np.arange(len(oracle))
    rows.append(("oracle", S[got, oracle].mean(), Q[got, oracle].sum()))

    print("\n%-34s %9s %12s" % ("test (%d queries)" % test.sum(), "accuracy", "cost (USD)"))
    for name, acc, cost in rows:
        print("%-34s %9.4f %12.6f" % (name, acc, cost))
    if args.save:
        router.save(args.save)
        print("\nsaved %s" % args.save)
    router.close()


if __name__ == "__main__":
    main()
