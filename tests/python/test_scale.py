"""Training on large logs from Python: borrowed rows (np.load mmap arrays, zero-copy) give the
copied builder's router; the partial steps of avengers.kmeans composed as a driver would compose
them give Builder.fit(algorithm="sampled")'s centroids and statistics bit for bit; progress with
the time left; argument errors."""
import os

import numpy as np
import pytest

from conftest import DATA


def _centroids_and_stats(r):
    k, m = r.n_clusters, r.n_models
    stats = np.array([[r.cluster_stats(j, i) for i in range(m)] for j in range(k)])
    return r.centroids(), stats


def test_borrowed_mmap_equals_copied(avengers, fx):
    emb = np.load(os.path.join(DATA, "emb.npy"), mmap_mode="r")
    assert isinstance(emb, np.memmap)
    for alg in ("sampled", "full"):
        opts = dict(n_clusters=8, n_init=2, algorithm=alg, sample_size=500)
        with avengers.Builder(emb.shape[1], fx.models) as a, \
                avengers.Builder(emb.shape[1], fx.models) as b:
            a.add_many(fx.emb, fx.scores, fx.costs)
            b.add_borrowed(emb, fx.scores, fx.costs)
            assert b.n_rows == a.n_rows == len(fx.emb)
            ra, rb = a.fit(**opts), b.fit(**opts)
            ca, sa = _centroids_and_stats(ra)
            cb, sb = _centroids_and_stats(rb)
            assert np.array_equal(ca, cb) and np.array_equal(sa, sb)
            assert a.inertia == b.inertia


def test_composition_equals_fit(avengers, fx):
    import avengers.kmeans as km

    opts = dict(n_clusters=10, n_init=2, seed=5, algorithm="sampled", sample_size=600)
    with avengers.Builder(fx.emb.shape[1], fx.models) as b:
        b.add_many(fx.emb, fx.scores, fx.costs)
        events = []
        r = b.fit(pass_progress=events.append, **opts)
    n = len(fx.emb)
    alg, ss, max_passes = km.plan(n, **{k: v for k, v in opts.items() if k != "algorithm"},
                                  algorithm=km.SAMPLED)
    assert (alg, ss) == (km.SAMPLED, 600)
    seed = km.member_seed(5, 0)
    mask = np.concatenate([km.sample_mask(seed, n, ss, r0, min(250, n - r0))[0]
                           for r0 in range(0, n, 250)])
    C, _, shift_tol = km.fit_sample(fx.emb[mask], n_clusters=10, n_init=2, seed=seed)
    prev, passes = None, 0
    for passes in range(1, max_passes + 1):
        parts = [km.block_step(C, fx.emb[r0:r0 + 97]) for r0 in range(0, n, 97)]
        sums = sum(p[0] for p in reversed(parts))       # any order: exact integers
        counts = sum(p[1] for p in reversed(parts))
        inertia = sum(p[2] for p in parts)
        C, shift = km.finish_step(C, sums, counts)
        if km.converged(shift, shift_tol, prev, inertia, np.float32(1e-4)):
            break
        prev = inertia
    acc = None
    for r0 in range(0, n, 300):
        acc, _ = km.stats_block(C, fx.emb[r0:r0 + 300], fx.scores[r0:r0 + 300],
                                fx.costs[r0:r0 + 300], acc)
    built = avengers.Router.from_parts(C, acc[0], acc[1], acc[2], fx.models, top_p=4)
    ca, sa = _centroids_and_stats(r)
    cb, sb = _centroids_and_stats(built)
    assert np.array_equal(ca, cb) and np.array_equal(sa, sb)
    # progress: the sample, every pass (with the time left), the statistics
    stages = [e["stage"] for e in events]
    assert stages == ["sample"] + ["pass"] * passes + ["stats"]
    assert all(e["eta"] >= 0 for e in events[1:]) and events[-1]["eta"] == 0
    assert events[0]["sample_rows"] == int(mask.sum())
    # bounded passes (the same router as the composition above, which searches every row): the
    # first pass searches every row, the later ones and the statistics pass at most every row
    assert events[0]["rows_searched"] == 0 and events[1]["rows_searched"] == n
    assert all(0 <= e["rows_searched"] <= n for e in events[2:])


def test_fixed_point_sums_within_bound(avengers, fx):
    import avengers.kmeans as km

    C = km.normalize(fx.emb[:6])
    sums, counts, inertia, labels = km.block_step(C, fx.emb, labels=True)
    X = km.normalize(fx.emb).astype(np.float64)
    for j in range(6):
        exact = X[labels == j].sum(0)
        assert np.all(np.abs(sums[j] / km.FIXED_ONE - exact) <= counts[j] * 2.0 ** -32 + 1e-12)
    d2 = ((X - C[labels].astype(np.float64)) ** 2).sum(1)
    assert abs(inertia / km.FIXED_ONE - d2.sum()) <= len(X) * (2.0 ** -32 + 4e-6)


def test_errors(avengers, fx):
    import avengers.kmeans as km

    C = km.normalize(fx.emb[:4])
    with pytest.raises(avengers.Error):
        km.block_step(C * 3, fx.emb[:10])              # outside the unit ball
    bad = fx.emb[:10].copy()
    bad[3] = 0
    with pytest.raises(avengers.Error) as e:
        km.block_step(C, bad)
    assert "row 3" in str(e.value)
    with pytest.raises(ValueError):
        km.block_step(C, fx.emb[:10], sums=np.zeros((4, 3), np.int64))
    with avengers.Builder(fx.emb.shape[1], fx.models) as b:
        with pytest.raises(avengers.Error):
            b.add_borrowed(bad, fx.scores[:10], fx.costs[:10])
        assert b.n_rows == 0
        with pytest.raises(ValueError):
            b.add_borrowed(fx.emb[:10], fx.scores[:9], fx.costs[:10])
        with pytest.raises(ValueError):
            b.fit(algorithm="minibatch")


_THREADS_SCRIPT = r"""
import hashlib, sys
import numpy as np
import avengers
rng = np.random.default_rng(3)
M = rng.standard_normal((8, 32)).astype(np.float32)
X = (M[rng.integers(0, 8, 70000)] + 0.3 * rng.standard_normal((70000, 32))).astype(np.float32)
S = rng.random((70000, 2), dtype=np.float32)
with avengers.Builder(32, ["a", "b"]) as b:
    b.add_borrowed(X, S, S * np.float32(0.01))
    r = b.fit(n_clusters=8, n_init=2, algorithm="sampled", sample_size=5000)
    st = np.array([[r.cluster_stats(j, i) for i in range(2)] for j in range(8)])
    print(hashlib.sha256(r.centroids().tobytes() + st.tobytes()).hexdigest(), b.inertia)
"""


def test_threads_do_not_change_the_router(avengers):
    """Three chunks of rows over 1, 2 and 3 threads (AV_NUM_THREADS): the same router."""
    import subprocess
    import sys

    from conftest import ROOT
    out = set()
    for t in ("1", "2", "3"):
        env = dict(os.environ, AV_NUM_THREADS=t,
                   PYTHONPATH=os.path.join(ROOT, "bindings", "python"))
        p = subprocess.run([sys.executable, "-c", _THREADS_SCRIPT], env=env, capture_output=True,
                           text=True, check=True)
        out.add(p.stdout.strip())
    assert len(out) == 1, out
