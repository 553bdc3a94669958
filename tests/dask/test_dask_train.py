"""Training on a Dask LocalCluster of worker processes (avengers.dask.train) returns the router the
single-process SAMPLED trainer (av_builder_fit) returns for the same seed and rows: centroids bit
for bit, statistics equal, decisions identical. Also: the partial steps add exactly in any order,
dataframe inputs, k-means|| seeding, argument errors. Skips, saying why, when dask.distributed is
not importable."""
import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
os.environ.setdefault("AVENGERS_LIB", os.path.join(ROOT, "lib", "libavengers.so"))
os.environ["PYTHONPATH"] = os.pathsep.join(
    [os.path.join(ROOT, "bindings", "python"), os.environ.get("PYTHONPATH", "")])

distributed = pytest.importorskip("dask.distributed",
                                  reason="dask.distributed is not installed "
                                         "(Debian: python3-dask python3-distributed)")
import dask.array as da  # noqa: E402

import avengers  # noqa: E402
import avengers.dask  # noqa: E402
from avengers import _native, kmeans  # noqa: E402

FIX = os.path.join(ROOT, "tests", "data", "llm9")
N = 45000          # two chunks of 32,768 rows, the second one partial
K = 16
OPTS = dict(n_clusters=K, top_p=4, n_init=5, seed=11, sample_size=5000, max_passes=6)


@pytest.fixture(scope="module")
def rows():
    """N rows drawn from the bundled embeddings with Gaussian noise; each keeps its source row's
    scores and costs, with some outcomes missing (NaN)."""
    emb = np.load(os.path.join(FIX, "emb.npy"))
    scores = np.load(os.path.join(FIX, "scores.npy")).astype(np.float32)
    costs = np.load(os.path.join(FIX, "costs.npy")).astype(np.float32)
    models = [l.strip() for l in open(os.path.join(FIX, "models.txt")) if l.strip()]
    g = np.random.default_rng(5)
    src = g.integers(0, emb.shape[0], N)
    X = (emb[src] + g.normal(0, 0.01, (N, emb.shape[1]))).astype(np.float32)
    S, C = scores[src].copy(), costs[src].copy()
    S[g.random(S.shape) < 0.02] = np.nan
    return X, S, C, models


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def single_process(X, S, C, models):
    """av_builder_fit with AV_KMEANS_SAMPLED on the same rows, read in place (one segment)."""
    b = avengers.Builder(X.shape[1], models)
    _native.check(_native.av_builder_add_borrowed(b._handle, X.ctypes.data, X.shape[0], X.shape[1],
                                                  S.ctypes.data, C.ctypes.data))
    r = b.fit(algorithm="sampled", **OPTS)
    b.close()
    return r


def stats(r):
    return np.array([[r.cluster_stats(j, i) for i in range(r.n_models)]
                     for j in range(r.n_clusters)])


@pytest.fixture(scope="module")
def reference(rows):
    return single_process(*rows)


def decisions(r, X):
    return np.stack([r.route_batch(X[::7], a) for a in (0.0, 0.3, 0.6, 0.8, 1.0)])


def test_dask_train_equals_single_process(rows, reference, client):
    X, S, C, models = rows
    seen = []
    r = avengers.dask.train(client, da.from_array(X, chunks=(20000, 384)),
                            da.from_array(S, chunks=(50000, len(models))), C, models,
                            block_rows=32768, progress=lambda *a: seen.append(a), **OPTS)
    ref = reference
    assert np.array_equal(r.centroids(), ref.centroids())  # bit for bit
    assert np.array_equal(stats(r), stats(ref))
    assert np.array_equal(decisions(r, X), decisions(ref, X))
    meta, rmeta = r.metadata, ref.metadata
    for key in ("algorithm", "sample_rows", "n_iter", "inertia", "n_train_rows", "seed"):
        assert meta[key] == rmeta[key], key
    # progress: the sample, one line per pass, the statistics
    assert [s[0] for s in seen] == ["sample"] + ["pass"] * int(meta["n_iter"]) + ["stats"]
    assert seen[0][2] == int(meta["sample_rows"])


def test_block_size_does_not_matter(rows, reference, client):
    X, S, C, models = rows
    r = avengers.dask.train(client, X, S, C, models, block_rows=65536, **OPTS)
    assert np.array_equal(r.centroids(), reference.centroids())
    assert np.array_equal(stats(r), stats(reference))


def test_rows_from_a_npy_file(rows, reference, client, tmp_path):
    """avengers.dask.from_npy: the workers read their blocks from the file through a memory map
    (the graph holds the path, not the rows); the same router as one process, and each worker
    holds about half the rows (consecutive blocks). A memory map given as numpy is scattered in
    blocks instead, to the same result."""
    X, S, C, models = rows
    path = str(tmp_path / "emb.npy")
    np.save(path, X)
    E = avengers.dask.from_npy(path, block_rows=32768)
    assert E.shape == X.shape and E.dtype == np.float32 and E.chunks[0] == (32768, N - 32768)
    assert all(not isinstance(v, np.ndarray) for v in dict(E.dask).values()
               for v in (v if isinstance(v, tuple) else (v,)))
    assert np.array_equal(E[1000:1010].compute(), X[1000:1010])
    r = avengers.dask.train(client, E, S, C, models, block_rows=32768, **OPTS)
    assert np.array_equal(r.centroids(), reference.centroids())
    assert np.array_equal(stats(r), stats(reference))
    # placement: block i of every array on one worker, consecutive blocks, rows balanced
    fut, row0 = avengers.dask._blocks(client, avengers.dask.from_npy(path, block_rows=16384),
                                      16384)
    assert row0 == [0, 16384, 32768]
    distributed.wait(fut)

    def holder(f):
        return list(client.who_has([f]).values())[0][0]
    where = [holder(f) for f in fut]
    # 16,384 | 16,384 + 12,232 rows: the split of these blocks with the smaller largest share
    assert len(set(where)) == 2 and where[0] != where[1] == where[2], where
    sfut, _ = avengers.dask._blocks(client, S, 16384)
    assert [holder(f) for f in sfut] == where
    del fut, sfut
    mm = np.load(path, mmap_mode="r")
    r2 = avengers.dask.train(client, mm, S, C, models, block_rows=32768, **OPTS)
    assert np.array_equal(r2.centroids(), reference.centroids())
    np.save(str(tmp_path / "flat.npy"), X[0])
    with pytest.raises(ValueError, match="2-D"):
        avengers.dask.from_npy(str(tmp_path / "flat.npy"))


def test_dataframe_columns_in_router_order(rows, reference, client):
    pd = pytest.importorskip("pandas", reason="dask dataframes need pandas (python3-pandas)")
    import dask.dataframe as dd
    X, S, C, models = rows
    # columns in another order: the dataframe is read by name
    order = models[::-1]
    sdf = dd.from_pandas(pd.DataFrame(S[:, ::-1], columns=order), npartitions=3)
    cdf = dd.from_pandas(pd.DataFrame(C[:, ::-1], columns=order), npartitions=3)
    r = avengers.dask.train(client, da.from_array(X, chunks=(30000, 384)), sdf, cdf, models,
                            **OPTS)
    assert r.models == reference.models
    assert np.array_equal(stats(r), stats(reference))
    with pytest.raises(ValueError, match="no column"):
        avengers.dask.train(client, X, sdf, cdf, models + ["nobody"], **OPTS)


def test_kmeans_parallel_seeding(rows, reference, client):
    """Spark's k-means|| seeding: a different start, an inertia within 5% of the trainer's."""
    X, S, C, models = rows
    r = avengers.dask.train(client, X, S, C, models, init="k-means||", **OPTS)
    assert r.metadata["algorithm"] == "k-means||/lloyd"
    ine, ref = float(r.metadata["inertia"]), float(reference.metadata["inertia"])
    assert abs(ine - ref) / ref < 0.05, (ine, ref)
    assert int(stats(r)[:, :, 0].sum()) == int(stats(reference)[:, :, 0].sum())


def test_partial_sums_add_exactly_in_any_order(rows):
    X = rows[0][:9000]
    C = kmeans.normalize(X[:K])
    whole = kmeans.block_step(C, X)
    g = np.random.default_rng(1)
    cuts = np.sort(g.choice(np.arange(1, 9000), 7, replace=False))
    parts = [kmeans.block_step(C, p) for p in np.split(X, cuts)]
    g.shuffle(parts)
    assert np.array_equal(sum(p[0] for p in parts), whole[0])
    assert np.array_equal(sum(p[1] for p in parts), whole[1])
    assert sum(p[2] for p in parts) == whole[2]
    # the fixed-point sums are the double-precision sums within one unit per row
    lab = kmeans.block_step(C, X, labels=True)[3]
    Xn = kmeans.normalize(X).astype(np.float64)
    for j in range(K):
        exact = Xn[lab == j].sum(axis=0)
        assert np.all(np.abs(whole[0][j] / kmeans.FIXED_ONE - exact) <= whole[1][j] / kmeans.FIXED_ONE)


def test_errors(rows, client):
    X, S, C, models = rows
    with pytest.raises(ValueError, match="multiple of 32768"):
        avengers.dask.train(client, X, S, C, models, block_rows=1000)
    with pytest.raises(ValueError, match="init"):
        avengers.dask.train(client, X, S, C, models, init="random")
    with pytest.raises(ValueError, match="scores and costs"):
        avengers.dask.train(client, X, S[:, :3], C, models)
    with pytest.raises(avengers.Error):
        kmeans.block_step(np.zeros((2, 384), np.float32) + 5, X[:10])  # centroid norms too large


def test_tune_fans_out_one_task_per_k(client):
    """avengers.dask.tune on the bundled fixture (every row gathered: fewer than tune_rows) makes
    the choice the library's tuner makes in one process with the same grid, and trains the
    chosen router on the cluster."""
    emb = np.load(os.path.join(FIX, "emb.npy"))
    S = np.load(os.path.join(FIX, "scores.npy")).astype(np.float32)
    C = np.load(os.path.join(FIX, "costs.npy")).astype(np.float32)
    models = [l.strip() for l in open(os.path.join(FIX, "models.txt")) if l.strip()]
    grid = dict(n_clusters=[6, 12, 24], top_p=[2, 4], kappa=[0.0, 4.0], n_folds=3, n_init=1)
    seen = []
    r = avengers.dask.tune(client, emb, S, C, models, grid=grid, seed=7,
                           progress=lambda *a: seen.append(a))
    b = avengers.Builder(emb.shape[1], models)
    b.add_many(emb, S, C)
    ref = b.fit(seed=7, tune=grid).metadata
    meta = r.metadata
    for key in ("tuned_n_clusters", "tuned_top_p", "tuned_kappa", "tuned_normalisation",
                "tuned_fallback", "tuned_safety"):
        assert meta[key] == ref[key], (key, meta[key], ref[key])
    assert meta["tuned_tasks"] == "3" and meta["tuned_rows"] == str(emb.shape[0])
    assert r.n_clusters == int(ref["tuned_n_clusters"]) and r.top_p == int(ref["tuned_top_p"])
    assert r.estimator["kappa"] == float(ref["tuned_kappa"])
    assert [s[0] for s in seen[:4]] == ["tune-rows", "tune-task", "tune-task", "tune-task"]
    with pytest.raises(ValueError, match="members"):
        avengers.dask.tune(client, emb, S, C, models, grid=dict(grid, members=[1, 4]))
