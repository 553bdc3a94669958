#!/usr/bin/python3
"""The tuned router on variants of the bundled data built to break its assumptions, five random
70/30 splits each (numpy.random.default_rng(seed), seeds 1..5; the fit seed is the split seed):

  noise     the embeddings permuted across rows: they carry no signal about the scores
  dominant  the best model (llama-3.1-nemotron-51b-instruct) and two cheap, much weaker ones
  small     600 random rows, all nine models
  two       two models: the strongest and the cheapest (gemma-2-9b-it)
  full      the whole data set (the reference)

For each split: the router's mean score at alpha 1 against the best single model of the test rows
(points), PerfGain, CostSave, and the tuning's choice. On `noise` it also counts the test queries
that the router at alpha 1 does not send to the model with the best training mean.

  /usr/bin/python3 tools/variant_study.py [variant ...] [--rule paper|tuned] [--emb NAME]
                                          [--shared-clustering auto|on|off] [--splits N]
                                          [--json OUT]

--shared-clustering tunes with the default grid and that clustering mode (on: one k-means per k
on all training rows, each fold's statistics from its own training rows; docs/EVALUATION.md);
--splits runs the first N splits only.
"""
import argparse
import json
import os
import sys

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
import avengers  # noqa: E402
from split_study import load  # noqa: E402  (the bundled data, as the split study reads it)

VARIANTS = ("noise", "dominant", "small", "two", "full")
BEST = "llama-3.1-nemotron-51b-instruct"
DOMINANT = (BEST, "mistral-7b-instruct-v0.3", "codegemma-7b")
TWO = (BEST, "gemma-2-9b-it")


def variant(name, models, X, S, Q):
    """(models, X, S, Q) of a variant; deterministic."""
    if name == "noise":
        perm = np.random.default_rng(12345).permutation(len(X))
        return models, X[perm], S, Q
    if name in ("dominant", "two"):
        keep = [models.index(m) for m in sorted(DOMINANT if name == "dominant" else TWO)]
        return [models[i] for i in keep], X, S[:, keep], Q[:, keep]
    if name == "small":
        rows = np.sort(np.random.default_rng(600).permutation(len(X))[:600])
        return models, X[rows], S[rows], Q[rows]
    return models, X, S, Q


def run(name, args, data):
    models, X, S, Q = variant(name, *data)
    out = []
    for seed in range(1, args.splits + 1):
        perm = np.random.default_rng(seed).permutation(len(X))
        cut = int(0.7 * len(X))
        tr, te = np.sort(perm[:cut]), np.sort(perm[cut:])
        b = avengers.Builder(X.shape[1], models)
        b.add_many(X[tr], S[tr], Q[tr])
        tune = "default" if args.shared_clustering is None else \
            {"shared_clustering": args.shared_clustering}
        r = b.fit(seed=seed, tune=tune) if args.rule == "tuned" else b.fit(seed=seed)
        ev = r.evaluate(X[te], S[te], Q[te])
        m = ev.metrics
        top = ev.points[-1].mean_score
        best_test = m["best_score"]
        train_best = int(np.argmax(S[tr].mean(axis=0)))
        away = sum(1 for i in te if r.route(X[i], 1.0) != train_best)
        md = r.metadata
        rec = {
            "variant": name, "seed": seed, "rows": len(X), "models": len(models),
            "top": 100 * top, "best_single": 100 * best_test, "diff": 100 * (top - best_test),
            "perf_gain": 100 * m["perf_gain"],
            "cost_save": None if m["cost_save"] != m["cost_save"] else 100 * m["cost_save"],
            "auc": m["auc"], "away_from_train_best_at_1": away, "test_rows": len(te),
            "choice": {k[6:]: md[k] for k in md if k.startswith("tuned_")},
            "shared_clustering": args.shared_clustering,
        }
        out.append(rec)
        cs = "  n/a" if rec["cost_save"] is None else "%5.1f%%" % rec["cost_save"]
        ch = rec["choice"]
        print("%-8s seed %d  alpha1 %.2f vs best %.2f (%+.2f)  PerfGain %+.2f  CostSave %s  "
              "away %4d/%d  %s" % (name, seed, rec["top"], rec["best_single"], rec["diff"],
                                   rec["perf_gain"], cs, away, len(te),
                                   " ".join("%s=%s" % (k, ch[k]) for k in (
                                       "n_clusters", "members", "top_p", "kappa",
                                       "normalisation", "safety", "fallback") if k in ch)),
              flush=True)
    d = [o["diff"] for o in out]
    cs = [o["cost_save"] for o in out if o["cost_save"] is not None]
    print("%-8s mean alpha1 - best %+.2f (worst %+.2f)  PerfGain %+.2f  CostSave %s" % (
        name, np.mean(d), min(d), np.mean([o["perf_gain"] for o in out]),
        "%.1f%% (%d splits)" % (np.mean(cs), len(cs)) if cs else "n/a"), flush=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("variants", nargs="*", default=list(VARIANTS[:4]))
    ap.add_argument("--rule", default="tuned", choices=("paper", "tuned"))
    ap.add_argument("--emb", default="tfidf_svd384")
    ap.add_argument("--shared-clustering", choices=("auto", "on", "off"))
    ap.add_argument("--splits", type=int, default=5)
    ap.add_argument("--json")
    args = ap.parse_args()
    data = load(args.emb)
    res = []
    for v in args.variants:
        if v not in VARIANTS:
            sys.exit("unknown variant %s (%s)" % (v, ", ".join(VARIANTS)))
        res += run(v, args, data)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
