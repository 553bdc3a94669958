#!/usr/bin/python3
"""Training at scale: time, peak memory and inertia of k-means on n rows of dimension d, for
libavengers (SAMPLED and FULL), scikit-learn (KMeans, MiniBatchKMeans), faiss and avengers.dask,
each run in its own process under /usr/bin/time -v (peak RSS of the largest process, and user +
system CPU seconds of the process and its children, steadier than the wall time on a shared
machine; the CPU time counts every thread), one method at a time. Not a test: figures for
docs/SCALING.md, printed as one JSON object per line (stdout; progress on stderr), from which
--report (and bench/report.py in `make bench`) makes the table.

  scaling.py [--tier default|full] [--n 100000,1000000] [--dim 384] [--k 60] [--methods ...]
             [--budget SECONDS] [--quality [K,...]] [--done JSONL] [--repeat R] [--workdir DIR]
             > out.jsonl
  scaling.py --report out.jsonl

Every (n, d, k) cell runs every method; "wall s" is the method's own training time (rows
opened, not yet read: the pages of the mapped file are read during training), "CPU s" the whole
process's. A method is stopped after --budget seconds of wall time (600 in the full tier) and
the table says so; a full-batch method (whose cost grows at least linearly in n) is not started
when its wall time on the largest smaller n of the same (d, k), times the ratio of the n's,
exceeds the budget, and no method is started on a cell larger in n, d and k than one where it
exceeded the budget. The inertia reference of a cell is full-batch k-means where it ran
(scikit-learn KMeans, else libavengers FULL; both Lloyd from k-means++ with one restart),
otherwise the lowest inertia of the cell, named under the table. The last line of a cell and
method wins in --report, so `scaling.py --n 1000000 --dim 384 --k 60 >> out.jsonl` re-runs one
cell; --done out.jsonl resumes a run without repeating what the file holds.

Tiers (make bench BENCH_SCALE=default|full, mk/bench.mk): default = n 10k and 100k, d 384, k 60,
budget 120 s, quality at k 60 (a few minutes); full = n 10k, 100k, 1M x d 384, 1024 x k 60, 300,
budget 600 s, quality at k 60 and 300 (the issue's table; 2 to 3 hours on 2 busy cores, and
up to 9 GB of RAM at 1M x 1024, where the rows are 3.8 GiB and MiniBatchKMeans, faiss and the
Dask workers hold a normalised copy beside the mapped file).

Rows: the 1,200 rows of the llm9 fixture (tests/data/llm9/emb.npy: llmrouter9 queries, 384-d,
unit norm; for another d, a fixed Gaussian random projection of them, seed 1, renormalised)
drawn at random (seed 0) plus Gaussian noise of 0.02 per dimension; written once per (n, d) to
WORKDIR/rows_N_D.npy and read by every method through np.load(mmap_mode="r"). Every method
clusters the L2-normalised rows (libavengers normalises them itself; scikit-learn and faiss get
a normalised float32 copy, which their memory figure includes). The inertia of each result is
recomputed here, in float64 over the same normalised rows, and given relative to the cell's
reference (above). Methods:
  avengers-sampled  Builder.add_borrowed (zero-copy) + fit(algorithm="sampled")
  avengers-full     Builder.add_many (copied) + fit(algorithm="full", n_init=1)
  sklearn-kmeans    KMeans(n_clusters=k, n_init=1, random_state=0)
  sklearn-minibatch MiniBatchKMeans(n_clusters=k, batch_size=1024, n_init=3, random_state=0)
  faiss             faiss.Kmeans(d, k, niter=20, seed=0) (Debian python3-faiss; its default
                    sampling: at most 256 rows per centroid)
  avengers-dask     avengers.dask.train on a LocalCluster of 2 worker processes (1 thread each),
                    the rows read by each worker from the same .npy through a memory map
                    (avengers.dask.from_npy: no row in the graph or on the network); the same
                    router as avengers-sampled. Its "wall s" is the train call's (not the
                    cluster's start and stop); it also records the driver's and the workers' CPU
                    seconds during the call (fit_cpu is their sum) and the time to the sample's
                    k-means (sample_seconds, as SAMPLED's methods do)
  avengers-sampled-1t  avengers-sampled on one thread (AV_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
                    OMP_NUM_THREADS=1): the one process of the Dask trainer's speed-up
  avengers-source   (only when named in --methods) Builder.add_source with a Python
                    read(row0, n) slicing the memory map (as a reader of Parquet row groups would
                    hand out blocks) + fit(algorithm="sampled"): the same centroids as
                    avengers-sampled, every block read through the callback and hashed once at
                    add time and once per pass
  avengers-sampled-unbounded, avengers-sampled-1t-unbounded, avengers-dask-1t  (only when named)
                    SAMPLED with AV_KMEANS_BOUNDS=off (every row searched in every pass, as the
                    public block step the Dask trainer composes does), with default threads or
                    one; the Dask trainer with its driver on one thread

With --repeat R each cell runs its methods R rounds in turn (A B A B ...); --report then gives the
Dask trainer's speed-up over each single-process SAMPLED it ran beside, from the wall times of the
training calls of the same round (median and range over the rounds), also for the part after the
sample's k-means (what Dask distributes), and the ratio of the fits' CPU seconds.

  scaling.py --quality 60,300 --no-speed [--splits 5] [--first-split 1]
             [--quality-sample 1500,3000|default] [--quality-rows N [--quality-noise 0.01]]
Routing quality (the tiers run it before the speed table): on llmrouter9
(examples/data/llmrouter9, TF-IDF+SVD 384 embeddings, numpy 70/30 splits with split seeds
--first-split.. (5 by default; bench/make_rows.py's split_70_30) every method clusters the
training rows with the split seed as its k-means seed, the statistics of the training rows are
computed for its centroids (avengers.kmeans.stats_block) and the router (av_router_from_parts,
top_p 4) is evaluated on the test rows: AUC of the alpha sweep and PerfGain (alpha 1 accuracy
minus the best single model's, in points), one JSON line per method, sample size and split.
SAMPLED is forced there with a sample of 1,500 of the 4,192 training rows (--quality-sample, a
comma-separated list; "default" = the library's own); avengers-full-reseed is FULL with the
k-means seed + 100, the yardstick of what the clustering's seed alone moves; the peers
(scikit-learn, faiss) run on split seeds 1 to 5 only, so --splits adds splits for libavengers
alone. With --quality-rows N the methods (libavengers only) train on N noisy copies of the
split's training rows instead (bench/make_rows.py's draw, seeded with the split seed: no test
row and no copy of one is trained on), each with its source row's scores and costs, and
SAMPLED uses the library's default sample. --report pairs each method with FULL split by split:
mean difference, its standard error and 95% interval (Student's t), and whether SAMPLED's
PerfGain is within 0.2 points of FULL's (MET: the interval's low end is at least -0.2; NOT MET:
its high end is below -0.2; else UNRESOLVED). Runs extend one another: --first-split 41
--splits 40 >> the same file adds splits 41 to 80 (the last line of a setting, method, sample
and split wins).
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
METHODS = ["avengers-sampled", "avengers-full", "sklearn-kmeans", "sklearn-minibatch", "faiss",
           "avengers-dask", "avengers-sampled-1t", "avengers-source", "avengers-sampled-unbounded",
           "avengers-sampled-1t-unbounded", "avengers-dask-1t"]
# the row source, the passes without bounds and the Dask driver on one thread are measured on
# request (docs/SCALING.md)
DEFAULT_METHODS = METHODS[:7]
ONE_THREAD = {"AV_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
NO_BOUNDS = {"AV_KMEANS_BOUNDS": "off"}
#: the environment of a method's process (the variants of SAMPLED and of the Dask driver)
METHOD_ENV = {"avengers-sampled-1t": ONE_THREAD, "avengers-sampled-unbounded": NO_BOUNDS,
              "avengers-sampled-1t-unbounded": dict(ONE_THREAD, **NO_BOUNDS),
              "avengers-dask-1t": ONE_THREAD}


def base_method(method):
    """What a method runs: its variants (METHOD_ENV) differ only by their environment."""
    for b in ("avengers-sampled", "avengers-dask"):
        if method.startswith(b + "-") and method in METHOD_ENV:
            return b
    return method


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
    base = base_method(method)
    if base == "avengers-dask":
        import avengers.dask
        import dask.array as da
        from dask.distributed import Client, LocalCluster
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            client.run(_import_avengers)  # the workers' imports are not training either
            w0 = client.run(_cpu_seconds)
            c0 = time.process_time()
            t0 = time.perf_counter()  # the cluster's start is not training
            passes, sample_at = [], []
            Z = da.zeros((n, 1), np.float32, chunks=(avengers.dask.BLOCK_ROWS, 1))
            r = avengers.dask.train(
                client, avengers.dask.from_npy(data), Z, Z, ["m"], n_clusters=k, top_p=1,
                progress=lambda st, i, *a: (passes.append(i), st == "sample" and
                                            sample_at.append(time.perf_counter() - t0)))
            t1 = time.perf_counter()
            extra["driver_cpu"] = time.process_time() - c0
            w1 = client.run(_cpu_seconds)
            extra["workers_cpu"] = sum(w1[w] - w0[w] for w in w1 if w in w0)
            extra["fit_cpu"] = extra["driver_cpu"] + extra["workers_cpu"]
            extra["passes"] = max(passes)
            extra["sample_seconds"] = sample_at[0]
            extra["seconds"] = t1 - t0
            C = r.centroids()
    elif method == "faiss":
        import faiss
        Xn = normalised(np.asarray(X))
        km = faiss.Kmeans(d, k, niter=20, seed=0)
        c0 = time.process_time()
        km.train(Xn)
        extra["fit_cpu"] = time.process_time() - c0
        C = km.centroids.astype(np.float32)
    elif base.startswith("avengers"):
        import avengers
        S = np.zeros((n, 1), np.float32)
        b = avengers.Builder(d, ["m"])
        if base in ("avengers-sampled", "avengers-source"):
            if base == "avengers-source":
                b.add_source(n, lambda r0, m: (X[r0:r0 + m], S[r0:r0 + m], S[r0:r0 + m]))
            else:
                b.add_borrowed(X, S, S)
            passes, searched, sample_at = [], [], []
            c0 = time.process_time()
            t1 = time.perf_counter()
            r = b.fit(n_clusters=k, top_p=1, algorithm="sampled",
                      pass_progress=lambda p: (passes.append(p["pass"]),
                                               searched.append(p.get("rows_searched", n)),
                                               p["stage"] == "sample" and
                                               sample_at.append(time.perf_counter() - t1)))
            extra["fit_cpu"] = time.process_time() - c0
            if sample_at:
                extra["sample_seconds"] = sample_at[0]
            extra["passes"] = max(passes)
            # the rows' worth searched by the passes after the first and the statistics pass
            # (bounded passes, 1.4), over the rows those passes visited
            later = searched[2:]
            if later:
                extra["searched"] = sum(later) / float(n * len(later))
        else:
            b.add_many(X, S, S)
            c0 = time.process_time()
            r = b.fit(n_clusters=k, top_p=1, algorithm="full", n_init=1)
            extra["fit_cpu"] = time.process_time() - c0
        C = r.centroids()
    else:
        from sklearn.cluster import KMeans, MiniBatchKMeans
        Xn = normalised(np.asarray(X))
        c0 = time.process_time()
        if method == "sklearn-kmeans":
            m = KMeans(n_clusters=k, n_init=1, random_state=0).fit(Xn)
        else:
            m = MiniBatchKMeans(n_clusters=k, batch_size=1024, n_init=3, random_state=0).fit(Xn)
        extra["fit_cpu"] = time.process_time() - c0
        C = m.cluster_centers_.astype(np.float32)
    extra.setdefault("seconds", time.perf_counter() - t0)
    np.save(out, C)
    print(json.dumps(extra))


def _cpu_seconds():
    """User + system CPU seconds of the calling process (run on the Dask workers)."""
    import resource
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def _import_avengers():
    import avengers.dask  # noqa: F401


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


def run(method, data, k, workdir, budget):
    """One method on one cell in its own process group, killed after budget seconds of wall
    time. Returns its figures, or {"skipped": reason}."""
    out = os.path.join(workdir, "centroids_%s.npy" % method)
    if os.path.exists(out):
        os.unlink(out)
    cmd = ["/usr/bin/time", "-v", sys.executable, os.path.abspath(__file__), "--worker", method,
           "--data", data, "--k", str(k), "--out", out]
    load = os.getloadavg()
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True, env=dict(os.environ, **METHOD_ENV.get(method, {})))
    try:
        stdout, stderr = p.communicate(timeout=budget)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return {"skipped": "stopped at the budget of %.0f s wall" % budget,
                "over_budget": True, "budget": budget, "load": [round(x, 2) for x in load]}
    if p.returncode != 0:
        return {"skipped": "failed: %s" % (stderr.strip().splitlines() or ["?"])[-1][:200],
                "load": [round(x, 2) for x in load]}
    res = json.loads(stdout.strip().splitlines()[-1])
    res["process_seconds"] = time.perf_counter() - t0
    res["peak_rss_mb"] = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)",
                                       stderr).group(1)) / 1024.0
    res["cpu_seconds"] = sum(float(re.search(r"%s time \(seconds\): ([\d.]+)" % w,
                                             stderr).group(1)) for w in ("User", "System"))
    res["load"] = [round(x, 2) for x in load]
    res["load_after"] = [round(x, 2) for x in os.getloadavg()]
    res["inertia"] = inertia(data, np.load(out))
    return res


def skip_reason(method, n, d, k, budget, done):
    """Why a method is not run on the cell (n, d, k), from the results already in `done`
    ({(n, d, k, method): result}), or None. A method that was stopped at (or skipped for) the
    budget on fewer rows, or on the same rows with smaller d and k, is skipped; so is a
    full-batch method whose wall time on the largest smaller n of the same (d, k), scaled
    linearly with n (a lower bound for full-batch Lloyd, whose iterations do not fall with n),
    exceeds the budget. The others (sampled, mini-batch) are not linear in n: only the budget
    stops them."""
    best = None
    for (n2, d2, k2, m2), r in done.items():
        if m2 != method or (n2, d2, k2) == (n, d, k):
            continue
        smaller = n2 <= n and d2 <= d and k2 <= k
        if smaller and r.get("over_budget"):
            return "over the budget already at n=%s, d=%d, k=%d" % (fmt_n(n2), d2, k2)
        if (d2, k2) == (d, k) and n2 < n and "seconds" in r and (best is None or n2 > best[0]):
            best = (n2, r)
    if best is not None and method in FULL_BATCH:
        n2, r = best
        wall = r.get("process_seconds", r["seconds"])
        pred = wall * n / n2
        if pred > budget:
            return "predicted %.0f s wall (%.0f s at n=%s, times %g) > budget %.0f s" % (
                pred, wall, fmt_n(n2), n / n2, budget)
    return None


def fmt_n(n):
    return "%dM" % (n // 1000000) if n % 1000000 == 0 else \
        "%dk" % (n // 1000) if n % 1000 == 0 else str(n)


FULL_BATCH = ["sklearn-kmeans", "avengers-full"]
LABELS = {"avengers-sampled": "libavengers SAMPLED (borrowed rows)",
          "avengers-full": "libavengers FULL (n_init 1)",
          "sklearn-kmeans": "scikit-learn KMeans (n_init 1)",
          "sklearn-minibatch": "scikit-learn MiniBatchKMeans",
          "faiss": "faiss Kmeans (niter 20)",
          "avengers-dask": "avengers.dask.train (2 workers)",
          "avengers-source": "libavengers SAMPLED (row source, Python callback)",
          "avengers-sampled-1t": "libavengers SAMPLED (borrowed rows, 1 thread)",
          "avengers-sampled-unbounded": "libavengers SAMPLED (borrowed rows, bounds off)",
          "avengers-sampled-1t-unbounded": "libavengers SAMPLED (borrowed rows, 1 thread, "
                                           "bounds off)",
          "avengers-dask-1t": "avengers.dask.train (2 workers, driver on 1 thread)"}


def reference(cell):
    """The inertia reference of one cell ({method: result}): full-batch k-means where it ran
    (scikit-learn KMeans, else libavengers FULL), else the lowest inertia of the cell. Returns
    (method, inertia, how) with how "full-batch" or "lowest in the cell"."""
    for m in FULL_BATCH:
        if "inertia" in cell.get(m, {}):
            return m, cell[m]["inertia"], "full-batch"
    ran = [(r["inertia"], METHODS.index(m), m) for m, r in cell.items() if "inertia" in r]
    if not ran:
        return None, None, None
    v, _, m = min(ran)  # equal inertias (SAMPLED and Dask: the same centroids): the first method
    return m, v, "lowest in the cell"


def latest(rows):
    """{(n, d, k): {method: row}} keeping the last line of each (n, d, k, method)."""
    cells = {}
    for r in rows:
        if r.get("bench") == "scaling":
            cells.setdefault((r["n"], r["d"], r["k"]), {})[r["method"]] = r
    return cells


def table(rows):
    """The scaling table (markdown lines) and the issue's targets, from the JSON lines."""
    cells = latest(rows)
    out = ["| n | d | k | method | wall s | CPU s | CPU us/row | CPU / MiniBatch | peak RSS MB | "
           "RSS / rows | inertia / ref | passes |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    notes = []
    for (n, d, k) in sorted(cells, key=lambda c: (c[1], c[2], c[0])):
        cell = cells[(n, d, k)]
        refm, ref, how = reference(cell)
        mb = cell.get("sklearn-minibatch", {})
        size_mb = n * d * 4 / 2.0 ** 20
        for m in METHODS:
            r = cell.get(m)
            if r is None:
                continue
            name = LABELS.get(m, m) + (" **(ref)**" if m == refm else "")
            if "inertia" not in r:
                out.append("| %s | %d | %d | %s | not run: %s | | | | | | | |" % (
                    fmt_n(n), d, k, name, r.get("skipped", "?")))
                continue
            out.append("| %s | %d | %d | %s | %.1f | %.1f | %.2f | %s | %.0f | %.2f | %.4f | %s |"
                       % (fmt_n(n), d, k, name, r["seconds"], r["cpu_seconds"],
                          1e6 * r["cpu_seconds"] / n,
                          "%.2f" % (r["cpu_seconds"] / mb["cpu_seconds"]) if "cpu_seconds" in mb
                          else "", r["peak_rss_mb"], r["peak_rss_mb"] / size_mb,
                          r["inertia"] / ref, r.get("passes", "")))
        if how != "full-batch" and refm is not None:
            notes.append("n=%s d=%d k=%d: no full-batch k-means ran; inertia relative to the "
                         "lowest of the cell (%s)" % (fmt_n(n), d, k, LABELS.get(refm, refm)))
    return out + [""] + (notes + [""] if notes else []) + targets(cells) + speedup_lines(rows)


#: the single-process peers of the Dask trainer, in the order of the speed-up lines
SPEEDUP_PEERS = [("avengers-sampled-1t", "1 thread"),
                 ("avengers-sampled-1t-unbounded", "1 thread, bounds off"),
                 ("avengers-sampled", "default threads"),
                 ("avengers-sampled-unbounded", "default threads, bounds off")]


def rounds(rows):
    """{(n, d, k): [{method: row}, ...]}: the runs of one invocation's round together (the last
    line of a method wins within it); lines without a round (before --repeat) make one round
    per cell, of their last lines."""
    out = {}
    for r in rows:
        if r.get("bench") != "scaling" or "seconds" not in r:
            continue
        key = (r["n"], r["d"], r["k"])
        out.setdefault(key, {}).setdefault((r.get("run"), r.get("round")), {})[r["method"]] = r
    return {key: [per[i] for i in sorted(per, key=lambda i: (str(i[0]), i[1] or 0))]
            for key, per in out.items()}


def speedup_lines(rows):
    """The Dask trainer's speed-up over one process, per cell: the single process's wall time of
    its training call over the Dask trainer's, the two measured in the same round (--repeat
    alternates them), the median and range over the rounds; also for the part after the sample's
    k-means (the passes and the statistics: the part Dask distributes), and the CPU seconds of
    the fits (Dask: the driver's and the workers')."""
    out = []
    for (n, d, k), per in sorted(rounds(rows).items(), key=lambda c: (c[0][1], c[0][2], c[0][0])):
        for dask in ("avengers-dask", "avengers-dask-1t"):
            parts = []
            best = []
            for peer, what in SPEEDUP_PEERS:
                both = [(r[peer], r[dask]) for r in per if peer in r and dask in r]
                if not both:
                    continue
                wall = [p["seconds"] / q["seconds"] for p, q in both]
                line = "over SAMPLED %s %s" % (what, _spread(wall))
                rest = [(p["seconds"] - p["sample_seconds"]) / (q["seconds"] - q["sample_seconds"])
                        for p, q in both if "sample_seconds" in p and "sample_seconds" in q]
                if rest:
                    line += ", after the sample's k-means %s" % _spread(rest)
                cpu = [q["fit_cpu"] / p["fit_cpu"] for p, q in both
                       if "fit_cpu" in p and "fit_cpu" in q]
                if cpu:
                    line += ", CPU of the fits Dask / SAMPLED %s" % _spread(cpu)
                parts.append(line)
                if peer == "avengers-sampled-1t":
                    best = wall
            if not parts:
                continue
            loads = [r[m]["load"][0] for r in per for m in r if "load" in r[m]]
            out.append("Speed-up of %s over one process, n=%s d=%d k=%d (wall of the training "
                       "calls, same round; median [range] of %d round(s); load average %.1f to "
                       "%.1f):" % (LABELS[dask], fmt_n(n), d, k, max(len(per), 1),
                                   min(loads or [float("nan")]), max(loads or [float("nan")])))
            out += ["  " + p for p in parts]
            if best:
                out.append("  speed-up over one process of one thread (2 workers of one thread "
                           "each): %s" % ("REACHED (every round above 1)" if min(best) > 1 else
                                          "NOT REACHED" if np.median(best) <= 1 else
                                          "NOT IN EVERY ROUND"))
    return [""] + out if out else out


def _spread(x):
    """median [low-high] of ratios (just the value for one)."""
    x = sorted(x)
    if len(x) == 1:
        return "%.2fx" % x[0]
    return "%.2fx [%.2f-%.2f]" % (float(np.median(x)), x[0], x[-1])


def targets(cells):
    ok = lambda c: "MET" if c else "NOT MET"
    out = ["Targets of the scaling table, libavengers SAMPLED:"]
    for (d, k) in sorted({(c[1], c[2]) for c in cells}):
        a = cells.get((100000, d, k), {}).get("avengers-sampled", {})
        b = cells.get((1000000, d, k), {}).get("avengers-sampled", {})
        if "cpu_seconds" in a and "cpu_seconds" in b:
            r = (b["cpu_seconds"] / 1e6) / (a["cpu_seconds"] / 1e5)
            out.append("  d=%d k=%d: CPU per row 1M / 100k = %.2f (flat or falling, <= 1.10): %s"
                       % (d, k, r, ok(r <= 1.10)))
    c = cells.get((1000000, 384, 60), {}).get("avengers-sampled", {})
    if "seconds" in c:
        rel = c["peak_rss_mb"] / (1e6 * 384 * 4 / 2.0 ** 20)
        out.append("  1M x 384, k=60: %.1f s wall (< 60 s): %s; peak RSS %.2fx the rows (< 2x): %s"
                   % (c["seconds"], ok(c["seconds"] < 60), rel, ok(rel < 2)))
    for key in sorted(cells, key=lambda c: (c[1], c[2], c[0])):
        cell = cells[key]
        s, mb = cell.get("avengers-sampled", {}), cell.get("sklearn-minibatch", {})
        if "inertia" in s and "inertia" in mb:
            cpu, wall = mb["cpu_seconds"] / s["cpu_seconds"], mb["seconds"] / s["seconds"]
            inr = s["inertia"] / mb["inertia"]
            out.append("  n=%s d=%d k=%d: MiniBatchKMeans / SAMPLED = %.2fx CPU, %.2fx wall; "
                       "inertia SAMPLED / MiniBatch = %.4f; >= 3x at equal or lower inertia: "
                       "CPU %s, wall %s" % (fmt_n(key[0]), key[1], key[2], cpu, wall, inr,
                                            ok(cpu >= 3 and inr <= 1.0),
                                            ok(wall >= 3 and inr <= 1.0)))
            if "fit_cpu" in s and "fit_cpu" in mb:  # the fits alone (no start, no reading)
                fit = mb["fit_cpu"] / s["fit_cpu"]
                out.append("    the fits alone: MiniBatchKMeans / SAMPLED = %.2fx CPU: %s%s"
                           % (fit, ok(fit >= 3 and inr <= 1.0),
                              "; SAMPLED's later passes searched %.1f%% of the rows"
                              % (100 * s["searched"]) if "searched" in s else ""))
    return out


def quality_table(rows):
    """Markdown lines per k; SAMPLED once per sample size measured (the last line of each)."""
    out = []
    q = [r for r in rows if r.get("bench") == "scaling_quality"]
    for k in sorted({r["k"] for r in q}):
        res = {}
        for r in q:
            if r["k"] == k:
                res[(METHODS.index(r["method"]), r.get("sample_size") or 0)] = r
        base = next((r for (i, _), r in res.items() if METHODS[i] == "avengers-full"), None)
        if base is None:
            continue
        out.append("| method (k=%d) | AUC | PerfGain (points) | AUC - FULL | PerfGain - FULL |" % k)
        out.append("|---|---|---|---|---|")
        for (i, sample), a in sorted(res.items()):
            out.append("| %s | %.4f | %+.2f | %+.4f | %+.2f |" % (
                METHODS[i] + (" (sample %d)" % sample if sample else ""), a["auc"],
                a["perf_gain_points"], a["auc"] - base["auc"],
                a["perf_gain_points"] - base["perf_gain_points"]))
        for (i, sample), a in sorted(res.items()):
            if METHODS[i] == "avengers-sampled":
                dv = a["perf_gain_points"] - base["perf_gain_points"]
                out.append("Target: SAMPLED (sample %d) PerfGain not below FULL's by more than 0.2 "
                           "points: %+.2f: %s" % (sample, dv, "MET" if dv >= -0.2 else "NOT MET"))
        out.append("")
    return out


QUALITY_SAMPLE = "1500"  # SAMPLED forced on 4,192 rows: a sample of 1,500 (--quality-sample)
QUALITY_METHODS = ["avengers-sampled", "avengers-full", "avengers-full-reseed", "sklearn-kmeans",
                   "sklearn-minibatch", "faiss"]
MANY_SPLITS = QUALITY_METHODS[:3]  # the peers run on split seeds 1..PEER_SPLITS only
PEER_SPLITS = 5
RESEED = 100  # avengers-full-reseed: FULL with the fit seed + RESEED


def centroids_for(method, X, k, seed, sample=None):
    """Centroids of the rows X (n, d) by one method (the quality mode); sample: SAMPLED's
    sample_size (None: the library's default)."""
    import avengers
    n, d = X.shape
    if method.startswith("avengers"):
        Z = np.zeros((n, 1), np.float32)
        b = avengers.Builder(d, ["m"])
        b.add_many(X, Z, Z)
        if method == "avengers-sampled":
            alg = dict(algorithm="sampled", **({"sample_size": sample} if sample else {}))
        else:
            alg = dict(algorithm="full")
            seed += RESEED if method == "avengers-full-reseed" else 0
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


def quality(k, emit, methods, samples, splits=PEER_SPLITS, first=1, rows=0, noise=0.01):
    """One JSON line per (method, SAMPLED sample size, split): on the numpy 70/30 split of
    llmrouter9 with each split seed first..first+splits-1, the method's centroids of the training
    rows (rows > 0: of `rows` noisy copies of them, make_rows.draw with the split seed, each
    carrying its source row's scores and costs), the statistics of those rows for them, and the
    router (top_p 4) evaluated on the split's test rows. samples: SAMPLED's sample sizes (None:
    the library's default). The peers run on split seeds up to PEER_SPLITS only, and not on
    drawn rows."""
    sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    sys.path.insert(0, HERE)
    import avengers
    from avengers import kmeans
    from make_rows import draw, split_70_30
    from split_study import load
    models, X, S, Q = load("tfidf_svd384")
    runs = [(m, smp) for m in methods if m in QUALITY_METHODS
            for smp in (samples if m == "avengers-sampled" else [None])]
    for seed in range(first, first + splits):
        tr, te = split_70_30(len(X), seed)
        if rows:
            src, Xt = draw(X, tr, rows, noise, seed)
            St, Qt = S[src], Q[src]
        else:
            Xt, St, Qt = X[tr], S[tr], Q[tr]
        for m, smp in runs:
            if m not in MANY_SPLITS and (rows or seed > PEER_SPLITS):
                continue
            C = centroids_for(m, Xt, k, seed, smp)
            (cnt, ss, sc), _ = kmeans.stats_block(C, Xt, St, Qt)
            r = avengers.Router.from_parts(C, cnt, ss, sc, models, top_p=4)
            ev = r.evaluate(X[te], S[te], Q[te]).metrics
            line = dict(bench="scaling_quality_split", k=k, method=m, split_seed=seed,
                        fit_seed=seed + (RESEED if m == "avengers-full-reseed" else 0),
                        train_rows=len(Xt), test_rows=len(te), auc=float(ev["auc"]),
                        perf_gain_points=float(100 * ev["perf_gain"]),
                        sample_size=smp if m == "avengers-sampled" else None,
                        sample_default=m == "avengers-sampled" and not smp)
            if rows:
                line.update(source_train_rows=len(tr), rows_noise=noise, rows_seed=seed)
            emit(line)


def t975(df):
    """The 0.975 quantile of Student's t with df degrees of freedom."""
    from scipy.stats import t
    return float(t.ppf(0.975, df))


def paired(per_split, base):
    """Paired differences {split: value} - {split: value} over their common splits: (n, mean,
    standard error, 95% interval low, high); the error and interval are None below 2 splits."""
    common = sorted(set(per_split) & set(base))
    d = np.array([per_split[s] - base[s] for s in common], dtype=np.float64)
    if d.size == 0:
        return 0, None, None, None, None
    if d.size < 2:
        return 1, float(d[0]), None, None, None
    se = float(d.std(ddof=1) / np.sqrt(d.size))
    h = t975(d.size - 1) * se
    return d.size, float(d.mean()), se, float(d.mean()) - h, float(d.mean()) + h


SE_AIM = 0.07  # points: the standard error of the paired mean that resolves 0.2 points


def splits_for(sd, aim=SE_AIM):
    """Splits whose paired mean has a standard error of `aim` at a spread of sd per split."""
    return int(np.ceil((sd / aim) ** 2))


def verdict(low, high, margin=0.2):
    """The 0.2-point target (SAMPLED's PerfGain not below FULL's by more than margin points) from
    the 95% interval of the paired difference."""
    if low is None:
        return "UNRESOLVED (one split)"
    if low >= -margin:
        return "MET"
    if high < -margin:
        return "NOT MET"
    return "UNRESOLVED"


def quality_settings(rows):
    """{(k, train rows, noise): {(method, sample label): {split: (auc, perf_gain_points)}}} from
    the per-split lines, the last line of each (setting, method, sample, split) winning."""
    out = {}
    for r in rows:
        if r.get("bench") != "scaling_quality_split":
            continue
        key = (r["k"], r["train_rows"], r.get("rows_noise"))
        label = "default" if r.get("sample_default") else r.get("sample_size")
        out.setdefault(key, {}).setdefault((r["method"], label), {})[r["split_seed"]] = \
            (r["auc"], r["perf_gain_points"])
    return out


def signed(x, places=2):
    """x with its sign, to `places` decimals, never "-0.00"."""
    return "%+.*f" % (places, round(x, places) + 0.0)


def paired_quality_table(rows):
    """Markdown lines per setting: each method's means and its paired difference from FULL (mean,
    standard error, 95% interval) over the splits both ran, and the 0.2-point target per SAMPLED
    sample size."""
    out = []
    for (k, n, noise), res in sorted(quality_settings(rows).items(),
                                      key=lambda kv: (kv[0][1], kv[0][0])):
        base = res.get(("avengers-full", None))
        if base is None:
            continue
        fa = {s: v[0] for s, v in base.items()}
        fp = {s: v[1] for s, v in base.items()}
        out.append("k = %d, %s training rows%s:" % (
            k, "{:,}".format(n), "" if noise is None else
            " (noisy copies of the split's training rows, noise %g)" % noise))
        out.append("")
        out.append("| method | splits | AUC | PerfGain (points) | AUC - FULL | PerfGain - FULL: "
                   "mean | standard error | 95% interval |")
        out.append("|---|---|---|---|---|---|---|---|")
        order = lambda kv: (QUALITY_METHODS.index(kv[0][0]) if kv[0][0] in QUALITY_METHODS
                            else 99, str(kv[0][1]))
        targets = []
        for (m, label), per in sorted(res.items(), key=order):
            name = m + ("" if label is None else " (sample %s)" % (
                "default" if label == "default" else "{:,}".format(label)))
            a = np.mean([v[0] for v in per.values()])
            p = np.mean([v[1] for v in per.values()])
            na, da = paired({s: v[0] for s, v in per.items()}, fa)[:2]
            n_, dp, se, lo, hi = paired({s: v[1] for s, v in per.items()}, fp)
            if m == "avengers-full":
                out.append("| %s | %d | %.4f | %s | | | | |" % (name, len(per), a, signed(p)))
                continue
            out.append("| %s | %d | %.4f | %s | %s | %s | %s | %s |" % (
                name, len(per), a, signed(p), signed(da, 4), signed(dp),
                "" if se is None else "%.2f" % se,
                "" if lo is None else "%s to %s" % (signed(lo), signed(hi))))
            if m == "avengers-sampled":
                targets.append("Target: %s PerfGain not below FULL's by more than 0.2 points "
                               "(95%% interval of the paired difference over %d splits): %s%s" % (
                                   name, n_, verdict(lo, hi), "" if se is None else
                                   " (standard deviation per split %.2f: %d splits for a "
                                   "standard error of %.2f)" % (se * np.sqrt(n_), splits_for(
                                       se * np.sqrt(n_)), SE_AIM)))
            if m == "avengers-full-reseed":
                targets.append("Yardstick: FULL with seed + %d - FULL, over %d splits: %s "
                               "(standard deviation per split %.2f)" % (
                                   RESEED, n_, signed(dp), (se or 0.0) * np.sqrt(n_)))
        out += [""] + targets + [""]
    return out


TIERS = {  # make bench BENCH_SCALE=default|full (mk/bench.mk)
    "default": dict(n="10000,100000", dim="384", k="60", budget=120, quality="60"),
    "full": dict(n="10000,100000,1000000", dim="384,1024", k="60,300", budget=600,
                 quality="60,300"),
}


def git_commit():
    try:
        c = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty", "--abbrev=12"],
                           capture_output=True, text=True).stdout.strip()
        return c or "?"
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser(description="Training at scale (docs/SCALING.md, \"Measured\")")
    ap.add_argument("--tier", choices=sorted(TIERS), help="preset lists and budget (below)")
    ap.add_argument("--n", help="rows, comma-separated (default 100000,1000000)")
    ap.add_argument("--dim", help="dimensions, comma-separated (default 384)")
    ap.add_argument("--k", help="clusters, comma-separated (default 60)")
    ap.add_argument("--methods", default=",".join(DEFAULT_METHODS))
    ap.add_argument("--budget", type=float,
                    help="wall seconds per method and cell before it is stopped (default 600)")
    ap.add_argument("--quality", nargs="?", const="", default=None,
                    help="routing quality on llmrouter9 for these k (default: --k)")
    ap.add_argument("--no-speed", action="store_true", help="with --quality: quality only")
    ap.add_argument("--quality-sample",
                    help="SAMPLED's sample sizes in the quality runs, comma-separated, "
                         "\"default\" for the library's own (default %s; with --quality-rows: "
                         "default)" % QUALITY_SAMPLE)
    ap.add_argument("--splits", type=int, default=PEER_SPLITS,
                    help="quality: numpy 70/30 splits, split seeds --first-split.. (default %d; "
                         "the peers run on seeds up to %d only)" % (PEER_SPLITS, PEER_SPLITS))
    ap.add_argument("--first-split", type=int, default=1,
                    help="quality: the first split seed (default 1): extend a run with "
                         "--first-split 6 --splits 20 >> the same file")
    ap.add_argument("--quality-rows", type=int, default=0,
                    help="quality: train on this many noisy copies of the split's training rows "
                         "(bench/make_rows.py's draw, seeded with the split seed) instead of the "
                         "rows themselves; libavengers only")
    ap.add_argument("--quality-noise", type=float, default=0.01,
                    help="noise per dimension of --quality-rows (default 0.01, make_rows.py's)")
    ap.add_argument("--report", metavar="JSONL",
                    help="print the tables of the scaling lines of this file (the last line of "
                         "each cell and method wins) and exit")
    ap.add_argument("--done", metavar="JSONL",
                    help="runs already in this file (its scaling lines) are not run again and "
                         "count for the budget's predictions: resume a run with the same options")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each cell's methods this many rounds, in turn (ABAB: the speed-up "
                         "lines pair the methods' runs of the same round; default 1)")
    ap.add_argument("--workdir", default="/tmp/avengers-scaling")
    ap.add_argument("--worker")
    ap.add_argument("--data")
    ap.add_argument("--out")
    a = ap.parse_args()
    if a.worker:
        return worker(a.worker, a.data, int(a.k), a.out)
    if a.report:
        rows = [json.loads(l) for l in open(a.report) if l.strip().startswith("{")]
        print("\n".join(report_lines(rows)))
        return
    tier = TIERS[a.tier] if a.tier else dict(n="100000,1000000", dim="384", k="60", budget=600,
                                              quality=None)
    ns = [int(x) for x in (a.n or tier["n"]).split(",")]
    dims = [int(x) for x in (a.dim or tier["dim"]).split(",")]
    ks = [int(x) for x in (a.k or tier["k"]).split(",")]
    budget = a.budget or tier["budget"]
    # quality: --quality [K,...] (bare: the --k values); a tier's own when no cell is named
    qks = a.quality if a.quality is not None else \
        tier["quality"] if a.tier and not (a.n or a.dim or a.k) else None
    qks = [int(x) for x in (qks or ",".join(map(str, ks))).split(",")] if qks is not None else []
    commit = git_commit()

    def emit(row):
        row.update(src="scaling", commit=commit)
        print(json.dumps(row), flush=True)

    samples = [None if x == "default" else int(x) for x in (
        a.quality_sample or ("default" if a.quality_rows else QUALITY_SAMPLE)).split(",")]
    qmethods = a.methods.split(",")
    if a.methods == ",".join(DEFAULT_METHODS):  # the default list: FULL reseeded as well
        qmethods.insert(2, "avengers-full-reseed")
    for k in qks:
        t0 = time.perf_counter()
        quality(k, emit, qmethods, samples, a.splits, a.first_split, a.quality_rows,
                a.quality_noise)
        print("scaling: quality k=%d in %.0f s" % (k, time.perf_counter() - t0), file=sys.stderr)
    if a.no_speed:
        return
    os.makedirs(a.workdir, exist_ok=True)
    done = {}
    if a.done and os.path.exists(a.done):
        for r in (json.loads(l) for l in open(a.done) if l.strip().startswith("{")):
            if r.get("bench") == "scaling":
                done[(r["n"], r["d"], r["k"], r["method"])] = r
    previous = set(done)
    run_id = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    # cell by cell in (d, k), fewer rows first: their times predict which runs would exceed the
    # budget, and the smallest (d, k) (the 1M x 384, k = 60) is complete first
    for d in dims:
        for k in ks:
            for n in ns:
                data = os.path.join(a.workdir, "rows_%d_%d.npy" % (n, d))
                make_rows(data, n, d)
                for rnd, m in ((i, m) for i in range(1, a.repeat + 1)
                               for m in a.methods.split(",")):
                    if (n, d, k, m) in previous or \
                            (rnd > 1 and done.get((n, d, k, m), {}).get("over_budget")):
                        continue
                    why = skip_reason(m, n, d, k, budget, done)
                    res = {"skipped": why, "over_budget": True} if why else \
                        run(m, data, k, a.workdir, budget)
                    done[(n, d, k, m)] = res
                    res.update(bench="scaling", n=n, d=d, k=k, method=m, run=run_id, round=rnd)
                    emit(res)
                    print("scaling: n=%s d=%d k=%d %s: %s" % (
                        fmt_n(n), d, k, m, res.get("skipped") or "%.1f s wall, %.1f s CPU" % (
                            res["seconds"], res["cpu_seconds"])), file=sys.stderr, flush=True)


def report_lines(rows):
    """Everything report.py and --report print about the scaling lines."""
    out = []
    sc = [r for r in rows if r.get("bench") == "scaling"]
    if sc:
        loads = [r["load"][0] for r in sc if "load" in r] or [float("nan")]
        out.append("Training at scale (bench/scaling.py; commit %s; 1-minute load average at "
                   "the runs' starts %.1f to %.1f)" % (
                       ", ".join(sorted({r.get("commit", "?") for r in sc})), min(loads),
                       max(loads)))
        out += table(rows)
    if any(r.get("bench") == "scaling_quality_split" for r in rows):
        out.append("Routing quality on llmrouter9 (numpy 70/30 splits of 5,989 queries, top_p 4; "
                   "differences from FULL paired by split)")
        out += paired_quality_table(rows)
    q = [r for r in rows if r.get("bench") == "scaling_quality"]
    if q:
        out.append("Routing quality on llmrouter9 (5 numpy 70/30 splits of 5,989 queries, top_p 4; "
                   "SAMPLED forced, with a sample of the 4,192 training rows)")
        out += quality_table(rows)
    return out


if __name__ == "__main__":
    main()
