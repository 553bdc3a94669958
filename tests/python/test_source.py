"""Row sources from Python (Builder.add_source, av_builder_add_source): rows read through a
callback give the router of the same rows copied, mixed with copied and borrowed rows, for the
sampled and full algorithms and tuning; the reads the fit makes; an exception in the callback is
re-raised after the C call and leaves the builder usable; wrong shapes, bad rows and rows that
change between reads are refused."""
import numpy as np
import pytest


def _centroids_and_stats(r):
    k, m = r.n_clusters, r.n_models
    stats = np.array([[r.cluster_stats(j, i) for i in range(m)] for j in range(k)])
    return r.centroids(), stats


def _same(ra, rb):
    ca, sa = _centroids_and_stats(ra)
    cb, sb = _centroids_and_stats(rb)
    assert np.array_equal(ca, cb) and np.array_equal(sa, sb)


class Reader:
    """read(row0, n) over arrays, as a cursor would serve them: lists of Python floats for the
    outcomes (any array-like is accepted), counting the calls."""

    def __init__(self, emb, scores, costs):
        self.emb, self.scores, self.costs = emb, scores, costs
        self.calls = []
        self.fail = None    # (call number, exception) raised on that call
        self.change = None  # row whose first score reads one higher

    def __call__(self, row0, n):
        self.calls.append((row0, n))
        if self.fail and len(self.calls) == self.fail[0]:
            raise self.fail[1]
        s = self.scores[row0:row0 + n].copy()
        if self.change is not None and row0 <= self.change < row0 + n:
            s[self.change - row0, 0] += 1
        return self.emb[row0:row0 + n], s.tolist(), self.costs[row0:row0 + n]


@pytest.mark.parametrize("alg", ["sampled", "full"])
def test_source_equals_copied(avengers, fx, alg):
    n, d = fx.emb.shape
    a, c, e = n // 4, n // 2, 3 * n // 4
    r1 = Reader(fx.emb[:a], fx.scores[:a], fx.costs[:a])
    r2 = Reader(fx.emb[e:], fx.scores[e:], fx.costs[e:])
    opts = dict(n_clusters=8, n_init=2, algorithm=alg, sample_size=500)
    with avengers.Builder(d, fx.models) as ref, avengers.Builder(d, fx.models) as b:
        ref.add_many(fx.emb, fx.scores, fx.costs)
        b.add_source(a, r1, block_rows=33)
        b.add_many(fx.emb[a:c], fx.scores[a:c], fx.costs[a:c])
        b.add_borrowed(fx.emb[c:e], fx.scores[c:e], fx.costs[c:e])
        b.add_source(n - e, r2)
        assert len(b) == n
        # read once at add time: blocks of 33 rows, then one block of the default size
        assert r1.calls == [(r0, min(33, a - r0)) for r0 in range(0, a, 33)]
        assert r2.calls == [(0, n - e)]
        ra, rb = ref.fit(**opts), b.fit(**opts)
        _same(ra, rb)
        assert ref.inertia == b.inertia
        q = fx.emb[::5]
        for alpha in (0.0, 0.5, 1.0):
            assert np.array_equal(ra.route_batch(q, alpha), rb.route_batch(q, alpha))
        if alg == "sampled":  # every block again per pass, and once for the statistics
            passes = int(rb.metadata["n_iter"])
            assert len(r1.calls) >= (1 + passes + 1) * len(range(0, a, 33))
        else:                 # copied once, into the builder
            assert len(r1.calls) == 2 * len(range(0, a, 33))


def test_source_concurrent_and_tuned(avengers, fx):
    n, d = fx.emb.shape
    tune = dict(n_clusters=[4, 8], top_p=[2], n_folds=2, n_init=1)
    with avengers.Builder(d, fx.models) as ref, avengers.Builder(d, fx.models) as b:
        ref.add_many(fx.emb, fx.scores, fx.costs)
        b.add_source(n, Reader(fx.emb, fx.scores, fx.costs), block_rows=100, concurrent=True)
        _same(ref.fit(n_clusters=6, n_init=1, algorithm="sampled", sample_size=300),
              b.fit(n_clusters=6, n_init=1, algorithm="sampled", sample_size=300))
        _same(ref.fit(tune=tune, seed=3), b.fit(tune=tune, seed=3))


def test_exception_in_read(avengers, fx):
    n, d = fx.emb.shape
    r = Reader(fx.emb, fx.scores, fx.costs)
    with avengers.Builder(d, fx.models) as b:
        b.add_many(fx.emb[:3], fx.scores[:3], fx.costs[:3])
        r.fail = (2, KeyError("cursor closed"))
        with pytest.raises(KeyError, match="cursor closed") as ei:
            b.add_source(n, r, block_rows=200)
        assert isinstance(ei.value.__cause__, avengers.Cancelled)
        assert "rows [200, 400)" in str(ei.value.__cause__)
        assert len(b) == 3
        r.fail = None
        b.add_source(n, r, block_rows=200)
        assert len(b) == 3 + n
        # during a fit: re-raised, the builder unchanged and still fits
        for alg in ("sampled", "full"):
            r.calls.clear()
            r.fail = (4, RuntimeError("row group lost"))
            with pytest.raises(RuntimeError, match="row group lost"):
                b.fit(n_clusters=6, n_init=1, algorithm=alg, sample_size=400)
            assert len(b) == 3 + n
        r.fail = None
        ok = b.fit(n_clusters=6, n_init=1, algorithm="sampled", sample_size=400)
        assert ok.n_clusters == 6


def test_wrong_shapes_bad_rows_and_changes(avengers, fx):
    n, d = fx.emb.shape
    m = len(fx.models)
    with avengers.Builder(d, fx.models) as b:
        with pytest.raises(ValueError, match=r"scores must be \(10, %d\)" % m):
            b.add_source(10, lambda r0, k: (fx.emb[r0:r0 + k], fx.scores[r0:r0 + k, :-1],
                                            fx.costs[r0:r0 + k]))
        with pytest.raises(ValueError, match="must return"):
            b.add_source(10, lambda r0, k: None)
        bad = fx.emb[:20].copy()
        bad[7] = 0
        with pytest.raises(avengers.VectorError, match=r"row 7 \(row 7 of the source\)"):
            b.add_source(20, Reader(bad, fx.scores, fx.costs))
        assert len(b) == 0
        r = Reader(fx.emb, fx.scores, fx.costs)
        b.add_source(n, r, block_rows=64)
        r.change = 100
        for alg in ("sampled", "full"):
            with pytest.raises(avengers.FileError, match=r"rows \[64, 128\).*differ"):
                b.fit(n_clusters=6, n_init=1, algorithm=alg, sample_size=400)
        r.change = None
        assert b.fit(n_clusters=6, n_init=1, algorithm="full").n_clusters == 6
