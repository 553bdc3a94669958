"""Builder: add vs add_many, options, progress callback, errors."""
import numpy as np
import pytest

from conftest import fit_fixture


def test_add_and_add_many_agree(avengers, fx):
    d = fx.emb.shape[1]
    idx = np.nonzero(fx.train)[0][:300]
    b1 = avengers.Builder(d, fx.models)
    for i in idx:
        b1.add(fx.emb[i], fx.scores[i], fx.costs[i])
    b2 = avengers.Builder(d, fx.models)
    b2.add_many(fx.emb[idx], fx.scores[idx].astype(np.float64), fx.costs[idx])
    assert len(b1) == len(b2) == 300
    r1 = b1.fit(n_clusters=6, top_p=2, n_init=1, seed=3)
    r2 = b2.fit(n_clusters=6, top_p=2, n_init=1, seed=3)
    for j in range(6):
        assert np.array_equal(r1.centroid(j), r2.centroid(j))
    assert b1.inertia == pytest.approx(b2.inertia, rel=0, abs=0)
    # every row counted once per model
    for i in range(len(fx.models)):
        assert sum(r1.cluster_stats(j, i)[0] for j in range(6)) == 300
    for x in (r1, r2, b1, b2):
        x.close()


def test_fit_options(avengers, fx):
    seen = []
    r = fit_fixture(avengers, fx, k=12, n_init=2, seed=11, top_p=3, max_iter=50,
                    embedder_id="tfidf-svd-384",
                    progress=lambda *a: seen.append(a))
    assert (r.n_clusters, r.top_p) == (12, 3)
    md = r.metadata
    assert md["seed"] == "11" and md["n_init"] == "2" and md["max_iter"] == "50"
    assert "tfidf-svd-384" in md.values()
    assert seen, "progress callback never called"
    assert {a[1] for a in seen} == {2} and {a[0] for a in seen} <= {0, 1}
    assert all(np.isfinite(a[3]) for a in seen)
    r.close()
    # the same seed gives the same router, another seed another one
    a = fit_fixture(avengers, fx, k=12, n_init=1, seed=5)
    b = fit_fixture(avengers, fx, k=12, n_init=1, seed=5)
    c = fit_fixture(avengers, fx, k=12, n_init=1, seed=6)
    assert np.array_equal(a.centroids(), b.centroids())
    assert not np.array_equal(a.centroids(), c.centroids())


def test_progress_exception_reraised(avengers, fx):
    def boom(*a):
        raise KeyError("stop")
    with pytest.raises(KeyError):
        fit_fixture(avengers, fx, k=5, n_init=1, progress=boom)


def test_builder_errors(avengers, fx):
    with pytest.raises(avengers.LimitError):
        avengers.Builder(0, ["a"])
    with pytest.raises(avengers.InvalidArgument):
        avengers.Builder(4, ["a", "a"])
    b = avengers.Builder(4, ["a", "b"])
    with pytest.raises(avengers.DimensionError):
        b.add([1, 2, 3], [1, 0], [1, 1])
    with pytest.raises(ValueError):
        b.add([1, 2, 3, 4], [1, 0, 1], [1, 1])
    with pytest.raises(avengers.BadValue):
        b.add([1, 2, 3, 4], [1, 0], [-1, 1])
    emb = np.ones((5, 4), np.float32)
    emb[3] = 0
    with pytest.raises(avengers.VectorError) as e:
        b.add_many(emb, np.ones((5, 2)), np.ones((5, 2)))
    assert e.value.row == 3 and "row 3" in str(e.value)
    assert len(b) == 3
    with pytest.raises(ValueError):
        b.add_many(emb, np.ones((4, 2)), np.ones((5, 2)))
    with pytest.raises(avengers.EmptyError):
        b.fit()  # 60 clusters from 3 rows
    with pytest.raises(TypeError):
        b.fit(n_cluster=2)
    b.add([1, 2, 3, 4], [float("nan"), 1], [float("nan"), 1])  # NaN = no outcome for "a"
    r = b.fit(n_clusters=1, top_p=1, centroid_type="f32")
    assert r.route([1, 1, 1, 1], 0.5) in (0, 1)
    assert b.inertia is not None
    r.close()
    b.close()
    with pytest.raises(ValueError):
        b.add([1, 2, 3, 4], [1, 0], [1, 1])


def test_compact_centroid_types(avengers, fx):
    # f16 and int8 centroids route (nearly) as f32 does
    r32 = fit_fixture(avengers, fx, k=10, n_init=1)
    base = r32.route_batch(fx.emb, 0.5)
    for ct in ("f16", "int8"):
        try:
            r = fit_fixture(avengers, fx, k=10, n_init=1, centroid_type=ct)
        except avengers.NotSupported:
            continue
        agree = (r.route_batch(fx.emb, 0.5) == base).mean()
        assert agree > 0.97, (ct, agree)
        r.close()
    r32.close()


def test_add_many_reads_rows_in_place(avengers, fx, monkeypatch):
    calls = []
    real = avengers._native.av_builder_add
    monkeypatch.setattr(avengers._native, "av_builder_add",
                        lambda *a: (calls.append(a[1:5]), real(*a))[1])
    d, m = fx.emb.shape[1], len(fx.models)
    big = np.zeros((10, d + 16), np.float32)
    big[:, :d] = fx.emb[:10]
    emb = big[:, :d]  # strided rows: read in place
    sc = fx.scores[:10]
    co = np.asfortranarray(fx.costs[:10])  # column-major: converted once
    with avengers.Builder(d, fx.models) as b:
        b.add_many(emb, sc, co)
        assert len(b) == 10
    assert [c[0] for c in calls] == [big.ctypes.data + r * big.strides[0] for r in range(10)]
    assert [c[2] for c in calls] == [sc.ctypes.data + r * 4 * m for r in range(10)]
    costs_ptrs = [c[3] for c in calls]
    assert costs_ptrs[0] != co.ctypes.data  # the converted copy...
    assert costs_ptrs == [costs_ptrs[0] + r * 4 * m for r in range(10)]  # ...made once
