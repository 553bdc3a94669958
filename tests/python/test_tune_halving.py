"""Successive halving and shared clustering through the binding's tune options (halving,
halving_min_rows, shared_clustering)."""
import math

import pytest

GRID = dict(n_clusters=[4, 8], top_p=[1, 2], n_folds=3, n_init=1, n_alphas=5)


def rungs(n, eta, least):
    """The documented plan: rung r of R holds ceil(n / eta^(R-1-r)) rows, rungs while rung 0 keeps
    at least `least` rows."""
    r = 1
    while math.ceil(n / eta ** r) >= least:
        r += 1
    return [math.ceil(n / eta ** (r - 1 - i)) for i in range(r)]


def test_halving_options(avengers, fx):
    with avengers.Builder(fx.emb.shape[1], fx.models) as b:
        b.add_many(fx.emb[fx.train], fx.scores[fx.train], fx.costs[fx.train])
        n = b.n_rows
        half = b.fit(n_init=1, seed=3, tune=dict(GRID, halving=2, halving_min_rows=200))
        md = half.metadata
        assert md["tuned_halving_eta"] == "2"
        assert md["tuned_halving_rows"] == ",".join(map(str, rungs(n, 2, 200)))
        cands = [int(c) for c in md["tuned_halving_candidates"].split(",")]
        # ceil(1/eta) of the candidates, fewer when the k values kept have fewer
        assert cands[0] == 4 and all(0 < c <= -(-a // 2) for a, c in zip(cands, cands[1:]))
        for off in ("off", 1, "auto"):  # auto: off at this size
            r = b.fit(n_init=1, seed=3, tune=dict(GRID, halving=off))
            assert "tuned_halving_eta" not in r.metadata
            r.close()
        with pytest.raises(avengers.InvalidArgument):
            b.fit(n_init=1, seed=3, tune=dict(GRID, halving=17))
        with pytest.raises(avengers.InvalidArgument):
            b.fit(n_init=1, seed=3, tune=dict(GRID, halving=2, halving_min_rows=5))
        with pytest.raises(OverflowError):
            b.fit(n_init=1, seed=3, tune=dict(GRID, halving=-1))
        half.close()


def test_shared_clustering_option(avengers, fx):
    """shared_clustering through the binding: "on" (2) records tuned_clustering; "off", 1 and
    "auto" (off at this size) do not and give the same router; above 2 is refused."""
    with avengers.Builder(fx.emb.shape[1], fx.models) as b:
        b.add_many(fx.emb[fx.train], fx.scores[fx.train], fx.costs[fx.train])
        on = b.fit(n_init=1, seed=3, tune=dict(GRID, shared_clustering="on"))
        assert on.metadata["tuned_clustering"] == "shared"
        two = b.fit(n_init=1, seed=3, tune=dict(GRID, shared_clustering=2))
        assert two.centroid_hash == on.centroid_hash
        hashes = set()
        for off in ("off", 1, "auto"):
            r = b.fit(n_init=1, seed=3, tune=dict(GRID, shared_clustering=off))
            assert "tuned_clustering" not in r.metadata
            hashes.add(r.centroid_hash)
            r.close()
        assert len(hashes) == 1
        with pytest.raises(avengers.InvalidArgument):
            b.fit(n_init=1, seed=3, tune=dict(GRID, shared_clustering=3))
        on.close()
        two.close()
