#!/usr/bin/python3
"""Routing quality of the sampled k-means (AV_KMEANS_SAMPLED) against full-batch training
(AV_KMEANS_FULL, 10 restarts) on the variants of the bundled data that tools/variant_study.py
builds to break its assumptions (noise: embeddings permuted; dominant: one strong model and two
weak cheap ones; small: 600 rows; two: two models; full: all of it), five numpy 70/30 splits each
(seeds 1..5, the fit seed is the split seed). Each method clusters the training rows (k = 60;
k = 20 for `small`), the statistics of the training rows are computed for its centroids and the
router (top_p 4) is evaluated on the test rows. For scale, the same difference between two
FULL trainings whose only difference is the k-means seed (seed + 100): what the clustering's
randomness alone moves. SAMPLED is forced with a sample of a third of the
training rows (at least 3k), so that it differs from FULL. Not a test: figures for
docs/SCALING.md.

  /usr/bin/python3 bench/sampled_variants.py [variant ...]
"""
import os
import sys

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import avengers  # noqa: E402
from avengers import kmeans  # noqa: E402
from split_study import load  # noqa: E402
from variant_study import VARIANTS, variant  # noqa: E402


def centroids(X, k, seed, sampled):
    """sampled: True (SAMPLED), False (FULL), "reseed" (FULL with seed + 100)."""
    Z = np.zeros((len(X), 1), np.float32)
    b = avengers.Builder(X.shape[1], ["m"])
    b.add_many(X, Z, Z)
    if sampled == "reseed":
        sampled, seed = False, seed + 100
    alg = dict(algorithm="sampled", sample_size=max(len(X) // 3, 3 * k)) if sampled else \
        dict(algorithm="full")
    return b.fit(n_clusters=k, top_p=1, seed=seed, **alg).centroids()


def main():
    names = sys.argv[1:] or list(VARIANTS)
    data = load("tfidf_svd384")
    print("| variant | rows, models | k | AUC FULL | AUC SAMPLED | PerfGain FULL | PerfGain SAMPLED |"
          " SAMPLED - FULL per split (PerfGain points) | mean | worst | FULL reseeded - FULL: mean, worst |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in names:
        models, X, S, Q = variant(name, *data)
        k = 20 if name == "small" else 60
        res = {False: [], True: [], "reseed": []}
        for seed in range(1, 6):
            perm = np.random.default_rng(seed).permutation(len(X))
            cut = int(0.7 * len(X))
            tr, te = np.sort(perm[:cut]), np.sort(perm[cut:])
            for sampled in (False, True, "reseed"):
                C = centroids(X[tr], k, seed, sampled)
                (cnt, ss, sc), _ = kmeans.stats_block(C, X[tr], S[tr], Q[tr])
                r = avengers.Router.from_parts(C, cnt, ss, sc, models, top_p=4)
                m = r.evaluate(X[te], S[te], Q[te]).metrics
                res[sampled].append((m["auc"], 100 * m["perf_gain"]))
        f, s = np.array(res[False]), np.array(res[True])
        d = s[:, 1] - f[:, 1]
        e = np.array(res["reseed"])[:, 1] - f[:, 1]
        print("| %s | %d, %d | %d | %.4f | %.4f | %+.2f | %+.2f | %s | %+.2f | %+.2f | %+.2f, %+.2f |"
              % (name, len(X), len(models), k, f[:, 0].mean(), s[:, 0].mean(), f[:, 1].mean(),
                 s[:, 1].mean(), ", ".join("%+.2f" % v for v in d), d.mean(), d.min(), e.mean(),
                 e.min()),
              flush=True)


if __name__ == "__main__":
    main()
