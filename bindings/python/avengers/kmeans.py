"""The partial steps of k-means and statistics (experimental; docs/SCALING.md, "Training on large
logs"): thin NumPy wrappers of the av_kmeans_* calls, for drivers that distribute the rows (Dask,
Spark) and compose the steps as Builder.fit(algorithm="sampled") does, to get the same router.

Rows are raw float32 embeddings (n, dim) normalised by each call as Builder.add normalises them;
centroids are float32 (k, dim) in the normalised space. Accumulators are int64 fixed point (one
unit = 2**-32, FIXED_ONE) and add exactly in any order: sums (k, dim), counts (k,), inertia a
Python int. Every function checks its arguments in the library (errors raise avengers.Error).
"""
import ctypes

import numpy as np

from . import _native
from ._router import _default_fit_options, _fit_option_values

FIXED_ONE = 4294967296.0
MAX_ROWS = 1 << 28
AUTO, FULL, SAMPLED = 0, 1, 2

_F32, _I64, _F64, _U8 = (np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.float64),
                         np.dtype(np.uint8))


def _c(a, dtype, ndim, name, shape=None):
    """C-contiguous array of dtype (converted once if needed)."""
    a = np.asarray(a)
    if a.ndim == 1 and ndim == 2:
        a = a.reshape(1, -1)
    if a.ndim != ndim:
        raise ValueError("%s must be %d-D, got shape %s" % (name, ndim, a.shape))
    if shape is not None and a.shape != tuple(shape):
        raise ValueError("%s must have shape %s, got %s" % (name, tuple(shape), a.shape))
    if a.dtype != dtype or not a.flags.c_contiguous or not a.flags.aligned:
        a = np.ascontiguousarray(a, dtype=dtype)
    return a


def _acc(a, dtype, shape, name):
    """An accumulator the library adds into: exactly dtype, C-contiguous and writable."""
    if not isinstance(a, np.ndarray) or a.dtype != dtype or not a.flags.c_contiguous or \
            not a.flags.writeable or a.shape != tuple(shape):
        raise ValueError("%s must be a writable C-contiguous %s array of shape %s"
                         % (name, dtype, tuple(shape)))
    return a


def _ptr(a):
    return a.ctypes.data if a is not None and a.size else None


def _opts(options):
    o = _default_fit_options()
    for name, val in _fit_option_values(options or {}):
        setattr(o, name, val)
    return o


def plan(n_total, **options):
    """(algorithm, sample_size, max_passes) that Builder.fit follows for n_total rows with these
    fit options (the keyword arguments of Builder.fit that are numbers)."""
    o = _opts(options)
    a, s, p = ctypes.c_uint32(), ctypes.c_size_t(), ctypes.c_uint32()
    _native.check(_native.av_kmeans_plan(ctypes.byref(o), n_total, ctypes.byref(a),
                                         ctypes.byref(s), ctypes.byref(p)))
    return a.value, s.value, p.value


def member_seed(seed, member=0):
    return int(_native.av_kmeans_member_seed(seed, member))


def sample_mask(seed, n_total, sample_size, row0, n):
    """(bool array of rows [row0, row0 + n) in the sample, count)."""
    mask = np.zeros(n, dtype=np.uint8)
    c = ctypes.c_size_t()
    _native.check(_native.av_kmeans_sample_mask(seed, n_total, sample_size, row0, n, _ptr(mask),
                                                ctypes.byref(c)))
    return mask.view(bool), c.value


def fit_sample(rows, **options):
    """(centroids (k, dim), inertia, shift_tol): full-batch k-means of the rows with these fit
    options (seed as given: pass member_seed(seed, member))."""
    x = _c(rows, _F32, 2, "rows")
    o = _opts(options)
    C = np.empty((o.n_clusters, x.shape[1]), dtype=np.float32)
    inertia, tol = ctypes.c_double(), ctypes.c_double()
    _native.check(_native.av_kmeans_fit_sample(_ptr(x), x.shape[0], x.shape[1], ctypes.byref(o),
                                               _ptr(C), ctypes.byref(inertia), ctypes.byref(tol)))
    return C, inertia.value, tol.value


def block_step(centroids, rows, sums=None, counts=None, inertia=0, labels=False):
    """Lloyd's map: adds the rows into sums (k, dim) and counts (k,) (int64, created zeroed when
    None) and returns (sums, counts, inertia + the rows' inertia[, labels])."""
    C = _c(centroids, _F32, 2, "centroids")
    x = _c(rows, _F32, 2, "rows", None)
    k, d = C.shape
    sums = np.zeros((k, d), np.int64) if sums is None else _acc(sums, _I64, (k, d), "sums")
    counts = np.zeros(k, np.int64) if counts is None else _acc(counts, _I64, (k,), "counts")
    acc = ctypes.c_int64(int(inertia))
    lab = np.empty(x.shape[0], np.int32) if labels else None
    _native.check(_native.av_kmeans_block_step(_ptr(C), k, d, _ptr(x), x.shape[0], _ptr(sums),
                                               _ptr(counts), ctypes.byref(acc), _ptr(lab)))
    return (sums, counts, acc.value, lab) if labels else (sums, counts, acc.value)


def finish_step(centroids, sums, counts):
    """Lloyd's reduce: (new centroids, shift); empty clusters keep their centroid."""
    C = np.array(centroids, dtype=np.float32, order="C", copy=True)
    k, d = C.shape
    s = _c(sums, _I64, 2, "sums", (k, d))
    c = _c(counts, _I64, 1, "counts", (k,))
    shift = ctypes.c_double()
    _native.check(_native.av_kmeans_finish_step(_ptr(C), k, d, _ptr(s), _ptr(c),
                                                ctypes.byref(shift)))
    return C, shift.value


def converged(shift, shift_tol, prev_inertia, inertia, tol=1e-4):
    """The passes' stopping rule (prev_inertia -1 or None on the first pass)."""
    prev = -1 if prev_inertia is None else int(prev_inertia)
    return bool(_native.av_kmeans_converged(shift, shift_tol, prev, int(inertia), tol))


def stats_block(centroids, rows, scores, costs, acc=None, inertia=0):
    """The statistics' map: adds into acc = (counts, sum_scores, sum_costs), float64 (k, m)
    arrays (created zeroed when None); returns (acc, inertia + the rows' inertia)."""
    C = _c(centroids, _F32, 2, "centroids")
    x = _c(rows, _F32, 2, "rows")
    s = _c(scores, _F32, 2, "scores")
    c = _c(costs, _F32, 2, "costs", s.shape)
    k, d = C.shape
    m = s.shape[1]
    if s.shape[0] != x.shape[0]:
        raise ValueError("scores has %d rows, rows has %d" % (s.shape[0], x.shape[0]))
    if acc is None:
        acc = tuple(np.zeros((k, m)) for _ in range(3))
    acc = tuple(_acc(a, _F64, (k, m), n) for a, n in zip(acc, ("counts", "sum_scores",
                                                                "sum_costs")))
    i = ctypes.c_int64(int(inertia))
    _native.check(_native.av_kmeans_stats_block(_ptr(C), k, d, _ptr(x), x.shape[0], _ptr(s),
                                                _ptr(c), m, _ptr(acc[0]), _ptr(acc[1]),
                                                _ptr(acc[2]), ctypes.byref(i)))
    return acc, i.value


def normalize(rows):
    x = _c(rows, _F32, 2, "rows")
    out = np.empty_like(x)
    _native.check(_native.av_kmeans_normalize(_ptr(x), x.shape[0], x.shape[1], _ptr(out)))
    return out


def parallel_cost(centres, rows, cost=0):
    """k-means|| map: cost + the rows' squared distances to their nearest centre (fixed point)."""
    C = _c(centres, _F32, 2, "centres")
    x = _c(rows, _F32, 2, "rows")
    acc = ctypes.c_int64(int(cost))
    _native.check(_native.av_kmeans_parallel_cost(_ptr(C), C.shape[0], C.shape[1], _ptr(x),
                                                  x.shape[0], ctypes.byref(acc)))
    return acc.value


def parallel_pick(centres, rows, row0, seed, round, l, phi):
    """k-means|| map: bool array of the rows picked in this round."""
    C = _c(centres, _F32, 2, "centres")
    x = _c(rows, _F32, 2, "rows")
    picked = np.zeros(x.shape[0], np.uint8)
    _native.check(_native.av_kmeans_parallel_pick(_ptr(C), C.shape[0], C.shape[1], _ptr(x),
                                                  x.shape[0], row0, seed, round, float(l),
                                                  int(phi), _ptr(picked), None))
    return picked.view(bool)


def parallel_reduce(centres, weights, **options):
    """k-means||'s reduce: n_clusters centroids from the weighted centres."""
    C = _c(centres, _F32, 2, "centres")
    w = _c(weights, _F64, 1, "weights", (C.shape[0],))
    o = _opts(options)
    out = np.empty((o.n_clusters, C.shape[1]), np.float32)
    _native.check(_native.av_kmeans_parallel_reduce(_ptr(C), C.shape[0], C.shape[1], _ptr(w),
                                                    ctypes.byref(o), _ptr(out)))
    return out
