"""Feedback sharded over a Dask LocalCluster of worker processes, partial profiles merged with
av_profile_merge, equals the single-process profile bit for bit (examples/dask/feedback_merge.py).
Skips, saying why, when dask.distributed is not importable."""
import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "examples", "dask"))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
os.environ.setdefault("AVENGERS_LIB", os.path.join(ROOT, "lib", "libavengers.so"))
# worker processes import the example module and the binding too
os.environ["PYTHONPATH"] = os.pathsep.join(
    [os.path.join(ROOT, "examples", "dask"), os.path.join(ROOT, "bindings", "python"),
     os.environ.get("PYTHONPATH", "")])

distributed = pytest.importorskip("dask.distributed",
                                  reason="dask.distributed is not installed "
                                         "(Debian: python3-dask python3-distributed)")
import avengers  # noqa: E402
import feedback_merge as fm  # noqa: E402

FIX = os.path.join(ROOT, "tests", "data", "llm9")


@pytest.fixture(scope="module")
def setup():
    emb = np.load(os.path.join(FIX, "emb.npy"))
    scores = np.load(os.path.join(FIX, "scores.npy"))
    costs = np.load(os.path.join(FIX, "costs.npy"))
    split = np.load(os.path.join(FIX, "split.npy")).astype(bool)
    models = [l.strip() for l in open(os.path.join(FIX, "models.txt")) if l.strip()]
    b = avengers.Builder(emb.shape[1], models)
    b.add_many(emb[split], scores[split], costs[split])
    base = b.fit(n_clusters=16, top_p=4, n_init=1, seed=3).to_bytes()
    test = np.flatnonzero(~split)
    log = [(emb[i], mi, scores[i, mi], costs[i, mi]) for i in test for mi in range(len(models))]
    return base, log, len(models)


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def stats(r):
    return np.array([[r.cluster_stats(j, i) for i in range(r.n_models)]
                     for j in range(r.n_clusters)])


def test_dask_merge_equals_single_process(setup, client):
    base, log, m = setup
    assert len(log) > 100
    merged = fm.aggregate(client, base, log, npartitions=3)
    single = fm.single_process(base, log)
    base_r = avengers.Router.from_bytes(base)
    # the feedback really moved the statistics, by exactly one count per record
    assert stats(merged)[:, :, 0].sum() == stats(base_r)[:, :, 0].sum() + len(log)
    assert np.array_equal(stats(merged), stats(single))
    assert merged.to_bytes() == single.to_bytes()
    # and the partitioning does not matter
    other = fm.aggregate(client, base, log, npartitions=5)
    assert other.to_bytes() == single.to_bytes()


def test_partials_refuse_other_centroids(setup):
    base, log, m = setup
    part = fm.partial_profile(base, log[: 3 * m])
    r = avengers.Router.from_bytes(part)
    c = r.centroids()
    c[0, 0] += 1e-3
    moved = avengers.Router.from_parts(c, *[np.array([[r.cluster_stats(j, i)[t]
                                                        for i in range(m)]
                                                       for j in range(r.n_clusters)])
                                             for t in range(3)], r.models)
    with pytest.raises(avengers.Error):
        avengers.Router.from_bytes(base).merge(moved)
