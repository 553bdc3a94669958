"""The partial steps of training, for drivers that distribute the rows (docs/SCALING.md).

The library's SAMPLED trainer (``av_fit_options.algorithm``) is a composition of these calls:
a deterministic sample of the rows, full-batch k-means on it, Lloyd passes over every row whose
sums are exact int64 fixed point (units of 2^-32, so partial sums add in any order to the same
totals), and one statistics pass. A driver that runs the map steps on its own workers (Dask in
:mod:`avengers.dask`, Spark, threads) and the reduce steps here gets the trainer's centroids and
statistics bit for bit. Experimental: the C calls are declared under ``AV_STATIC_LINKING_ONLY``.

Rows are raw embeddings (n, dim) that every call normalises as ``Builder.add`` does; centroids are
float32 (k, dim) in the normalised space. Accumulators are numpy int64 arrays (sums (k, dim),
counts (k,)) and Python ints (inertia, cost): add them with ``+``, in any order.
"""
import ctypes

import numpy as np

from . import _args, _native, _structs
from ._arrays import F32

#: av_fit_options.algorithm
ALGORITHMS = {"auto": 0, "full": 1, "sampled": 2}
#: one unit of the fixed-point sums is 1 / FIXED_ONE
FIXED_ONE = 2 ** 32
#: the trainer merges its statistics per chunk of this many rows, the chunks in row order
STATS_CHUNK_ROWS = 32768

_P = ctypes.c_void_p


def _rows(x, name="rows", dim=None):
    a = np.asarray(x)
    if a.ndim != 2:
        raise ValueError("%s must be 2-D (n, dim), got shape %s" % (name, a.shape))
    if dim is not None and a.shape[1] != dim:
        raise ValueError("%s must have %d columns, got %d" % (name, dim, a.shape[1]))
    if a.dtype != F32 or not a.flags.c_contiguous or not a.flags.aligned:
        a = np.ascontiguousarray(a, dtype=F32)
    return a


def _ptr(a):
    return a.ctypes.data if a.size else None


def fit_options(n_clusters=None, top_p=None, n_init=None, max_iter=None, tol=None, seed=None,
                members=None, algorithm=None, sample_size=None, max_passes=None):
    """av_fit_options with the library's defaults and the given values (None keeps a default).
    algorithm: "auto", "full", "sampled" or the AV_KMEANS_* number."""
    o = _structs.init(_structs.FitOptions)
    for name, val, ctype in (("n_clusters", n_clusters, "uint32_t"), ("top_p", top_p, "uint32_t"),
                             ("n_init", n_init, "uint32_t"), ("max_iter", max_iter, "uint32_t"),
                             ("seed", seed, "uint64_t"), ("members", members, "uint32_t"),
                             ("sample_size", sample_size, "uint32_t"),
                             ("max_passes", max_passes, "uint32_t")):
        if val is not None:
            setattr(o, name, _args.integer(val, name, ctype))
    if tol is not None:
        o.tol = float(tol)
    if algorithm is not None:
        if isinstance(algorithm, str):
            if algorithm not in ALGORITHMS:
                raise ValueError("algorithm must be one of %s" % ", ".join(ALGORITHMS))
            algorithm = ALGORITHMS[algorithm]
        o.algorithm = _args.integer(algorithm, "algorithm", "uint32_t")
    return o


def plan(n_total, options=None):
    """(algorithm, sample_size, max_passes) that a fit of n_total rows with these options
    follows: algorithm "full" or "sampled" (auto resolved)."""
    o = options if options is not None else fit_options()
    alg, s, p = ctypes.c_uint32(), ctypes.c_size_t(), ctypes.c_uint32()
    _native.check(_native.av_kmeans_plan(ctypes.byref(o), _args.integer(n_total, "n_total", "size_t"),
                                         ctypes.byref(alg), ctypes.byref(s), ctypes.byref(p)))
    name = {v: k for k, v in ALGORITHMS.items()}[alg.value]
    return name, s.value, p.value


def member_seed(seed, member=0):
    """The seed of an ensemble member's sample and k-means."""
    return int(_native.av_kmeans_member_seed(_args.integer(seed, "seed", "uint64_t"),
                                             _args.integer(member, "member", "uint32_t")))


def sample_mask(seed, n_total, sample_size, row0, n):
    """Boolean mask of the rows [row0, row0 + n) that are in the sample of a log of n_total
    rows."""
    n = _args.integer(n, "n", "size_t")
    mask = np.zeros(n, dtype=np.uint8)
    _native.check(_native.av_kmeans_sample_mask(
        _args.integer(seed, "seed", "uint64_t"), _args.integer(n_total, "n_total", "size_t"),
        _args.integer(sample_size, "sample_size", "size_t"), _args.integer(row0, "row0", "size_t"),
        n, _ptr(mask), None))
    return mask.astype(bool)


def normalize(rows):
    """The rows normalised as the builder normalises them."""
    a = _rows(rows)
    out = np.empty_like(a)
    _native.check(_native.av_kmeans_normalize(_ptr(a), a.shape[0], a.shape[1], _ptr(out)))
    return out


def fit_sample(rows, options):
    """Full-batch k-means of rows (the sample) with the options' n_clusters, n_init, max_iter,
    tol and seed (as given: pass member_seed(seed, b) for member b). Returns (centroids,
    inertia, shift_tol), shift_tol being the passes' stopping threshold."""
    a = _rows(rows)
    C = np.empty((options.n_clusters, a.shape[1]), dtype=F32)
    inertia, shift_tol = ctypes.c_double(), ctypes.c_double()
    _native.check(_native.av_kmeans_fit_sample(_ptr(a), a.shape[0], a.shape[1], ctypes.byref(options),
                                               _ptr(C), ctypes.byref(inertia),
                                               ctypes.byref(shift_tol)))
    return C, inertia.value, shift_tol.value


def _centroids(C, name="centroids"):
    return _rows(C, name)


def block_step(centroids, rows, labels=False):
    """Lloyd's map over one block: (sums int64 (k, dim), counts int64 (k,), inertia int), plus the
    rows' clusters (int32) when labels is true. Sums and inertia are in units of 1 / FIXED_ONE."""
    C = _centroids(centroids)
    k, d = C.shape
    a = _rows(rows, dim=d)
    sums = np.zeros((k, d), dtype=np.int64)
    counts = np.zeros(k, dtype=np.int64)
    inertia = ctypes.c_int64(0)
    lab = np.empty(a.shape[0], dtype=np.int32) if labels else None
    _native.check(_native.av_kmeans_block_step(_ptr(C), k, d, _ptr(a), a.shape[0], _ptr(sums),
                                               _ptr(counts), ctypes.byref(inertia),
                                               _ptr(lab) if labels else None))
    out = (sums, counts, int(inertia.value))
    return out + (lab,) if labels else out


def finish_step(centroids, sums, counts):
    """Lloyd's reduce: (new centroids, shift). A cluster without rows keeps its centroid."""
    C = np.array(_centroids(centroids), dtype=F32, order="C", copy=True)
    k, d = C.shape
    s = np.ascontiguousarray(sums, dtype=np.int64)
    c = np.ascontiguousarray(counts, dtype=np.int64)
    if s.shape != (k, d) or c.shape != (k,):
        raise ValueError("sums must be (%d, %d) and counts (%d,)" % (k, d, k))
    shift = ctypes.c_double()
    _native.check(_native.av_kmeans_finish_step(_ptr(C), k, d, _ptr(s), _ptr(c),
                                                ctypes.byref(shift)))
    return C, shift.value


def stats_block(centroids, rows, scores, costs):
    """The statistics' map over one block: (counts, sum_scores, sum_costs) float64 arrays
    (k, n_models) and the rows' inertia (fixed point). NaN score or cost = no outcome."""
    C = _centroids(centroids)
    k, d = C.shape
    a = _rows(rows, dim=d)
    s = _rows(scores, "scores")
    c = _rows(costs, "costs")
    n, m = a.shape[0], s.shape[1]
    if s.shape != (n, m) or c.shape != (n, m):
        raise ValueError("scores and costs must be (%d, %d), got %s and %s" % (n, m, s.shape, c.shape))
    cnt, ss, sc = (np.zeros((k, m)) for _ in range(3))
    inertia = ctypes.c_int64(0)
    _native.check(_native.av_kmeans_stats_block(_ptr(C), k, d, _ptr(a), n, _ptr(s), _ptr(c), m,
                                                _ptr(cnt), _ptr(ss), _ptr(sc),
                                                ctypes.byref(inertia)))
    return cnt, ss, sc, int(inertia.value)


def parallel_cost(centres, rows):
    """k-means||: the rows' summed squared distance to their nearest centre (fixed point)."""
    C = _centroids(centres, "centres")
    a = _rows(rows, dim=C.shape[1])
    cost = ctypes.c_int64(0)
    _native.check(_native.av_kmeans_parallel_cost(_ptr(C), C.shape[0], C.shape[1], _ptr(a),
                                                  a.shape[0], ctypes.byref(cost)))
    return int(cost.value)


def parallel_pick(centres, rows, row0, seed, round, l, phi):
    """k-means||: boolean mask of the rows [row0, row0 + n) picked in this round."""
    C = _centroids(centres, "centres")
    a = _rows(rows, dim=C.shape[1])
    picked = np.zeros(a.shape[0], dtype=np.uint8)
    _native.check(_native.av_kmeans_parallel_pick(
        _ptr(C), C.shape[0], C.shape[1], _ptr(a), a.shape[0], _args.integer(row0, "row0", "size_t"),
        _args.integer(seed, "seed", "uint64_t"), _args.integer(round, "round", "uint32_t"),
        float(l), _args.integer(phi, "phi", "uint64_t"), _ptr(picked), None))
    return picked.astype(bool)


def parallel_reduce(centres, weights, options):
    """k-means||'s reduce: weighted centres to options.n_clusters centroids."""
    C = _centroids(centres, "centres")
    w = np.ascontiguousarray(weights, dtype=np.float64)
    if w.shape != (C.shape[0],):
        raise ValueError("weights must be (%d,), got %s" % (C.shape[0], w.shape))
    out = np.empty((options.n_clusters, C.shape[1]), dtype=F32)
    _native.check(_native.av_kmeans_parallel_reduce(_ptr(C), C.shape[0], C.shape[1], _ptr(w),
                                                    ctypes.byref(options), _ptr(out)))
    return out


__all__ = ["ALGORITHMS", "FIXED_ONE", "STATS_CHUNK_ROWS", "fit_options", "plan", "member_seed",
           "sample_mask", "normalize", "fit_sample", "block_step", "finish_step", "stats_block",
           "parallel_cost", "parallel_pick", "parallel_reduce"]
