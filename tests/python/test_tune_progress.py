"""The tuning progress callback of Builder.fit (tune_progress): what it receives per fold and
candidate, cancelling by returning True (avengers.Cancelled, AV_ECANCELED) or by raising (the
exception re-raised after the C call), on a tiny tuned fit of the llm9 fixture."""
import numpy as np
import pytest

GRID = dict(n_clusters=[4, 6], top_p=[1, 2], kappa=[0.0, 4.0], n_folds=2, n_init=1)


@pytest.fixture(scope="module")
def builder(avengers, fx):
    rows = np.flatnonzero(fx.train)[:300]
    b = avengers.Builder(fx.emb.shape[1], fx.models)
    b.add_many(fx.emb[rows], fx.scores[rows], fx.costs[rows])
    yield b
    b.close()


def test_progress_per_fold_and_candidate(avengers, builder):
    seen = []
    r = builder.fit(n_init=1, seed=5, tune=GRID, tune_progress=seen.append)
    # independently: 2 k values x 2 folds fold routers + the final fit; candidates are the
    # k x top_p x kappa products (8), scored on every fold
    n_cand, folds, n_k = 2 * 2 * 2, 2, 2
    assert all(isinstance(p, avengers.TuneProgress) for p in seen)
    assert [p.stage for p in seen] == ["fit", "scored"] * (n_k * folds) + ["final"]
    assert {(p.n_folds, p.n_fits, p.n_scores, p.n_candidates) for p in seen} == \
        {(folds, n_k * folds + 1, n_cand * folds, n_cand)}
    fits = [p for p in seen if p.stage == "fit"]
    assert [p.fits_done for p in fits] == list(range(n_k * folds))
    assert sorted({(p.fold, p.n_clusters) for p in fits}) == [(f, k) for f in range(2) for k in (4, 6)]
    scored = [p for p in seen if p.stage == "scored"]
    assert scored[-1].scores_done == n_cand * folds
    assert all(b.scores_done > a.scores_done for a, b in zip(scored, scored[1:]))
    final = seen[-1]
    assert final.fold == folds and final.fits_done == n_k * folds
    assert final.n_clusters == int(r.metadata["tuned_n_clusters"])
    # the callback changes nothing: the same fit without it gives the same file
    again = builder.fit(n_init=1, seed=5, tune=GRID)
    assert again.to_bytes() == r.to_bytes()


@pytest.mark.parametrize("at", [1, 3, 9])
def test_returning_true_cancels(avengers, builder, at):
    calls = []

    def cb(p):
        calls.append(p)
        return len(calls) == at

    with pytest.raises(avengers.Cancelled) as e:
        builder.fit(n_init=1, seed=5, tune=GRID, tune_progress=cb)
    assert len(calls) == at
    assert e.value.code == avengers.CODES["ECANCELED"] == -18
    assert "cancelled by the progress callback" in str(e.value)
    # returning other truthy values does not cancel (only True does)
    r = builder.fit(n_init=1, seed=5, tune=GRID, tune_progress=lambda p: 1)
    assert isinstance(r, avengers.Router)


def test_an_exception_in_the_callback_cancels_and_is_reraised(avengers, builder):
    class Stop(Exception):
        pass

    calls = []

    def cb(p):
        calls.append(p)
        if p.stage == "scored":
            raise Stop("enough")

    with pytest.raises(Stop, match="enough") as e:
        builder.fit(n_init=1, seed=5, tune=GRID, tune_progress=cb)
    assert len(calls) == 2  # fit, then scored: no call after the raise
    assert isinstance(e.value.__cause__, avengers.Cancelled)
    # the builder is still usable
    assert builder.fit(n_init=1, seed=5, tune=GRID).n_clusters > 0


def test_tune_progress_needs_tune(builder):
    with pytest.raises(ValueError):
        builder.fit(n_init=1, tune_progress=print)
