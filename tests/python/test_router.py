"""Router: routing against hand-computed and independently computed (numpy) decisions, zero-copy
array passing, errors as exceptions, lifetime, persistence, feedback, metadata, threads."""
import gc
import os
import re
import subprocess
import sys
import threading

import numpy as np
import pytest

import reference
from conftest import ROOT, fit_fixture

NAMES2 = ["small", "large"]


def tiny_router(av, top_p):
    # Same router as tests/unit/router/test_router.c: three clusters on the unit axes, two models.
    C = np.array([[1, 0], [0, 1], [-1, 0]], dtype=np.float32)
    cnt = np.array([[10, 10], [10, 10], [10, 0]], dtype=np.float64)
    ss = np.array([[2, 9], [8, 9], [5, 0]], dtype=np.float64)
    sc = np.array([[1, 10], [1, 10], [1, 0]], dtype=np.float64)
    return av.Router.from_parts(C, cnt, ss, sc, NAMES2, top_p=top_p)


def test_error_table_matches_header(avengers):
    with open(os.path.join(ROOT, "include", "avengers", "avengers.h")) as f:
        header = f.read()
    rows = re.findall(r'X\((\w+),\s*(-\d+),\s*"([^"]*)"\)', header)
    assert len(rows) >= 17
    for name, code, text in rows:
        code = int(code)
        assert avengers.CODES.get(name) == code, "binding lacks AV_%s" % name
        assert avengers.BY_CODE[code].name == name
        assert avengers.strerror(code) == text
    assert len(avengers.CODES) == len(rows)


def test_route_hand_computed(avengers):
    with tiny_router(avengers, 1) as r:
        # cluster 0 alone: p~ = (0, 1), 1-q~ = (1, 0); alpha 0.5 ties -> cheaper "small"
        assert r.route([3, 0.5], alpha=1.0) == 1
        assert r.route([3, 0.5], alpha=0.0) == 0
        assert r.route([3, 0.5], alpha=0.5) == 0
        assert r.route(np.array([0.1, 2], dtype=np.float32), 0.6) == 1
        assert r.route([0.1, 2], 0.4) == 0
        # cluster 2: "large" has no outcome there and takes its global mean 0.9 > 0.5
        assert r.route([-1, 0.2], 1.0) == 1
        assert r.models == ("small", "large")
        assert (r.dim, r.n_clusters, r.n_models, r.top_p) == (2, 3, 2, 1)
    with tiny_router(avengers, 2) as r:
        assert r.route([1, 0.9], 0.51) == 1
        assert r.route([1, 0.9], 0.49) == 0


@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.5, 0.8, 1.0])
def test_matches_numpy_reference(avengers, router, fx, alpha):
    want, amb = reference.route(router, fx.emb, alpha)
    got = router.route_batch(fx.emb, alpha)
    assert got.dtype == np.int32 and got.shape == (len(fx.emb),)
    differ = np.nonzero(got != want)[0]
    # Disagreement is only allowed at float-noise ties, and there must be few of those.
    assert amb.sum() < 0.02 * len(fx.emb)
    assert all(amb[differ]), "rows %s differ from the reference" % differ[~amb[differ]][:10]
    # single-row routing agrees with the batch exactly
    for i in range(0, len(fx.emb), 37):
        assert router.route(fx.emb[i], alpha) == got[i]


class Recorder:
    """Wraps a ctypes function and records the arguments it was called with."""

    def __init__(self, fn):
        self.fn, self.calls = fn, []

    def __call__(self, *args):
        self.calls.append(args)
        return self.fn(*args)


@pytest.fixture
def record(monkeypatch, avengers):
    def install(name):
        rec = Recorder(getattr(avengers._native, name))
        monkeypatch.setattr(avengers._native, name, rec)
        return rec
    return install


def test_zero_copy_vector(router, fx, record):
    rec = record("av_route")
    v = np.ascontiguousarray(fx.emb[5])
    router.route(v, 0.5)
    assert rec.calls[-1][1] == v.ctypes.data  # the array's own memory
    row = fx.emb[7]  # a row view of the fixture matrix: contiguous, no copy either
    router.route(row, 0.5)
    assert rec.calls[-1][1] == row.ctypes.data
    # float64 is converted once: another buffer, the same decision as the float32 row
    d64 = fx.emb[7].astype(np.float64)
    assert router.route(d64, 0.5) == router.route(row, 0.5)
    assert rec.calls[-2][1] != d64.ctypes.data


def test_zero_copy_batch_strided(router, fx, record):
    rec = record("av_route_batch")
    n, d = 64, fx.emb.shape[1]
    want = router.route_batch(np.ascontiguousarray(fx.emb[:n]), 0.7)
    # a view whose rows are longer than the embedding: row_stride = 512, same pointer
    big = np.zeros((n, 512), dtype=np.float32)
    big[:, :d] = fx.emb[:n]
    view = big[:, :d]
    assert not view.flags.c_contiguous
    got = router.route_batch(view, 0.7)
    args = rec.calls[-1]
    assert args[1] == big.ctypes.data and args[2] == n and args[3] == d and args[4] == 512
    assert (got == want).all()
    # every other row: row_stride = 2*d
    both = np.repeat(fx.emb[:n], 2, axis=0)
    got = router.route_batch(both[::2], 0.7)
    assert rec.calls[-1][1] == both.ctypes.data and rec.calls[-1][4] == 2 * d
    assert (got == want).all()
    # non-contiguous columns (Fortran order) and float64 are converted once and still agree
    fort = np.asfortranarray(fx.emb[:n])
    assert (router.route_batch(fort, 0.7) == want).all()
    assert rec.calls[-1][1] != fort.ctypes.data and rec.calls[-1][4] == d
    assert (router.route_batch(fx.emb[:n].astype(np.float64), 0.7) == want).all()
    # the output array is written in place by C: its pointer is the one passed
    assert len(router.route_batch(np.zeros((0, d), np.float32), 0.7)) == 0


def test_errors_are_exceptions(avengers, router, fx):
    d = router.dim
    with pytest.raises(avengers.DimensionError) as e:
        router.route(fx.emb[0, :10], 0.5)
    assert e.value.code == -7 and "10" in e.value.detail and isinstance(e.value, ValueError)
    with pytest.raises(avengers.VectorError):
        router.route(np.zeros(d, np.float32), 0.5)
    with pytest.raises(avengers.VectorError):
        router.route(np.full(d, np.nan, np.float32), 0.5)
    with pytest.raises(avengers.AlphaError) as e:
        router.route(fx.emb[0], 1.5)
    assert "alpha" in str(e.value)
    with pytest.raises(ValueError):
        router.route(fx.emb[:2], 0.5)  # 2-D into route
    bad = fx.emb[:4].copy()
    bad[2] = 0
    with pytest.raises(avengers.VectorError) as e:
        router.route_batch(bad, 0.5)
    assert list(e.value.models[[0, 1, 3]] >= 0) == [True] * 3 and e.value.models[2] == -8
    out = router.route_batch(bad, 0.5, errors="return")
    assert out[2] == avengers.CODES["EVECTOR"] and (out[[0, 1, 3]] >= 0).all()
    with pytest.raises(avengers.ModelError):
        router.model_index("nope")
    with pytest.raises(avengers.RangeError):
        router.centroid(router.n_clusters)
    with pytest.raises(avengers.InvalidArgument):
        router.top_p = 0
    with pytest.raises(avengers.FileError):
        avengers.Router.load("/nonexistent/router.avr")
    # exceptions survive pickling (for multiprocessing users)
    import pickle
    e2 = pickle.loads(pickle.dumps(e.value))
    assert type(e2) is avengers.VectorError and e2.code == -8


def test_lifetime(avengers, fx):
    r = tiny_router(avengers, 1)
    fin = r._finalizer
    assert fin.alive and not r.closed
    r.close()
    assert not fin.alive and r.closed
    r.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        r.route([1, 0], 0.5)
    assert "closed" in repr(r)
    with tiny_router(avengers, 1) as r2:
        fin2 = r2._finalizer
    assert not fin2.alive
    r3 = tiny_router(avengers, 1)
    fin3 = r3._finalizer
    del r3
    gc.collect()
    assert not fin3.alive  # the finaliser freed the handle
    b = avengers.Builder(2, ["a"])
    finb = b._finalizer
    del b
    gc.collect()
    assert not finb.alive
    with pytest.raises(TypeError):
        avengers.Router(12345)  # no way to wrap an arbitrary pointer


def test_save_load_roundtrip(avengers, router, fx, tmp_path):
    p = tmp_path / "r.avr"
    router.save(p)
    with avengers.Router.load(str(p)) as r2:
        assert r2.models == router.models and r2.top_p == router.top_p
        assert (r2.route_batch(fx.emb, 0.6) == router.route_batch(fx.emb, 0.6)).all()
        assert r2.cluster_stats(3, 2) == router.cluster_stats(3, 2)
        assert np.array_equal(r2.centroid(4), router.centroid(4))
    data = router.to_bytes()
    assert data == p.read_bytes()
    with avengers.Router.from_bytes(data) as r3:
        assert r3.metadata == router.metadata
    import pickle
    twin = pickle.loads(pickle.dumps(router))  # ships the file bytes: an independent copy
    assert twin.to_bytes() == data and twin._handle != router._handle
    twin.close()
    corrupt = bytearray(data)
    corrupt[len(corrupt) // 2] ^= 0xFF
    with pytest.raises((avengers.ChecksumError, avengers.FormatError)):
        avengers.Router.from_bytes(bytes(corrupt))
    with pytest.raises(avengers.Error):
        avengers.Router.from_bytes(data[:10])


def test_profile_update(avengers, fx):
    r = fit_fixture(avengers, fx, k=8, n_init=1)
    C = r.centroids().astype(np.float64)
    q = fx.emb[11]
    j = int(np.argmax(C @ (q / np.linalg.norm(q))))  # nearest cluster, computed here
    before = r.cluster_stats(j, "gemma-2-9b-it")
    r.profile_update(q, "gemma-2-9b-it", 1.0, 0.25)
    r.profile_update(q, r.models.index("gemma-2-9b-it"), 0.0, 0.5)
    after = r.cluster_stats(j, 1)
    assert after[0] == before[0] + 2
    assert after[1] == pytest.approx(before[1] + 1.0, abs=1e-9)
    assert after[2] == pytest.approx(before[2] + 0.75, abs=1e-6)
    # feedback moves decisions: with top_p 1, flood another model with perfect outcomes near q
    # (its mean score there rises above 0.9, while the best of the others is below 0.85)
    r.top_p = 1
    a = r.route(q, 1.0)
    b = (a + 1) % r.n_models
    assert max(r.cluster_stats(j, i)[1] / r.cluster_stats(j, i)[0] for i in range(9)) < 0.85
    for _ in range(1000):
        r.profile_update(q, b, 1.0, 0.0)
    assert r.route(q, 1.0) == b
    with pytest.raises(avengers.ModelError):
        r.profile_update(q, 9, 1.0, 1.0)
    with pytest.raises(avengers.BadValue):
        r.profile_update(q, 0, float("nan"), 1.0)
    with pytest.raises(avengers.BadValue):
        r.profile_update(q, 0, 1.0, -1.0)
    r.close()


def test_metadata_and_introspection(avengers, router):
    md = router.metadata
    assert md["seed"] == "7" and md["n_clusters"] == "20"
    r = tiny_router(avengers, 1)
    before = r.metadata  # the library may add entries of its own
    assert "embedder_id" not in before
    r.set_meta("embedder_id", "glove-100")
    r.set_meta("embedder_id", "tfidf-svd-384")
    assert r.metadata == dict(before, embedder_id="tfidf-svd-384")
    assert r.cluster_stats(1, "small") == (10.0, 8.0, 1.0)
    assert np.array_equal(r.centroid(2), np.array([-1, 0], np.float32))
    r.top_p = 3
    assert r.top_p == 3
    assert r.simd_backend == avengers.simd_backend()
    assert avengers.version() == "1.4.1" and avengers.version_number() == 10401
    r.close()


def test_from_parts_validation(avengers):
    C = np.eye(2, dtype=np.float32)
    ok = np.ones((2, 2))
    with pytest.raises(avengers.InvalidArgument):
        avengers.Router.from_parts(C, ok, ok, ok, ["x", "x"], top_p=1)
    with pytest.raises(ValueError):
        avengers.Router.from_parts(C, np.ones((2, 3)), ok, ok, ["a", "b"], top_p=1)
    with pytest.raises(avengers.BadValue):
        avengers.Router.from_parts(C, -ok, ok, ok, ["a", "b"], top_p=1)
    with pytest.raises(avengers.EmptyError):
        avengers.Router.from_parts(C, np.array([[1, 0], [1, 0.]]), ok * [[1, 0]], ok * [[1, 0]],
                                   ["a", "b"], top_p=1)
    # non-float inputs are converted
    r = avengers.Router.from_parts(np.eye(2, dtype=int), [[1, 1], [1, 1]], [[1, 0], [0, 1]],
                                   [[1, 1], [1, 1]], ("a", "b"), top_p=1)
    assert r.route([0, 1], 1.0) == 1
    r.close()


def test_threads_route_while_updating(avengers, fx):
    r = fit_fixture(avengers, fx, k=10, n_init=1)
    want = r.route_batch(fx.emb, 0.5)
    errors = []

    def router_thread(lo):
        try:
            for _ in range(3):
                got = [r.route(fx.emb[i], 0.5) for i in range(lo, len(fx.emb), 4)]
                assert all(0 <= g < r.n_models for g in got)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    def updater():
        for i in range(300):
            r.profile_update(fx.emb[i], i % r.n_models, float(fx.scores[i, i % 9]),
                             float(fx.costs[i, i % 9]))

    ts = [threading.Thread(target=router_thread, args=(k,)) for k in range(3)]
    ts.append(threading.Thread(target=updater))
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    assert sum(r.cluster_stats(j, 0)[0] for j in range(r.n_clusters)) == fx.train.sum() + 34
    # with no writer, threads agree exactly with the batch
    r2 = fit_fixture(avengers, fx, k=10, n_init=1)
    res = {}

    def part(k):
        res[k] = [r2.route(fx.emb[i], 0.5) for i in range(k, len(fx.emb), 4)]
    ts = [threading.Thread(target=part, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for k in range(4):
        assert res[k] == list(want[k::4])
    r.close()
    r2.close()


def _run_python(code, env_extra, cwd):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "bindings", "python"), **env_extra)
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True,
                          text=True)


def test_library_lookup(tmp_path):
    lib = os.path.realpath(os.path.join(ROOT, "lib", "libavengers.so"))
    p = _run_python("import avengers; print(avengers.library_path())", {"AVENGERS_LIB": lib},
                    tmp_path)
    assert p.returncode == 0 and p.stdout.strip() == lib
    p = _run_python("import avengers", {"AVENGERS_LIB": str(tmp_path / "missing.so")}, tmp_path)
    assert p.returncode != 0 and "AVENGERS_LIB" in p.stderr and "missing.so" in p.stderr
    env = {k: v for k, v in os.environ.items() if k != "AVENGERS_LIB"}
    p = subprocess.run([sys.executable, "-c", "import avengers; print(avengers.library_path())"],
                       env=dict(env, PYTHONPATH=os.path.join(ROOT, "bindings", "python")),
                       cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode == 0
    assert p.stdout.strip() == os.path.join(ROOT, "lib", "libavengers.so")


def test_missing_function_raises_not_supported(avengers):
    # A binding newer than the library: a function the library lacks is declared as missing and
    # raises NotSupported when called, instead of failing at import.
    present = avengers._native.declare({"av_no_such_function_xyz": (None, [])})
    assert present == [] and not avengers._native.has("av_no_such_function_xyz")
    with pytest.raises(avengers.NotSupported, match="av_no_such_function_xyz"):
        avengers._native.av_no_such_function_xyz()
