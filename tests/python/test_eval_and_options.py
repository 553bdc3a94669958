"""Wrappers of the evaluation, compact-centroid and routing-option APIs (route_ex, estimator,
budgets, feedback, add_model, merge, tuning), each checked against an independent numpy
computation or an exact invariant (struct layouts, merge doubling, masks)."""
import ctypes

import numpy as np
import pytest

from conftest import fit_fixture


@pytest.fixture(scope="module")
def r(avengers, fx):
    router = fit_fixture(avengers, fx, k=16, n_init=2, seed=5, embedder_id="tfidf-svd384")
    yield router
    router.close()


def test_sized_init_keeps_to_the_bindings_size(avengers):
    """Every struct is initialised with av_*_init_sized and this binding's sizeof: struct_size is
    ours, the library's defaults are in (also the members appended after 0.1, which the 0.x
    av_*_init functions leave out), and not one byte past the struct is written."""
    S = avengers._structs
    for cls, name in S.INITS.items():
        n = ctypes.sizeof(cls)
        buf = ctypes.create_string_buffer(b"\xa5" * (n + 64), n + 64)
        getattr(avengers._native, name)(buf, n)
        assert ctypes.c_uint32.from_buffer(buf).value == n, cls.__name__
        assert buf.raw[n:] == b"\xa5" * 64, "%s wrote past the struct" % name
        assert S.init(cls).struct_size == n
    assert S.init(S.FitOptions).members == 1  # appended in 0.2; 0 from the 0.x init
    assert S.init(S.RouteOptions).normalisation == avengers._decls.AV_NORMALISE_ROUTER
    # the 0.x entry points are not declared at all
    assert not any(hasattr(avengers._native, n[:-len("_sized")]) for n in S.INITS.values())


def _numpy_eval(r, fx, rows, alphas):
    S, Q, X = fx.scores[rows], fx.costs[rows], fx.emb[rows]
    out = []
    for a in alphas:
        pick = r.route_batch(X, float(np.float32(a)))
        i = np.arange(len(pick))
        out.append((S[i, pick].astype(np.float64).mean(), Q[i, pick].astype(np.float64).sum(),
                    np.bincount(pick, minlength=r.n_models) / len(pick)))
    return out


def test_evaluate_matches_numpy(avengers, r, fx):
    te = np.nonzero(fx.test)[0]
    alphas = [0, 0.2, 0.5, 0.8, 1]
    ev = r.evaluate(fx.emb[te], fx.scores[te], fx.costs[te], models=fx.models, alphas=alphas)
    assert ev.n_rows == len(te) and ev.models == r.models and len(ev.points) == 5
    for p, (mean_s, tot_c, share), row in zip(ev.points, _numpy_eval(r, fx, te, alphas), ev.shares):
        assert p.mean_score == pytest.approx(mean_s, abs=1e-9)
        assert p.total_cost == pytest.approx(tot_c, rel=1e-6)
        assert p.n_scored == len(te) and p.n_missing == 0
        assert np.allclose(row, share)
    for i, m in enumerate(fx.models):
        assert ev.model_points[m].mean_score == pytest.approx(fx.scores[te, i].astype(np.float64).mean(), abs=1e-9)
    S, Q = fx.scores[te].astype(np.float64), fx.costs[te].astype(np.float64)
    best = S.max(1, keepdims=True)
    orc = np.where(S == best, Q, np.inf).argmin(1)
    assert ev.oracle.mean_score == pytest.approx(S[np.arange(len(te)), orc].mean(), abs=1e-9)
    assert ev.oracle.total_cost == pytest.approx(Q[np.arange(len(te)), orc].sum(), rel=1e-6)
    means = [fx.scores[te, i].mean() for i in range(9)]
    assert ev.metrics["best_model_name"] == fx.models[int(np.argmax(means))]
    # the frontier: no listed point is dominated by any router or single-model point
    pts = [(p.mean_score, p.mean_cost) for p in ev.points] + \
          [(p.mean_score, p.mean_cost) for p in ev.model_points.values()]
    for kind, key in ev.frontier:
        p = ev.points[list(ev.alphas).index(key)] if kind == "router" else ev.model_points[key]
        assert not any(s >= p.mean_score and c <= p.mean_cost and (s > p.mean_score or c < p.mean_cost)
                       for s, c in pts)
    assert "oracle" in ev.table()


def test_evaluate_layouts_rows_and_columns(avengers, r, fx, monkeypatch):
    te = np.nonzero(fx.test)[0]
    base = r.evaluate(fx.emb[te], fx.scores[te], fx.costs[te], alphas=[0.3, 0.9])
    # float64 scores/costs are passed as AV_VALUES_F64 without copying
    s64, c64 = fx.scores[te].astype(np.float64), fx.costs[te].astype(np.float64)
    seen = []
    real = avengers._native.av_eval_run
    monkeypatch.setattr(avengers._native, "av_eval_run", lambda *a: (seen.append(a[2]._obj.scores), real(*a))[1])
    ev64 = r.evaluate(fx.emb[te], s64, c64, alphas=[0.3, 0.9])
    assert seen[-1] == s64.ctypes.data
    assert [p.mean_score for p in ev64.points] == pytest.approx([p.mean_score for p in base.points])
    # permuted columns named by models: the same figures
    perm = np.arange(9)[::-1]
    evp = r.evaluate(fx.emb[te], fx.scores[te][:, perm], fx.costs[te][:, perm],
                     models=[fx.models[i] for i in perm], alphas=[0.3, 0.9])
    assert [p.mean_score for p in evp.points] == [p.mean_score for p in base.points]
    # a subset of rows == the evaluation of those rows
    sub = r.evaluate(fx.emb, fx.scores, fx.costs, rows=te, alphas=[0.3, 0.9])
    assert [p.total_cost for p in sub.points] == pytest.approx([p.total_cost for p in base.points])
    auc = r.subset_auc(fx.emb, fx.scores, fx.costs, te)
    assert auc == pytest.approx(r.evaluate(fx.emb, fx.scores, fx.costs, rows=te).metrics["auc"])
    with pytest.raises(avengers.ModelError):
        r.evaluate(fx.emb[te], fx.scores[te], fx.costs[te], models=["x"] * 9)
    with pytest.raises(avengers.RangeError):
        r.evaluate(fx.emb, fx.scores, fx.costs, rows=[len(fx.emb)])


def test_route_ex(avengers, r, fx):
    for a in (0.0, 0.4, 1.0):
        for i in range(0, len(fx.emb), 97):
            assert r.route_ex(fx.emb[i], a).model == r.route(fx.emb[i], a)
    q = fx.emb[3]
    e = r.route_ex(q, 0.6, explain=True)
    assert e.model == r.route(q, 0.6) == e.ranked[0] == int(np.argmax(e.model_scores))
    assert list(e.ranked_scores) == sorted(e.ranked_scores, reverse=True)
    # the clusters used are the top-p by dot product with the normalised query (numpy)
    C = r.centroids().astype(np.float64)
    sims = C @ (q / np.linalg.norm(q))
    assert set(e.clusters) == set(np.argsort(-sims)[:r.top_p])
    assert e.best_similarity == pytest.approx(sims.max(), abs=1e-5)
    # masks: by names and by booleans
    assert r.route_ex(q, 0.6, model_mask=["qwen2.5-7b-instruct"]).model == r.model_index("qwen2.5-7b-instruct")
    mask = [False] * 9
    mask[4] = True
    assert r.route_ex(q, 0.6, model_mask=mask).model == 4
    with pytest.raises(avengers.NoModelError):
        r.route_ex(q, 0.6, model_mask=[False] * 9).model
    with pytest.raises(avengers.NoModelError):
        r.route_ex(q, 0.6, max_expected_cost=0.0).model
    with pytest.raises(avengers.MismatchError):
        r.route_ex(q, 0.6, embedder_id="another-embedder").model
    assert r.route_ex(q, 0.6, embedder_id="tfidf-svd384").model == e.model
    # exploration is a function of its seed
    assert r.route_ex(q, 0.6, explore_seed=9).model == r.route_ex(q, 0.6, explore_seed=9).model


def test_route_ex_returns_one_type(avengers, r, fx):
    q = fx.emb[5]
    plain, explained = r.route_ex(q, 0.3), r.route_ex(q, 0.3, explain=True)
    assert type(plain) is type(explained) is avengers.RouteResult is avengers.RouteExplanation
    assert plain.model == explained.model == r.route(q, 0.3)
    assert plain.model_name == r.models[plain.model] and r.models[plain] == plain.model_name
    assert int(plain) == plain.model and plain.n_models == r.n_models
    assert len(plain.expected_score) == len(plain.expected_cost) == r.n_models
    assert len(plain.clusters) == len(plain.cluster_weights) == len(plain.cluster_support) == r.top_p
    assert list(plain.ranked) == list(explained.ranked)


def test_floats_reported_as_given(avengers, r, fx):
    # alphas travel as float32: reported back as the numbers the caller wrote
    given = [0.0, 0.22, 0.7, 0.95, 1e-3, 1.0]
    te = fx.test
    ev = r.evaluate(fx.emb[te], fx.scores[te], fx.costs[te], alphas=given)
    assert [p.alpha for p in ev.points] == given and list(ev.alphas) == given
    assert all(a in given for kind, a in ev.frontier if kind == "router")
    assert repr(ev.points[1].alpha) == "0.22"
    assert avengers._args.float32_as_given(np.float32(0.1)) == 0.1
    assert np.isnan(avengers._args.float32_as_given(float("nan")))
    r2 = fit_fixture(avengers, fx, k=8, n_init=1)
    r2.set_estimator(temperature=0.07)
    assert r2.estimator["temperature"] == 0.07
    a = r2.alpha_for_budget(1.0, n_grid=101)  # a grid point k/100, reported as such
    assert a == round(a, 2)
    r2.close()


def test_estimator_budget_and_feedback(avengers, fx):
    r = fit_fixture(avengers, fx, k=8, n_init=1)
    est = r.estimator
    assert est["kappa"] == 0 and est["weighting"] == "hard" and not est["guard"]
    r.set_estimator(kappa=4.0)
    assert r.estimator["kappa"] == 4.0 and r.estimator["weighting"] == "hard"
    assert "kappa" not in r.metadata  # a typed setting of the file, not a metadata string
    r.set_estimator(kappa=0.0)
    # expected mean over given queries and their costs == numpy over the routed picks
    te = np.nonzero(fx.test)[0]
    pick = r.route_batch(fx.emb[te], 0.5)
    ms, mc = r.expected_mean(0.5, fx.emb[te], fx.scores[te], fx.costs[te])
    i = np.arange(len(te))
    assert ms == pytest.approx(fx.scores[te][i, pick].mean(), rel=1e-6)
    assert mc == pytest.approx(fx.costs[te][i, pick].astype(np.float64).mean(), rel=1e-6)
    # the budget's alpha: within budget, and no grid alpha within budget expects a better score
    grid = [g / 100 for g in range(101)]  # the alphas come back as written
    em = {g: r.expected_mean(g) for g in grid}
    budget = em[grid[70]][1] * (1 + 1e-9)  # off the plateau edge: rounding cannot flip it
    a = r.alpha_for_budget(budget, n_grid=101)
    assert a in em and em[a][1] <= budget
    assert all(em[g][0] <= em[a][0] for g in grid if em[g][1] <= budget)
    with pytest.raises(avengers.NoModelError):
        r.alpha_for_budget(0.0)
    # the accuracy's alpha: reaches the target, and no grid alpha reaching it is cheaper
    target = em[grid[60]][0]
    b = r.alpha_for_accuracy(target, n_grid=101)
    assert em[b][0] >= target
    assert all(em[g][1] >= em[b][1] for g in grid if em[g][0] >= target)
    # profile_update_ex: weight 2 adds two outcomes to the nearest cluster
    C = r.centroids().astype(np.float64)
    q = fx.emb[0]
    j = int(np.argmax(C @ (q / np.linalg.norm(q))))
    n0 = r.cluster_stats(j, 2)[0]
    r.profile_update(q, 2, 1.0, 0.001, weight=2.0)
    assert r.cluster_stats(j, 2)[0] == n0 + 2
    r.close()


def test_add_model_merge_convert(avengers, fx):
    r = fit_fixture(avengers, fx, k=8, n_init=1)
    twin = avengers.Router.from_bytes(r.to_bytes())
    before = [r.cluster_stats(j, i) for j in range(8) for i in range(9)]
    r.merge(twin)
    after = [r.cluster_stats(j, i) for j in range(8) for i in range(9)]
    assert all(a == (2 * b[0], 2 * b[1], 2 * b[2]) for a, b in zip(after, before))
    other = fit_fixture(avengers, fx, k=8, n_init=1, seed=99)
    with pytest.raises(avengers.MismatchError):
        r.merge(other)
    assert len(r.centroid_hash) == 16 and "centroid_hash" not in r.metadata
    assert r.centroid_hash != other.centroid_hash
    i = r.add_model("new-model", 0.9, 0.0001, 5.0)
    assert i == 9 and r.models[-1] == "new-model" and r.n_models == 10
    assert r.cluster_stats(3, "new-model") == pytest.approx((5.0, 4.5, 0.0005))
    assert 0 <= r.route(fx.emb[0], 0.5) < 10
    with pytest.raises(avengers.InvalidArgument):
        r.add_model("new-model", 0.5, 0.1)
    # compact centroids
    assert other.centroid_type == "f32"
    f16 = other.convert("f16")
    assert f16.centroid_type == "f16" and other.centroid_type == "f32"
    agree = (f16.route_batch(fx.emb, 0.5) == other.route_batch(fx.emb, 0.5)).mean()
    assert agree >= 0.99
    with pytest.raises(avengers.NotSupported):
        f16.convert("int8")
    for x in (r, twin, other, f16):
        x.close()


def test_fit_with_tuning(avengers, fx):
    with avengers.Builder(fx.emb.shape[1], fx.models) as b:
        b.add_many(fx.emb[fx.train], fx.scores[fx.train], fx.costs[fx.train])
        r = b.fit(n_clusters=8, n_init=1, tune=dict(n_clusters=[4, 8], top_p=[1, 2], n_folds=2,
                                                    n_init=1, n_alphas=5))
        assert np.isfinite(b.tune_best_auc)
        # the winner's AUC is the router's metadata (options are inputs only since 1.0)
        assert b.tune_best_auc == float(r.metadata["tuned_cv_auc"])
        assert r.n_clusters in (4, 8) and r.top_p in (1, 2)
        assert any(k.startswith("tuned") for k in r.metadata)
        with pytest.raises(TypeError):
            b.fit(tune=dict(bogus=1))
    r.close()


def test_normalisation_options(avengers, fx):
    r = fit_fixture(avengers, fx, k=10, n_init=1)
    assert r.estimator["normalisation"] == "cluster"
    paper = r.route_batch(fx.emb, 0.5)
    glob = np.array([r.route_ex(e, 0.5, normalisation="global").model for e in fx.emb])
    assert all(r.route_ex(fx.emb[i], 0.5, normalisation="cluster").model == paper[i] for i in range(0, 1200, 50))
    assert (glob != paper).any(), "global normalisation changed no decision: the option had no effect"
    r.set_estimator(normalisation="global")  # the router's default: av_route follows it
    assert r.estimator["normalisation"] == "global"
    assert (r.route_batch(fx.emb, 0.5) == glob).all()
    r.close()


def test_safety_explained(avengers, r, fx):
    """The safe deviation: the explanation's baseline is the best single model by the router's
    global utility at that alpha (computed here from the cluster statistics), the gain's lower
    bound is the gain minus safety times a positive error, and +inf routes every query to the
    baseline."""
    stats = np.array([[r.cluster_stats(j, i) for i in range(r.n_models)]
                      for j in range(r.n_clusters)])  # (k, m, 3): count, score sum, cost sum
    gp = stats[:, :, 1].sum(0) / stats[:, :, 0].sum(0)
    gq = stats[:, :, 2].sum(0) / stats[:, :, 0].sum(0)
    p = (gp - gp.min()) / (gp.max() - gp.min())
    c = 1 - (gq - gq.min()) / (gq.max() - gq.min())
    deviated = 0
    for a in (0.0, 0.5, 1.0):
        u = a * p + (1 - a) * c
        best = max(range(len(u)), key=lambda i: (u[i], -gq[i], -i))
        for i in range(0, len(fx.emb), 53):
            e = r.route_ex(fx.emb[i], a, safety=1.0)
            assert e.baseline == best
            assert e.deviated == (e.model != best)
            assert len(e.expected_score_se) == r.n_models and (e.expected_score_se > 0).all()
            if e.deviated:
                deviated += 1
                assert e.gain_lcb > 0 and e.gain > e.gain_lcb
            assert r.route_ex(fx.emb[i], a, safety=float("inf")).model == best
            assert r.route_ex(fx.emb[i], a, safety=0.0).model == r.route(fx.emb[i], a)
    assert deviated > 0  # the real fixture has clusters where the evidence is strong enough
    with pytest.raises(avengers.InvalidArgument):
        r.route_ex(fx.emb[0], 0.5, safety=-1.0)


def test_safety_setting(avengers, fx):
    b = avengers.Builder(fx.emb.shape[1], fx.models)
    b.add_many(fx.emb[fx.train], fx.scores[fx.train], fx.costs[fx.train])
    r = b.fit(n_clusters=8, top_p=2, n_init=1, seed=3)
    assert r.estimator["safety"] == 0.0
    r.set_estimator(safety=float("inf"))
    assert r.estimator["safety"] == float("inf")
    q = fx.emb[fx.test][:50]
    assert all(r.route(x, 1.0) == r.route_ex(x, 1.0).baseline for x in q)
    r2 = avengers.Router.from_bytes(r.to_bytes())
    assert r2.estimator["safety"] == float("inf")
    assert [r2.route(x, 0.3) for x in q] == [r.route(x, 0.3) for x in q]


def test_alpha_for_share(avengers, r, fx):
    """The calibrated alpha gives the set at least the share asked for, on the replay rows, and
    the alpha one grid step below gives less (the smallest such alpha); both counted here with
    route()."""
    te = fx.emb[fx.test]
    strong = ["llama-3.1-nemotron-51b-instruct"]
    i = r.model_index(strong[0])
    for share in (0.2, 0.4):
        a, got = r.alpha_for_share(strong, share, embeddings=te, n_grid=21)
        routed = np.mean([r.route(x, a) == i for x in te])
        assert got == pytest.approx(routed) and routed >= share
        if a > 0:
            below = np.float32(np.float64(a) - 0.05)
            assert np.mean([r.route(x, below) == i for x in te]) < share
    # a share no alpha reaches: the alpha whose share is the closest, the largest on the grid
    a, got = r.alpha_for_share(strong, 0.95, embeddings=te, n_grid=21)
    shares = [np.mean([r.route(x, np.float32(g / 20)) == i for x in te]) for g in range(21)]
    assert got < 0.95 and got == pytest.approx(max(shares))
    with pytest.raises(avengers.InvalidArgument):
        r.alpha_for_share(strong, 1.5)
