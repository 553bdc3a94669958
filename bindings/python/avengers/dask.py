"""Training a router on a Dask cluster (docs/SCALING.md, "Training on a Dask cluster").

    from dask.distributed import Client
    import avengers.dask
    client = Client("scheduler:8786")
    router = avengers.dask.train(client, embeddings, scores, costs, models, n_clusters=60)
    router.save("router.avr")

Dask distributes; the library computes. ``train`` composes the library's partial steps
(:mod:`avengers.kmeans`) exactly as the SAMPLED trainer of ``Builder.fit`` does: the sample's
membership is decided per block on the workers and the sample gathered on the driver, where the
library runs full-batch k-means on it; every Lloyd pass maps blocks of rows to int64 fixed-point
partial sums on the workers and adds them on the driver (exact, so in any order); the statistics
are mapped per chunk of 32,768 rows and added in row order. For the same seed, options and rows it
returns the router ``Builder.fit(algorithm="sampled")`` returns in one process: the same
centroids bit for bit, the same statistics, the same decisions (tests/dask/test_dask_train.py
checks it on a LocalCluster of worker processes). Rows never leave the workers except the
sample. ``init="k-means||"`` seeds with Spark MLlib's k-means|| instead (then there is no
single-process twin).

Embeddings: a dask array (n, dim); scores and costs: dask arrays (n, n_models) or a dask
dataframe with one column per model (``models`` names the columns, in router order); numpy
arrays are accepted too (sent to the workers once, in blocks). NaN = no outcome. Rows in a .npy
file: ``from_npy(path)`` makes a dask array whose blocks each worker reads from the file
through a memory map (the file at the same path on every worker), so that no row crosses the
network; do not ``dask.array.from_array`` a memory map (dask then pickles the whole array into
the graph, and every block is computed where that one piece of data lives). The blocks stay on
the workers, consecutive blocks on one worker and about as many rows on each. Needs Debian's
python3-dask and python3-distributed; the workers import this package and load libavengers as
the driver does (AVENGERS_LIB, PYTHONPATH or an install).
"""
import math
import os
import time

import numpy as np

from . import kmeans
from ._router import Router, _default_fit_options, _fit_option_values

#: the trainer merges its statistics per chunk of this many rows, the chunks in row order
STATS_CHUNK_ROWS = 32768

#: rows per task of a pass (a multiple of the statistics chunk)
BLOCK_ROWS = 4 * STATS_CHUNK_ROWS


# ---- the map steps, run on the workers (module-level so that they pickle by reference) ----

def _sample_rows(block, row0, seed, n_total, sample_size):
    mask, _ = kmeans.sample_mask(seed, n_total, sample_size, row0, block.shape[0])
    return np.ascontiguousarray(block[mask], dtype=np.float32)


def _lloyd(block, C):
    return kmeans.block_step(C, block)


def _stats(block, scores, costs, C):
    """Per chunk of STATS_CHUNK_ROWS rows (the trainer's), in row order."""
    out = []
    for r0 in range(0, block.shape[0], STATS_CHUNK_ROWS):
        r1 = r0 + STATS_CHUNK_ROWS
        out.append(kmeans.stats_block(C, block[r0:r1], scores[r0:r1], costs[r0:r1]))
    return out


def _cost(block, centres):
    return kmeans.parallel_cost(centres, block)


def _pick(block, row0, centres, seed, rnd, l, phi):
    mask = kmeans.parallel_pick(centres, block, row0, seed, rnd, l, phi)
    return kmeans.normalize(block[mask]) if mask.any() else np.empty((0, block.shape[1]), np.float32)


def _first_row(block):
    return kmeans.normalize(block[:1])


# ---- inputs ----

def _npy_block(path, r0, r1):
    """Rows [r0, r1) of a .npy file, through a memory map opened where the task runs."""
    return np.load(path, mmap_mode="r")[r0:r1]


def from_npy(path, block_rows=BLOCK_ROWS):
    """A Dask array of the rows of a 2-D .npy file (numpy.save's format) in blocks of block_rows
    rows, each block read by the worker that holds it through a memory map of the file
    (numpy.load(mmap_mode="r")): no row crosses the network and a worker's memory holds only the
    pages it reads. The file must be readable at the same path on every worker (a LocalCluster, a
    shared filesystem). Give train() the same block_rows (the default is the same)."""
    import dask.array as da
    from dask.base import tokenize
    path = os.path.abspath(os.fspath(path))
    m = np.load(path, mmap_mode="r")
    if m.ndim != 2:
        raise ValueError("%s: expected 2-D rows, got shape %s" % (path, m.shape))
    if block_rows <= 0:
        raise ValueError("block_rows must be positive")
    n, dim = m.shape
    st = os.stat(path)
    name = "avengers-npy-" + tokenize(path, st.st_size, st.st_mtime_ns, block_rows)
    starts = list(range(0, n, block_rows)) or [0]
    dsk = {(name, i, 0): (_npy_block, path, r0, min(r0 + block_rows, n))
           for i, r0 in enumerate(starts)}
    chunks = (tuple(min(r0 + block_rows, n) - r0 for r0 in starts), (dim,))
    return da.Array(dsk, name, chunks, dtype=m.dtype)


def _dask_array(x, name, models=None):
    """x as a 2-D float32 Dask array, or a 2-D float32 numpy array (not shipped in a graph: its
    blocks are scattered to the workers by _blocks)."""
    import dask.array as da
    try:  # dask's dataframes need pandas (Debian python3-pandas)
        import dask.dataframe as dd
        frame = isinstance(x, dd.DataFrame)
    except ImportError:
        frame = False
    if frame:
        if models is None:
            raise ValueError("%s is a dataframe: models must name its columns" % name)
        missing = [m for m in models if m not in x.columns]
        if missing:
            raise ValueError("%s has no column for model(s) %s (columns: %s)"
                             % (name, ", ".join(map(str, missing)), ", ".join(map(str, x.columns))))
        x = x[list(models)].astype("float32").to_dask_array(lengths=True)
    elif not isinstance(x, da.Array):
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2:
            raise ValueError("%s must be 2-D, got %d dimension(s)" % (name, x.ndim))
        return x
    if x.ndim != 2:
        raise ValueError("%s must be 2-D, got %d dimension(s)" % (name, x.ndim))
    if any(math.isnan(c) for c in x.chunks[0]):
        x = x.compute_chunk_sizes()
    return x.astype(np.float32)


def _placement(client, sizes):
    """The worker of each block: consecutive blocks, about as many rows per worker."""
    workers = sorted(client.scheduler_info()["workers"])
    if not workers:
        raise RuntimeError("the Dask cluster has no worker")
    total = float(sum(sizes)) or 1.0
    out, r = [], 0
    for s in sizes:
        out.append(workers[min(int((r + s / 2.0) * len(workers) / total), len(workers) - 1)])
        r += s
    return out


def _blocks(client, x, block_rows):
    """Futures of the row blocks of x (whole rows each, held by the workers, about as many rows
    on each, block i of every array on the same worker) and their first rows' indices."""
    if isinstance(x, np.ndarray):
        sizes = [min(block_rows, x.shape[0] - r) for r in range(0, x.shape[0], block_rows)] or [0]
    else:
        x = x.rechunk({0: block_rows, 1: -1})
        sizes = list(x.chunks[0])
    where = _placement(client, sizes)
    row0 = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int).tolist()
    if isinstance(x, np.ndarray):
        futures = [client.scatter(x[r:r + s], workers=[w], hash=False)
                   for r, s, w in zip(row0, sizes, where)]
    else:
        futures = [client.compute(b, workers=[w], allow_other_workers=True)
                   for b, w in zip(x.to_delayed().ravel(), where)]
    return futures, row0


def _parallel_init(client, X, row0, n, opts, rounds, l, progress):
    """k-means|| (Bahmani et al. 2012; Spark MLlib's default seeding) on the workers."""
    seed = kmeans.member_seed(opts.seed, 0)
    centres = client.submit(_first_row, X[0]).result()
    l = float(l if l else 2 * opts.n_clusters)
    for rnd in range(rounds):
        phi = sum(client.gather(client.map(_cost, X, centres=centres)))
        if phi <= 0:
            break
        picked = client.gather(client.map(_pick, X, row0, centres=centres, seed=seed, rnd=rnd,
                                          l=l, phi=phi))
        centres = np.concatenate([centres] + [p for p in picked if p.shape[0]])
        if progress:
            progress("seed", rnd + 1, centres.shape[0], float(phi) / kmeans.FIXED_ONE)
    parts = client.gather(client.map(_lloyd, X, C=centres))
    weights = np.sum([p[1] for p in parts], axis=0).astype(np.float64)
    return kmeans.parallel_reduce(centres, weights, **_numbers(opts))


def train(client, embeddings, scores, costs, models, *, n_clusters=None, top_p=None,
          n_init=None, max_iter=None, tol=None, seed=None, sample_size=None, max_passes=None,
          init="sample", parallel_rounds=2, oversampling=None, block_rows=BLOCK_ROWS,
          embedder_id=None, progress=None):
    """Train a router on a dask.distributed cluster (the SAMPLED algorithm; see the module's
    documentation). Options left None keep the library's defaults (60 clusters, top_p 4, ...).
    init: "sample" (the library's trainer: k-means++ on the deterministic sample) or "k-means||"
    (parallel_rounds rounds of oversampling l, default 2 * n_clusters). block_rows: rows per task
    (a multiple of 32,768). progress(stage, step, count, value) is called on the driver after the
    sample's k-means ("sample", 0, sample rows, inertia), each pass ("pass", pass, rows, shift)
    and the statistics ("stats", passes, rows, inertia); with init="k-means||" also per seeding
    round ("seed", round, centres, cost). Returns a Router (single clustering: ensembles are
    trained by Builder.fit)."""
    if init not in ("sample", "k-means||"):
        raise ValueError('init must be "sample" or "k-means||"')
    if block_rows <= 0 or block_rows % STATS_CHUNK_ROWS:
        raise ValueError("block_rows must be a positive multiple of %d" % STATS_CHUNK_ROWS)
    models = [str(m) for m in models]
    opts = _default_fit_options()
    for name, val in _fit_option_values(dict(
            n_clusters=n_clusters, top_p=top_p, n_init=n_init, max_iter=max_iter, tol=tol,
            seed=seed, sample_size=sample_size, max_passes=max_passes, algorithm="sampled")):
        setattr(opts, name, val)
    E = _dask_array(embeddings, "embeddings")
    S = _dask_array(scores, "scores", models)
    Cst = _dask_array(costs, "costs", models)
    n, dim = E.shape
    m = len(models)
    if S.shape != (n, m) or Cst.shape != (n, m):
        raise ValueError("scores and costs must be (%d, %d), got %s and %s" % (n, m, S.shape, Cst.shape))
    if n < opts.n_clusters:
        raise ValueError("%d rows cannot make %d clusters" % (n, opts.n_clusters))
    t0 = time.monotonic()
    X, row0 = _blocks(client, E, block_rows)
    _, sample, max_passes = kmeans.plan(n, **_numbers(opts))
    seed_0 = kmeans.member_seed(opts.seed, 0)
    if init == "sample":
        # (a) the sample, gathered in row order; (b) k-means on it, on the driver
        rows = client.gather(client.map(_sample_rows, X, row0, seed=seed_0, n_total=n,
                                        sample_size=sample))
        rows = np.concatenate(rows)
        if rows.shape[0] < opts.n_clusters:
            raise ValueError("the sample of %d rows cannot make %d clusters (raise sample_size)"
                             % (rows.shape[0], opts.n_clusters))
        C, inertia, shift_tol = kmeans.fit_sample(rows, **dict(_numbers(opts), seed=seed_0))
        sample_rows = rows.shape[0]
        del rows
    else:
        C = _parallel_init(client, X, row0, n, opts, parallel_rounds, oversampling, progress)
        # the passes' threshold: tol times the mean variance of the normalised rows, from sums
        sq = client.gather(client.map(_moments, X))
        tot = np.sum([s[0] for s in sq], axis=0)
        tot2 = sum(s[1] for s in sq)
        mean = tot / n
        shift_tol = float(opts.tol) * (tot2 / n - float(mean @ mean)) / dim
        inertia, sample_rows = float("nan"), 0
    if progress:
        progress("sample", 0, sample_rows, inertia)
    # (c) Lloyd passes: int64 partial sums, added exactly
    passes, prev = 0, None
    while passes < max_passes:
        parts = client.gather(client.map(_lloyd, X, C=C))
        sums = np.sum([p[0] for p in parts], axis=0)
        counts = np.sum([p[1] for p in parts], axis=0)
        pass_inertia = sum(p[2] for p in parts)
        C, shift = kmeans.finish_step(C, sums, counts)
        passes += 1
        if progress:
            progress("pass", passes, n, shift)
        if kmeans.converged(shift, shift_tol, prev, pass_inertia, opts.tol):
            break
        prev = pass_inertia
    # (d) statistics, per chunk, added in row order
    Sb, _ = _blocks(client, S, block_rows)
    Cb, _ = _blocks(client, Cst, block_rows)
    chunks = client.gather(client.map(_stats, X, Sb, Cb, C=C))
    cnt, ss, sc = (np.zeros((opts.n_clusters, m)) for _ in range(3))
    fin = 0
    for block in chunks:
        for (c, s_, q), ine in block:
            cnt += c
            ss += s_
            sc += q
            fin += ine
    final_inertia = fin / kmeans.FIXED_ONE
    if progress:
        progress("stats", passes, n, final_inertia)
    router = Router.from_parts(C, cnt, ss, sc, models, top_p=opts.top_p)
    meta = {"trainer": "avengers.dask (libavengers %s)" % _version(),
            "algorithm": "sampled kmeans++/lloyd" if init == "sample" else "k-means||/lloyd",
            "n_clusters": opts.n_clusters, "top_p": opts.top_p, "n_init": opts.n_init,
            "max_iter": opts.max_iter, "tol": "%.17g" % opts.tol, "seed": opts.seed,
            "n_train_rows": n, "inertia": "%.17g" % final_inertia, "n_iter": passes,
            "embedder_dim": dim, "train_seconds": "%.3f" % (time.monotonic() - t0)}
    if init == "sample":
        meta["sample_rows"] = sample_rows
    if embedder_id:
        meta["embedder_id"] = embedder_id
    for k_, v in meta.items():
        router.set_meta(k_, str(v))
    return router


def _numbers(o):
    """The numeric fit options of o as keyword arguments of avengers.kmeans."""
    return dict(n_clusters=o.n_clusters, top_p=o.top_p, n_init=o.n_init, max_iter=o.max_iter,
                tol=o.tol, seed=o.seed, sample_size=o.sample_size, max_passes=o.max_passes,
                algorithm="sampled")


def _moments(block):
    x = kmeans.normalize(block).astype(np.float64)
    return x.sum(axis=0), float((x * x).sum())


def _version():
    from . import version
    return version()


# ---- tuning: one task per candidate n_clusters ----

def _default_grid():
    """The library's default candidate lists (av_tune_options_default_grid) as a dict."""
    import ctypes
    from ._router import _tune_options_impl
    t = _tune_options_impl("default", [])
    grid = {}
    for key, count, ctype in (("n_clusters", "n_n_clusters", ctypes.c_uint32),
                              ("top_p", "n_top_p", ctypes.c_uint32),
                              ("kappa", "n_kappa", ctypes.c_double),
                              ("temperatures", "n_temperatures", ctypes.c_float),
                              ("members", "n_members", ctypes.c_uint32),
                              ("safety", "n_safety", ctypes.c_double)):
        ptr, n_ = getattr(t, key), getattr(t, count)
        if ptr and n_:
            grid[key] = list(ctypes.cast(ptr, ctypes.POINTER(ctype))[:n_])
    grid["global_normalisation"] = int(t.global_normalisation)
    return grid


def _tune_task(E, S, C, models, k, grid, fit):
    """The library's tuner on the gathered rows with n_clusters = [k]: the tuned_* metadata of its
    choice."""
    from ._router import Builder
    b = Builder(E.shape[1], models)
    b.add_many(E, S, C)
    r = b.fit(n_clusters=k, tune=dict(grid, n_clusters=[k]), **fit)
    meta = {key: v for key, v in r.metadata.items() if key.startswith("tuned_")}
    r.close()
    b.close()
    return meta


def _gather_rows(client, blocks, row0, n, seed, rows):
    """The deterministic sample of about `rows` rows (all when n <= rows), in row order."""
    out = []
    for X in blocks:
        parts = client.gather(client.map(_sample_rows, X, row0, seed=seed, n_total=n,
                                         sample_size=rows))
        out.append(np.concatenate(parts))
    return out


def tune(client, embeddings, scores, costs, models, *, grid="default", tune_rows=50000,
         n_folds=None, objective=None, n_init=None, seed=None, block_rows=BLOCK_ROWS,
         progress=None, **train_options):
    """Cross-validated choice of the settings with the candidates fanned out as Dask tasks, then
    the chosen router trained on every row with train().

    A deterministic sample of about tune_rows rows (all of them when there are fewer) is gathered
    and shipped to the workers; each candidate n_clusters is one task that runs the library's
    tuner (av_tune_options: the grid's top_p, kappa, weighting, normalisation and safety
    candidates, n_folds folds, the one-standard-error rule and the test against the single
    models' hull) with that k alone. The driver keeps the task whose choice has the best
    cross-validated objective among those that did not fall back to the best single model (all
    fell back: the router falls back too, safety +inf). That is the single-process tuner's choice
    except where its one-standard-error rule would move between values of k. grid: "default"
    (the library's, ensemble sizes left out) or a dict as Builder.fit's tune. Ensembles
    (members > 1) are not trained on Dask. Returns the Router, its tuned_* metadata being the
    winning task's plus tuned_tasks (the number of tasks)."""
    grid = _default_grid() if grid == "default" else dict(grid)
    members = grid.pop("members", [1])
    if any(int(m_) != 1 for m_ in members):
        raise ValueError("avengers.dask.tune trains single clusterings: members must be [1]")
    ks = [int(k) for k in grid.pop("n_clusters", [60])]
    if not ks:
        raise ValueError("grid['n_clusters'] is empty")
    for key, val in (("n_folds", n_folds), ("objective", objective), ("n_init", n_init)):
        if val is not None:
            grid[key] = val
    models = [str(m_) for m_ in models]
    E = _dask_array(embeddings, "embeddings")
    S = _dask_array(scores, "scores", models)
    Cst = _dask_array(costs, "costs", models)
    n = E.shape[0]
    fit = {} if seed is None else {"seed": seed}
    tune_seed = kmeans.member_seed(fit.get("seed", _default_fit_options().seed) ^ 0x7475_6E65, 0)
    blocks = [_blocks(client, a, block_rows) for a in (E, S, Cst)]
    Es, Ss, Cs = _gather_rows(client, [b[0] for b in blocks], blocks[0][1], n, tune_seed,
                              tune_rows)
    if progress:
        progress("tune-rows", 0, Es.shape[0], len(ks))
    shared = client.scatter([Es, Ss, Cs], broadcast=True)
    futures = [client.submit(_tune_task, *shared, models, k, grid, fit, pure=False) for k in ks]
    results = []
    for i, meta in enumerate(client.gather(futures)):
        results.append(meta)
        if progress:
            progress("tune-task", i + 1, len(ks), float(meta["tuned_cv_objective"]))
    kept = [m_ for m_ in results if m_.get("tuned_fallback") == "none"] or results
    best = max(kept, key=lambda m_: float(m_["tuned_cv_objective"]))
    router = train(client, E, S, Cst, models, n_clusters=int(best["tuned_n_clusters"]),
                   top_p=int(best["tuned_top_p"]), seed=seed, block_rows=block_rows,
                   progress=progress, **train_options)
    fell_back = best.get("tuned_fallback") != "none"
    router.set_estimator(kappa=float(best["tuned_kappa"]), weighting=best["tuned_weighting"],
                         temperature=float(best["tuned_temperature"]) or None,
                         normalisation=best["tuned_normalisation"],
                         safety=float("inf") if fell_back else float(best["tuned_safety"]))
    for key, v in best.items():
        router.set_meta(key, v)
    router.set_meta("tuned_tasks", str(len(ks)))
    router.set_meta("tuned_rows", str(Es.shape[0]))
    return router


__all__ = ["train", "tune", "from_npy", "BLOCK_ROWS"]
