#!/usr/bin/python3
"""PerfGain and CostSave of the paper's router and the cross-validated one over random 70/30 splits.

Two families of splits, five seeds each: `cli` reproduces `avengers train/eval --split-by random
--seed s` (the CLI's splitmix64 Fisher-Yates shuffle), `numpy` uses numpy.random.default_rng(s).
The spread between the two families shows how much of a PerfGain figure is the split.

  /usr/bin/python3 tools/split_study.py [cli|numpy] [paper|tuned] [tfidf_svd384|glove100]
"""
import gzip, json, os, sys

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
import avengers  # noqa: E402

MASK = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def cli_split(n, ratio, seed):
    """cli/dataset.c: cli_random_split."""
    perm, st = list(range(n)), seed
    for i in range(n - 1, 0, -1):
        bound = i + 1
        threshold = ((1 << 64) - bound) % bound
        while True:
            st, x = splitmix64(st)
            if x >= threshold:
                break
        j = x % bound
        perm[i], perm[j] = perm[j], perm[i]
    train = np.zeros(n, bool)
    train[perm[: int(np.floor(ratio * n + 0.5))]] = True
    return np.flatnonzero(train), np.flatnonzero(~train)


def numpy_split(n, ratio, seed):
    perm = np.random.default_rng(seed).permutation(n)
    cut = int(ratio * n)
    return perm[:cut], perm[cut:]


def load(emb):
    """The bundled llmrouter9: (models in the command's sorted order, X, scores, costs)."""
    data = os.path.join(ROOT, "examples", "data", "llmrouter9")
    with gzip.open(os.path.join(data, "data.jsonl.gz"), "rt", encoding="utf-8") as f:
        rows = [json.loads(l) for l in f.read().split("\n") if l]
    models = sorted(rows[0]["scores"])
    S = np.array([[r["scores"][m] for m in models] for r in rows], dtype=np.float32)
    Q = np.array([[r["costs"][m] for m in models] for r in rows], dtype=np.float32)
    X = np.load(os.path.join(data, "emb_%s.npy" % emb))
    return models, X, S, Q


def main():
    family = sys.argv[1] if len(sys.argv) > 1 else "cli"
    rule = sys.argv[2] if len(sys.argv) > 2 else "tuned"
    emb = sys.argv[3] if len(sys.argv) > 3 else "tfidf_svd384"
    models, X, S, Q = load(emb)
    split = cli_split if family == "cli" else numpy_split
    out = []
    for seed in range(1, 6):
        tr, te = split(len(X), 0.7, seed)
        b = avengers.Builder(X.shape[1], models)
        b.add_many(X[tr], S[tr], Q[tr])
        r = b.fit(seed=seed, tune="default") if rule == "tuned" else b.fit(seed=seed)
        ev = r.evaluate(X[te], S[te], Q[te])
        m = ev.metrics
        top = ev.points[-1].mean_score  # alpha 1, the top of the sweep
        out.append((100 * m["perf_gain"], 100 * m["cost_save"], 100 * m["cost_save_at_target"],
                    m["auc"], 100 * top, 100 * m["best_score"]))
        md = r.metadata
        choice = " ".join("%s=%s" % (k[6:], md[k]) for k in ("tuned_n_clusters", "tuned_members",
                          "tuned_top_p", "tuned_kappa", "tuned_weighting", "tuned_normalisation",
                          "tuned_safety", "tuned_fallback", "tuned_guard")
                          if k in md)
        print("seed %d  PerfGain %+.2f  CostSave %5.1f%%  CostSave@90%% %5.1f%%  AUC %.4f  "
              "top %.2f%% (best single %.2f%%)  %s" % ((seed,) + out[-1] + (choice,)), flush=True)
    mean = np.nanmean(out, axis=0)
    print("%s %s %s: mean PerfGain %+.2f, CostSave %.1f%%, CostSave@90%% %.1f%%, AUC %.4f; top of "
          "the sweep minus best single: min %+.2f points" % (family, rule, emb, *mean[:4],
                                                            min(o[4] - o[5] for o in out)))


if __name__ == "__main__":
    main()
