"""Independent checks of the core against the paper's rule and scikit-learn.

The routing rule is re-implemented here in numpy from the paper's description (Zhang et al.,
arXiv 2508.12631, Sec. 3) and the authors' convention of ranking clusters by 1 - q.c, and compared
with the library's decisions on the bundled llmrouter9 data (TF-IDF embeddings). The library is
driven through raw ctypes, not the project's Python binding, so that this test is independent of it.
"""
import ctypes as C
import gzip
import json
import os
import time

import numpy as np
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(ROOT, "examples", "data", "llmrouter9")
LIB = os.environ.get("AVENGERS_LIB", os.path.join(ROOT, "lib", "libavengers.so"))

K, TOP_P, N_INIT = 60, 4, 10
ALPHAS = [0.0, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 1.0]


class FitOptions(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("n_clusters", C.c_uint32), ("top_p", C.c_uint32),
                ("n_init", C.c_uint32), ("max_iter", C.c_uint32), ("tol", C.c_float),
                ("seed", C.c_uint64)]


def lib():
    L = C.CDLL(LIB)
    fp = C.POINTER(C.c_float)
    dp = C.POINTER(C.c_double)
    L.av_builder_new.argtypes = [C.POINTER(C.c_void_p), C.c_size_t, C.c_size_t, C.POINTER(C.c_char_p)]
    L.av_builder_add.argtypes = [C.c_void_p, fp, C.c_size_t, fp, fp]
    L.av_builder_fit.argtypes = [C.c_void_p, C.POINTER(FitOptions), C.POINTER(C.c_void_p)]
    L.av_builder_inertia.argtypes = [C.c_void_p]
    L.av_builder_inertia.restype = C.c_double
    L.av_builder_free.argtypes = [C.c_void_p]
    L.av_router_free.argtypes = [C.c_void_p]
    L.av_route.argtypes = [C.c_void_p, fp, C.c_size_t, C.c_float]
    L.av_route.restype = C.c_int32
    L.av_router_get_centroid.argtypes = [C.c_void_p, C.c_size_t, fp, C.c_size_t]
    L.av_router_cluster_stats.argtypes = [C.c_void_p, C.c_size_t, C.c_size_t, dp, dp, dp]
    L.av_router_from_parts.argtypes = [C.POINTER(C.c_void_p), C.c_size_t, C.c_size_t, C.c_size_t,
                                       C.POINTER(C.c_char_p), fp, dp, dp, dp, C.c_uint32]
    L.av_router_save.argtypes = [C.c_void_p, C.c_char_p]
    L.av_router_load.argtypes = [C.POINTER(C.c_void_p), C.c_char_p]
    L.av_last_error.restype = C.c_char_p
    return L


def f32p(a):
    return a.ctypes.data_as(C.POINTER(C.c_float))


def f64p(a):
    return a.ctypes.data_as(C.POINTER(C.c_double))


@pytest.fixture(scope="module")
def data():
    with gzip.open(os.path.join(DATA, "data.jsonl.gz"), "rt", encoding="utf-8") as f:
        rows = [json.loads(l) for l in f.read().split("\n") if l]
    models = sorted(rows[0]["scores"])
    X = np.load(os.path.join(DATA, "emb_tfidf_svd384.npy")).astype(np.float32)
    S = np.array([[r["scores"][m] for m in models] for r in rows], dtype=np.float32)
    Q = np.array([[r["costs"][m] for m in models] for r in rows], dtype=np.float32)
    train = np.array([r["split"] == "train" for r in rows])
    return models, X, S, Q, train


def normalise(X):
    X = X.astype(np.float64)
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)


def reference_route(Cent, counts, ssum, csum, E, alpha, top_p):
    """The paper's rule, written from its description, in float64."""
    n_models = counts.shape[1]
    g_p = ssum.sum(0) / counts.sum(0)
    g_q = csum.sum(0) / counts.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(counts > 0, ssum / counts, g_p)
        q = np.where(counts > 0, csum / counts, g_q)
    def mm(v):
        lo, hi = v.min(1, keepdims=True), v.max(1, keepdims=True)
        rng = hi - lo
        return np.where(rng > 0, (v - lo) / np.where(rng > 0, rng, 1), 0.0)
    pn, qn = mm(p), mm(q)
    x = alpha * pn + (1 - alpha) * (1 - qn)  # clusters x models
    sims = normalise(E).astype(np.float64) @ Cent.astype(np.float64).T
    top = np.argsort(-sims, axis=1, kind="stable")[:, :top_p]
    tot = x[top].sum(1)  # queries x models
    best = tot.max(1, keepdims=True)
    # ties: lower global mean cost, then lower index
    order = np.lexsort((np.arange(n_models), g_q))
    dec = np.empty(len(E), dtype=np.int64)
    for i in range(len(E)):
        cands = set(np.flatnonzero(tot[i] == best[i]))
        dec[i] = next(m for m in order if m in cands)
    # margins, to set near-ties aside: the top-p boundary and the winner's lead
    srt = np.sort(sims, axis=1)[:, ::-1]
    bmargin = srt[:, top_p - 1] - srt[:, top_p]
    s2 = np.sort(tot, axis=1)[:, ::-1]
    smargin = s2[:, 0] - s2[:, 1]
    return dec, np.minimum(bmargin, np.where(smargin > 0, smargin, np.inf))


def router_parts(L, r, k, d, m):
    Cent = np.zeros((k, d), dtype=np.float32)
    counts, ssum, csum = (np.zeros((k, m)) for _ in range(3))
    row = np.zeros(d, dtype=np.float32)
    for j in range(k):
        assert L.av_router_get_centroid(r, j, f32p(row), d) == 0
        Cent[j] = row
        for i in range(m):
            a, b, c = C.c_double(), C.c_double(), C.c_double()
            assert L.av_router_cluster_stats(r, j, i, C.byref(a), C.byref(b), C.byref(c)) == 0
            counts[j, i], ssum[j, i], csum[j, i] = a.value, b.value, c.value
    return Cent, counts, ssum, csum


def fit(L, models, X, S, Q, seed=42):
    names = (C.c_char_p * len(models))(*[m.encode() for m in models])
    b = C.c_void_p()
    assert L.av_builder_new(C.byref(b), X.shape[1], len(models), names) == 0
    for i in range(len(X)):
        e, s, q = (np.ascontiguousarray(v, dtype=np.float32) for v in (X[i], S[i], Q[i]))
        assert L.av_builder_add(b, f32p(e), X.shape[1], f32p(s), f32p(q)) == 0
    o = FitOptions(C.sizeof(FitOptions), K, TOP_P, N_INIT, 300, 1e-4, seed)
    r = C.c_void_p()
    t = time.perf_counter()
    rc = L.av_builder_fit(b, C.byref(o), C.byref(r))
    secs = time.perf_counter() - t
    assert rc == 0, L.av_last_error()
    inertia = L.av_builder_inertia(b)
    L.av_builder_free(b)
    return r, inertia, secs


def lib_decisions(L, r, E, alpha):
    E = np.ascontiguousarray(E, dtype=np.float32)
    return np.array([L.av_route(r, f32p(E[i]), E.shape[1], alpha) for i in range(len(E))])


def agreement(L, r, Cent, counts, ssum, csum, E):
    worst = 1.0
    for a in ALPHAS:
        ref, margin = reference_route(Cent, counts, ssum, csum, E, a, TOP_P)
        got = lib_decisions(L, r, E, a)
        assert (got >= 0).all()
        clear = margin > 1e-5  # near-ties aside: float32 similarities vs float64 reference
        agree = (got[clear] == ref[clear]).mean()
        worst = min(worst, agree)
        assert clear.mean() > 0.98, f"too many near-ties at alpha={a}"
    return worst


def test_decisions_match_reference(data):
    models, X, S, Q, train = data
    L = lib()
    r, inertia, _ = fit(L, models, X[train], S[train], Q[train])
    Cent, counts, ssum, csum = router_parts(L, r, K, X.shape[1], len(models))
    # statistics are exactly the per-cluster sums over the training rows of each label
    assert counts.sum() == train.sum() * len(models)
    assert abs(ssum.sum() - S[train].astype(np.float64).sum()) < 1e-6
    worst = agreement(L, r, Cent, counts, ssum, csum, X[~train])
    print(f"worst agreement over alphas: {worst:.5f}")
    assert worst >= 0.999
    # save/load keeps every decision
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"av_ref_{os.getpid()}.avr")
    assert L.av_router_save(r, path.encode()) == 0
    r2 = C.c_void_p()
    assert L.av_router_load(C.byref(r2), path.encode()) == 0
    os.unlink(path)
    for a in (0.0, 0.5, 1.0):
        assert (lib_decisions(L, r, X[~train], a) == lib_decisions(L, r2, X[~train], a)).all()
    L.av_router_free(r)
    L.av_router_free(r2)


def test_from_parts_with_sklearn_centroids_and_inertia(data):
    sklearn = pytest.importorskip("sklearn.cluster")
    models, X, S, Q, train = data
    L = lib()
    Xt = normalise(X[train])
    t = time.perf_counter()
    km = sklearn.KMeans(n_clusters=K, n_init=N_INIT, random_state=0, init="k-means++").fit(Xt)
    sk_secs = time.perf_counter() - t
    # statistics from sklearn's labels, then a router from parts
    m = len(models)
    counts = np.zeros((K, m)); ssum = np.zeros((K, m)); csum = np.zeros((K, m))
    for j, s, q in zip(km.labels_, S[train].astype(np.float64), Q[train].astype(np.float64)):
        counts[j] += 1; ssum[j] += s; csum[j] += q
    Cent = np.ascontiguousarray(km.cluster_centers_, dtype=np.float32)
    names = (C.c_char_p * m)(*[x.encode() for x in models])
    r = C.c_void_p()
    assert L.av_router_from_parts(C.byref(r), X.shape[1], K, m, names, f32p(Cent), f64p(counts),
                                  f64p(ssum), f64p(csum), TOP_P) == 0, L.av_last_error()
    worst = agreement(L, r, Cent, counts, ssum, csum, X[~train])
    assert worst >= 0.999
    L.av_router_free(r)
    # our k-means reaches scikit-learn's inertia within 1% with the same k and n_init
    r, ours, secs = fit(L, models, X[train], S[train], Q[train])
    L.av_router_free(r)
    print(f"inertia: libavengers {ours:.4f} ({secs:.2f} s), scikit-learn {km.inertia_:.4f} ({sk_secs:.2f} s)")
    assert ours <= km.inertia_ * 1.01
