"""Ensemble routers (beyond the paper: av_fit_options.members, av_router_members) through the
Python binding. Decisions are checked against an independent numpy implementation of the ensemble
rule (per member the top_p most similar of its own clusters, the paper's per-cluster min-max
normalisation as in reference.py, the sum over every member's clusters, the paper's tie rule);
the members against plain fits with the documented member seeds; feedback against the nearest
cluster of every member computed in numpy; and the C, C++ and Rust programs against Python on an
ensemble router file."""
import os
import subprocess

import numpy as np
import pytest

from conftest import DATA, fit_fixture
from reference import tables
from test_cross_language import programs  # noqa: F401  (the module-scoped fixture)

K, MEMBERS, TOP_P, SEED = 10, 3, 2, 7
# Member b of an ensemble fits k-means with seed + b * this, modulo 2^64 (src/train/builder.c
# AV_MEMBER_SEED_STEP), so that member 0 is the paper's clustering with the fit seed itself.
SEED_STEP = 0x9E3779B97F4A7C15
ALPHAS = [0.0, 0.25, 0.5, 0.75, 1.0]
# Rows whose top-p boundary or best score sits within this of a tie are not compared: float32
# kernels may legitimately decide them either way (as in reference.py).
SIM_EPS, SCORE_EPS = 1e-5, 1e-9


@pytest.fixture(scope="module")
def ens(avengers, fx):
    r = fit_fixture(avengers, fx, k=K, n_init=2, seed=SEED, top_p=TOP_P, members=MEMBERS)
    yield r
    r.close()


@pytest.fixture(scope="module")
def ens_tables(ens):
    return tables(ens)


def ensemble_route(router, emb, alpha, tabs, top_p=None):
    """(decisions, ambiguous, clusters used per row) of the ensemble rule, in float64."""
    C, pn, qn, g_cost = tabs
    B, P = router.members, top_p or router.top_p
    kb = C.shape[0] // B
    X = emb.astype(np.float64)
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    sims = X @ C.T
    x = alpha * pn + (1 - alpha) * qn
    m = x.shape[1]
    out = np.empty(len(X), dtype=np.int64)
    amb = np.zeros(len(X), dtype=bool)
    used = []
    for r in range(len(X)):
        top = []
        for b in range(B):
            order = sorted(range(b * kb, (b + 1) * kb), key=lambda j: (-sims[r, j], j))
            top += order[:P]
            if len(order) > P and sims[r, order[P - 1]] - sims[r, order[P]] < SIM_EPS:
                amb[r] = True
        tot = x[top].sum(0)
        best = max(range(m), key=lambda i: (tot[i], -g_cost[i], -i))
        if any(i != best and abs(tot[best] - tot[i]) < SCORE_EPS for i in range(m)):
            amb[r] = True
        out[r] = best
        used.append(top)
    return out, amb, used


def _stats(router, model):
    """(count, sum_score, sum_cost) of one model in every cluster, shape (n_clusters, 3)."""
    return np.array([router.cluster_stats(j, model) for j in range(router.n_clusters)])


def test_members_and_clusters(avengers, fx, ens):
    assert ens.members == MEMBERS
    assert ens.n_clusters == MEMBERS * K
    assert ens.top_p == TOP_P
    assert "members" not in ens.metadata  # derived from the centroid section, not metadata
    # every member's clusters hold every training outcome once
    S, Q = fx.scores[fx.train], fx.costs[fx.train]
    for i in range(ens.n_models):
        st = _stats(ens, i)
        has = np.isfinite(S[:, i]) & np.isfinite(Q[:, i])
        for b in range(MEMBERS):
            part = st[b * K:(b + 1) * K]
            assert part[:, 0].sum() == has.sum(), (i, b)
            assert part[:, 1].sum() == pytest.approx(S[has, i].astype(np.float64).sum(), rel=1e-9)
            assert part[:, 2].sum() == pytest.approx(Q[has, i].astype(np.float64).sum(), rel=1e-9)
    paper = fit_fixture(avengers, fx, k=K, n_init=2, seed=SEED, top_p=TOP_P)
    assert (paper.members, paper.n_clusters) == (1, K)
    assert "members" not in paper.metadata
    paper.close()


def test_members_are_the_seeded_clusterings(avengers, fx, ens):
    """Member b is the plain fit with seed + b * SEED_STEP: centroids and statistics equal."""
    C = ens.centroids()
    for b in range(MEMBERS):
        seed = (SEED + b * SEED_STEP) % 2**64
        single = fit_fixture(avengers, fx, k=K, n_init=2, seed=seed, top_p=TOP_P)
        assert np.array_equal(single.centroids(), C[b * K:(b + 1) * K]), b
        for i in (0, 4, 8):
            assert np.array_equal(_stats(single, i), _stats(ens, i)[b * K:(b + 1) * K])
        single.close()


def test_decisions_match_numpy(avengers, fx, ens, ens_tables):
    paper = fit_fixture(avengers, fx, k=K, n_init=2, seed=SEED, top_p=TOP_P)
    changed = 0
    for alpha in ALPHAS:
        want, amb, _ = ensemble_route(ens, fx.emb, alpha, ens_tables)
        batch = ens.route_batch(fx.emb, alpha)
        single = np.array([ens.route(e, alpha) for e in fx.emb])
        assert (batch == single).all()
        ok = ~amb
        assert ok.sum() >= 200, "only %d rows away from a float tie at alpha %g" % (ok.sum(), alpha)
        bad = np.nonzero(batch[ok] != want[ok])[0]
        assert len(bad) == 0, "alpha %g: %d rows differ, e.g. row %d: library %d, numpy %d" % (
            alpha, len(bad), np.nonzero(ok)[0][bad[0]], batch[ok][bad[0]], want[ok][bad[0]])
        changed += (batch != paper.route_batch(fx.emb, alpha)).sum()
    assert changed > 0, "the ensemble decides as its first member alone: the test proves little"
    paper.close()


def test_reference_notices_a_wrong_rule(fx, ens, ens_tables):
    """The comparison can fail: the rule without the per-member split (top_p over all clusters)
    or with another top_p disagrees with the library on some rows."""
    batch = ens.route_batch(fx.emb, 0.5)
    want, amb, _ = ensemble_route(ens, fx.emb, 0.5, ens_tables, top_p=TOP_P + 1)
    assert (batch[~amb] != want[~amb]).any()


def test_explanation_lists_every_members_clusters(fx, ens, ens_tables):
    _, amb, used = ensemble_route(ens, fx.emb, 0.5, ens_tables)
    rows = [r for r in range(0, len(fx.emb), 7) if not amb[r]]
    assert len(rows) > 100
    for r in rows:
        ex = ens.route_ex(fx.emb[r], 0.5, explain=True)
        assert ex.model == ens.route(fx.emb[r], 0.5)
        assert len(ex.clusters) == MEMBERS * TOP_P
        assert sorted(int(j) for j in ex.clusters) == sorted(used[r]), r
        for b in range(MEMBERS):
            assert sum(b * K <= j < (b + 1) * K for j in ex.clusters) == TOP_P


def test_top_p_is_per_member(avengers, fx, ens):
    r = avengers.Router.from_bytes(ens.to_bytes())
    r.top_p = 3
    want, amb, _ = ensemble_route(r, fx.emb, 0.6, tables(r))
    got = r.route_batch(fx.emb, 0.6)
    assert (got[~amb] == want[~amb]).all()
    with pytest.raises(avengers.InvalidArgument):
        r.top_p = K + 1  # more than one member's clusters
    assert r.top_p == 3
    r.close()


def test_save_load_keeps_members_and_decisions(avengers, fx, ens, tmp_path):
    path = tmp_path / "ensemble.avr"
    ens.save(path)
    for r in (avengers.Router.load(path), avengers.Router.from_bytes(ens.to_bytes())):
        assert (r.members, r.n_clusters, r.top_p) == (MEMBERS, MEMBERS * K, TOP_P)
        assert np.array_equal(r.centroids(), ens.centroids())
        assert np.array_equal(_stats(r, 3), _stats(ens, 3))
        for alpha in (0.2, 0.8):
            assert (r.route_batch(fx.emb, alpha) == ens.route_batch(fx.emb, alpha)).all()
        r.close()


def test_convert_and_merge_keep_the_ensemble(avengers, fx, ens):
    f16 = ens.convert("f16")
    assert (f16.members, f16.n_clusters, f16.centroid_type) == (MEMBERS, MEMBERS * K, "f16")
    assert (f16.route_batch(fx.emb, 0.5) == ens.route_batch(fx.emb, 0.5)).mean() >= 0.99
    # merging a twin doubles every statistic; the same centroids as one clustering are refused
    twin = avengers.Router.from_bytes(ens.to_bytes())
    twin.merge(ens)
    assert np.array_equal(_stats(twin, 2), 2 * _stats(ens, 2))
    n = np.array([[ens.cluster_stats(j, i) for i in range(ens.n_models)]
                  for j in range(ens.n_clusters)])
    flat = avengers.Router.from_parts(ens.centroids(), n[..., 0], n[..., 1], n[..., 2], ens.models,
                                      top_p=TOP_P)
    assert flat.members == 1 and flat.n_clusters == MEMBERS * K
    assert flat.centroid_hash != ens.centroid_hash
    with pytest.raises(avengers.MismatchError):
        twin.merge(flat)
    for x in (f16, twin, flat):
        x.close()

def test_profile_update_adds_one_outcome_per_member(avengers, fx, ens):
    r = avengers.Router.from_bytes(ens.to_bytes())
    C = r.centroids().astype(np.float64)
    X = fx.emb[fx.test].astype(np.float64)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    sims = X @ C.T
    done = 0
    for row in range(len(X)):
        nearest = []
        for b in range(MEMBERS):
            s = sims[row, b * K:(b + 1) * K]
            top2 = np.sort(s)[-2:]
            if top2[1] - top2[0] < SIM_EPS:
                break  # a near tie: either cluster may be the library's nearest
            nearest.append(b * K + int(np.argmax(s)))
        else:
            # av_profile_update takes float scores and costs: compare with their float32 values
            model = done % r.n_models
            score, cost = float(np.float32(0.25 + 0.05 * (done % 7))), float(np.float32(0.001 * (done + 1)))
            before = {i: _stats(r, i) for i in range(r.n_models)}
            r.profile_update(fx.emb[fx.test][row], model, score, cost)
            for i in range(r.n_models):
                delta = _stats(r, i) - before[i]
                want = np.zeros_like(delta)
                if i == model:
                    want[nearest] = [1.0, score, cost]
                assert np.allclose(delta, want, rtol=0, atol=1e-9), (row, i)
            done += 1
            if done == 12:
                break
    assert done == 12
    r.close()


def test_limits(avengers, fx):
    with avengers.Builder(fx.emb.shape[1], fx.models) as b:
        b.add_many(fx.emb[fx.train], fx.scores[fx.train], fx.costs[fx.train])
        with pytest.raises(avengers.InvalidArgument):
            b.fit(n_clusters=4, top_p=1, n_init=1, members=17)  # > AV_MAX_MEMBERS
        with pytest.raises(avengers.InvalidArgument):
            b.fit(n_clusters=8, top_p=5, n_init=1, members=16)  # 16 * 5 > AV_MAX_TOP_P
        with pytest.raises(avengers.InvalidArgument):
            b.fit(n_clusters=4, top_p=5, n_init=1, members=2)  # top_p > clusters per member
        r = b.fit(n_clusters=4, top_p=4, n_init=1, members=16)  # 16 * 4 == AV_MAX_TOP_P
        assert (r.members, r.n_clusters) == (16, 64)
        r.close()


def test_tune_over_ensemble_sizes(avengers, fx):
    with avengers.Builder(fx.emb.shape[1], fx.models) as b:
        b.add_many(fx.emb[fx.train], fx.scores[fx.train], fx.costs[fx.train])
        grid = dict(n_clusters=[8], top_p=[2], members=[1, 2], n_folds=2, n_init=1, n_alphas=5)
        r = b.fit(n_init=1, seed=3, tune=grid)
        md = r.metadata
        assert np.isfinite(b.tune_best_auc)
        assert md["tuned_members"] in ("1", "2")
        assert md["tuned_candidates"] == "2"
        assert r.members == int(md["tuned_members"])
        assert r.n_clusters == 8 * r.members and r.top_p == 2
        # the winner is fitted on all rows with the fit options: a plain fit gives the same router
        # (with the settings the tuning chose, the safety level among them)
        plain = b.fit(n_clusters=8, top_p=2, n_init=1, seed=3, members=r.members)
        assert np.array_equal(plain.centroids(), r.centroids())
        plain.set_estimator(**r.estimator)
        assert (plain.route_batch(fx.emb, 0.5) == r.route_batch(fx.emb, 0.5)).all()
        # a single candidate size is taken
        only2 = b.fit(n_init=1, seed=3, tune=dict(grid, members=[2]))
        assert only2.members == 2 and only2.metadata["tuned_members"] == "2"
        for bad in ([0], [17]):
            with pytest.raises(avengers.InvalidArgument):
                b.fit(n_init=1, seed=3, tune=dict(grid, members=bad))
        for x in (r, plain, only2):
            x.close()


@pytest.mark.parametrize("alpha", ["0.3", "0.8"])
def test_every_language_routes_an_ensemble_file_alike(programs, ens, fx, tmp_path, alpha):  # noqa: F811
    path = str(tmp_path / "ensemble.avr")
    ens.save(path)
    batch = ens.route_batch(fx.emb, float(alpha))
    assert len(set(batch)) > 1, "a degenerate router proves little"
    want = "".join("%d\t%s\n" % (i, ens.models[m]) for i, m in enumerate(batch))
    for lang, cmd in programs.items():
        p = subprocess.run(cmd + [path, os.path.join(DATA, "emb.npy"), alpha], capture_output=True,
                           text=True)
        assert p.returncode == 0, "%s: %s" % (lang, p.stderr)
        assert p.stdout == want, "%s differs from Python on the ensemble router" % lang
