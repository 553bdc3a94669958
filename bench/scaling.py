#!/usr/bin/python3
"""Training at scale: time, peak memory and inertia of k-means on n rows of dimension d, for
libavengers (SAMPLED and FULL) and scikit-learn (KMeans, MiniBatchKMeans), each run in its own
process under /usr/bin/time -v (peak RSS, and user + system CPU seconds, steadier than the wall
time on a shared machine; the wall time includes loading the rows, the CPU time counts every
thread). Not a test: figures for docs/SCALING.md.

  scaling.py [--n 100000,1000000] [--dim 384] [--k 60] [--methods ...] [--workdir DIR]

Rows: the bundled llmrouter9 embeddings (tests/data/llm9/emb.npy, 5,989 x 384, unit norm) drawn
at random (seed 0) plus Gaussian noise of 0.02 per dimension; written once per (n, d) to
WORKDIR/rows_N_D.npy and read by every method through np.load(mmap_mode="r"). Every method
clusters the L2-normalised rows (libavengers normalises them itself; scikit-learn gets a
normalised float32 copy, which its memory figure includes). The inertia of each result is
recomputed here, in float64 over the same normalised rows, and given relative to the reference:
scikit-learn KMeans (full-batch Lloyd, k-means++, n_init=1) where it ran, else the best inertia
in the table. Methods:
  avengers-sampled  Builder.add_borrowed (zero-copy) + fit(algorithm="sampled")
  avengers-source   Builder.add_source with a Python read(row0, n) slicing the memory map (as a
                    reader of Parquet row groups would hand out blocks) + fit(algorithm="sampled"):
                    the same centroids as avengers-sampled, every block read through the callback
                    and hashed once at add time and once per pass
  avengers-full     Builder.add_many (copied) + fit(algorithm="full", n_init=1)
  sklearn-kmeans    KMeans(n_clusters=k, n_init=1, random_state=0)
  sklearn-minibatch MiniBatchKMeans(n_clusters=k, batch_size=1024, n_init=3, random_state=0)
  faiss             faiss.Kmeans(d, k, niter=20, seed=0) (Debian python3-faiss; its default
                    sampling: at most 256 rows per centroid)
  avengers-dask     avengers.dask.train on a LocalCluster of 2 worker processes (1 thread each),
                    the rows read by the workers from the same .npy (dask.array.from_npy_stack
                    is not needed: from_array over the memory map); the same router as
                    avengers-sampled

  scaling.py --quality [--k 60]
Routing quality instead of speed: on llmrouter9 (examples/data/llmrouter9, TF-IDF+SVD 384
embeddings, five numpy 70/30 splits) every method clusters the training rows, the statistics of
the training rows are computed for its centroids (avengers.kmeans.stats_block) and the router
(av_router_from_parts, top_p 4) is evaluated on the test rows: AUC of the alpha sweep and
PerfGain (alpha 1 accuracy minus the best single model's, in points), mean over the splits.
SAMPLED is forced there with a sample of 1,500 of the ~4,200 training rows.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
METHODS = ["avengers-sampled", "avengers-source", "avengers-full", "sklearn-kmeans",
           "sklearn-minibatch", "faiss", "avengers-dask"]


def make_rows(path, n, dim):
    if os.path.exists(path):
        return
    E = np.load(os.path.join(ROOT, "tests", "data", "llm9", "emb.npy")).astype(np.float32)
    if dim != E.shape[1]:  # other dimensions: a fixed random projection of the same rows
        P = np.random.default_rng(1).standard_normal((E.shape[1], dim)).astype(np.float32)
        E = E @ P
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    rng = np.random.default_rng(0)
    tmp = path + ".tmp"
    X = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n, dim))
    for r in range(0, n, 100000):
        b = min(100000, n - r)
        X[r:r + b] = E[rng.integers(0, E.shape[0], b)] + \
            rng.standard_normal((b, dim), dtype=np.float32) * np.float32(0.02)
    X.flush()
    del X
    os.replace(tmp, path)


def normalised(X):
    return X / np.linalg.norm(X, axis=1, keepdims=True).astype(np.float32)


def worker(method, data, k, out):
    sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
    X = np.load(data, mmap_mode="r")
    n, d = X.shape
    t0 = time.perf_counter()
    extra = {}
    if method == "avengers-dask":
        import avengers.dask
        import dask.array as da
        from dask.distributed import Client, LocalCluster
        S = np.zeros((n, 1), np.float32)
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            t0 = time.perf_counter()  # the cluster's start is not training
            passes = []
            r = avengers.dask.train(client, da.from_array(X, chunks=(131072, d)),
                                    da.zeros((n, 1), np.float32, chunks=(131072, 1)),
                                    da.zeros((n, 1), np.float32, chunks=(131072, 1)), ["m"],
                                    n_clusters=k, top_p=1,
                                    progress=lambda st, i, *a: passes.append(i))
            extra["passes"] = max(passes)
            C = r.centroids()
    elif method == "faiss":
        import faiss
        Xn = normalised(np.asarray(X))
        km = faiss.Kmeans(d, k, niter=20, seed=0)
        km.train(Xn)
        C = km.centroids.astype(np.float32)
    elif method.startswith("avengers"):
        import avengers
        S = np.zeros((n, 1), np.float32)
        b = avengers.Builder(d, ["m"])
        if method in ("avengers-sampled", "avengers-source"):
            if method == "avengers-source":
                b.add_source(n, lambda r0, m: (X[r0:r0 + m], S[r0:r0 + m], S[r0:r0 + m]))
            else:
                b.add_borrowed(X, S, S)
            passes = []
            r = b.fit(n_clusters=k, top_p=1, algorithm="sampled",
                      pass_progress=lambda p: passes.append(p["pass"]))
            extra["passes"] = max(passes)
        else:
            b.add_many(X, S, S)
            r = b.fit(n_clusters=k, top_p=1, algorithm="full", n_init=1)
        C = r.centroids()
    else:
        from sklearn.cluster import KMeans, MiniBatchKMeans
        Xn = normalised(np.asarray(X))
        if method == "sklearn-kmeans":
            m = KMeans(n_clusters=k, n_init=1, random_state=0).fit(Xn)
        else:
            m = MiniBatchKMeans(n_clusters=k, batch_size=1024, n_init=3, random_state=0).fit(Xn)
        C = m.cluster_centers_.astype(np.float32)
    extra["seconds"] = time.perf_counter() - t0
    np.save(out, C)
    print(json.dumps(extra))


def inertia(data, C):
    X = np.load(data, mmap_mode="r")
    C = C.astype(np.float64)
    csq = (C * C).sum(1)
    tot = 0.0
    for r in range(0, X.shape[0], 50000):
        x = normalised(np.asarray(X[r:r + 50000])).astype(np.float64)
        d2 = (x * x).sum(1)[:, None] + csq[None, :] - 2 * x @ C.T
        tot += np.maximum(d2.min(1), 0).sum()
    return tot


def run(method, data, k, workdir):
    out = os.path.join(workdir, "centroids_%s.npy" % method)
    cmd = ["/usr/bin/time", "-v", sys.executable, os.path.abspath(__file__), "--worker", method,
           "--data", data, "--k", str(k), "--out", out]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (method, p.stderr[-2000:]))
    res = json.loads(p.stdout.strip().splitlines()[-1])
    res["peak_rss_mb"] = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)",
                                       p.stderr).group(1)) / 1024.0
    res["cpu_seconds"] = sum(float(re.search(r"%s time \(seconds\): ([\d.]+)" % w,
                                             p.stderr).group(1)) for w in ("User", "System"))
    res["inertia"] = inertia(data, np.load(out))
    return res


def centroids_for(method, X, k, seed):
    """Centroids of the rows X (n, d) by one method (the quality mode)."""
    import avengers
    n, d = X.shape
    if method.startswith("avengers"):
        Z = np.zeros((n, 1), np.float32)
        b = avengers.Builder(d, ["m"])
        b.add_many(X, Z, Z)
        alg = dict(algorithm="sampled", sample_size=1500) if method == "avengers-sampled" else \
            dict(algorithm="full")
        return b.fit(n_clusters=k, top_p=1, seed=seed, **alg).centroids()
    Xn = normalised(X)
    if method == "faiss":
        import faiss
        km = faiss.Kmeans(d, k, niter=20, seed=seed)
        km.train(Xn)
        return km.centroids.astype(np.float32)
    from sklearn.cluster import KMeans, MiniBatchKMeans
    if method == "sklearn-kmeans":
        m = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(Xn)
    else:
        m = MiniBatchKMeans(n_clusters=k, batch_size=1024, n_init=3, random_state=seed).fit(Xn)
    return m.cluster_centers_.astype(np.float32)  # means of unit rows: norms at most 1


def quality(k):
    sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import avengers
    from avengers import kmeans
    from split_study import load
    models, X, S, Q = load("tfidf_svd384")
    methods = [m for m in METHODS if m not in ("avengers-dask", "avengers-source")]  # source = sampled
    res = {m: [] for m in methods}
    for seed in range(1, 6):
        perm = np.random.default_rng(seed).permutation(len(X))
        cut = int(0.7 * len(X))
        tr, te = np.sort(perm[:cut]), np.sort(perm[cut:])
        for m in methods:
            C = centroids_for(m, X[tr], k, seed)
            (cnt, ss, sc), _ = kmeans.stats_block(C, X[tr], S[tr], Q[tr])
            r = avengers.Router.from_parts(C, cnt, ss, sc, models, top_p=4)
            ev = r.evaluate(X[te], S[te], Q[te]).metrics
            res[m].append((ev["auc"], ev["perf_gain"]))
    print("| method (k=%d) | AUC | PerfGain (points) | AUC - avengers-full | PerfGain - avengers-full |" % k)
    print("|---|---|---|---|---|")
    base = np.mean(res["avengers-full"], axis=0)
    for m in methods:
        a = np.mean(res[m], axis=0)
        print("| %s | %.4f | %+.2f | %+.4f | %+.2f |" % (m, a[0], 100 * a[1], a[0] - base[0],
                                                        100 * (a[1] - base[1])))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quality", action="store_true")
    ap.add_argument("--n", default="100000,1000000")
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--k", type=int, default=60)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--workdir", default="/tmp/avengers-scaling")
    ap.add_argument("--worker")
    ap.add_argument("--data")
    ap.add_argument("--out")
    a = ap.parse_args()
    if a.worker:
        return worker(a.worker, a.data, a.k, a.out)
    if a.quality:
        return quality(a.k)
    os.makedirs(a.workdir, exist_ok=True)
    print("| n | method | seconds | CPU seconds | peak RSS MB | RSS / rows' size | "
          "inertia / reference | passes |")
    print("|---|---|---|---|---|---|---|---|")
    for n in [int(x) for x in a.n.split(",")]:
        data = os.path.join(a.workdir, "rows_%d_%d.npy" % (n, a.dim))
        make_rows(data, n, a.dim)
        size_mb = n * a.dim * 4 / 2 ** 20
        res = {}
        for m in a.methods.split(","):
            res[m] = run(m, data, a.k, a.workdir)
        ref = res["sklearn-kmeans"]["inertia"] if "sklearn-kmeans" in res else \
            min(r["inertia"] for r in res.values())
        for m, r in res.items():
            print("| %d | %s | %.1f | %.1f | %.0f | %.2f | %.4f | %s |"
                  % (n, m, r["seconds"], r["cpu_seconds"], r["peak_rss_mb"],
                     r["peak_rss_mb"] / size_mb,
                     r["inertia"] / ref, r.get("passes", "")), flush=True)


if __name__ == "__main__":
    main()
