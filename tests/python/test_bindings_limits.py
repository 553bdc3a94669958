"""Arguments the C API cannot represent are refused before the call, never wrapped or cut.

ctypes converts a Python int modulo 2**bits and C strings end at the first NUL; in 0.2.0
``profile_update(q, 2**32 + 1, ...)`` updated model 1, ``cluster_stats(2**64, 0)`` read cluster
0, ``top_p = 2**32 + 2`` set 2, ``model_mask=[-1]`` allowed the last model and
``save("a.avr\\0.bak")`` wrote ``a.avr``. Each case here checks the exception type and that the
router (or the file system) is unchanged. Invalid names reach the library, which refuses them
with AV_EINVAL (InvalidArgument); names the library returns are decoded without ever raising.
"""
import ctypes
import os

import numpy as np
import pytest

from conftest import fit_fixture

BIG32 = 2 ** 32
BIG64 = 2 ** 64


@pytest.fixture
def r(avengers, router):
    """An independent copy of the session router (tests may try to change it)."""
    with avengers.Router.from_bytes(router.to_bytes()) as copy:
        yield copy


def snapshot(r):
    """Everything a wrapped call could have changed: statistics, top_p, metadata, models."""
    stats = np.array([[r.cluster_stats(j, i) for i in range(r.n_models)]
                      for j in range(r.n_clusters)])
    return stats, r.top_p, r.metadata, r.models, r.estimator


def assert_unchanged(before, r):
    after = snapshot(r)
    np.testing.assert_array_equal(before[0], after[0])
    assert before[1:] == after[1:]


def q(fx, i=0):
    return fx.emb[i]


# ---- integers --------------------------------------------------------------------------------
@pytest.mark.parametrize("model", [BIG32 + 1, 2 ** 31, -2 ** 31 - 1, BIG64 + 1])
def test_profile_update_model_out_of_int32(r, fx, model):
    before = snapshot(r)
    with pytest.raises(OverflowError, match="model"):
        r.profile_update(q(fx), model, score=1.0, cost=0.1)
    with pytest.raises(OverflowError, match="model"):
        r.profile_update(q(fx), model, score=1.0, cost=0.1, half_life=10)
    assert_unchanged(before, r)


def test_profile_update_rejects_float_index_and_wide_options(avengers, r, fx):
    before = snapshot(r)
    with pytest.raises(TypeError, match="model"):
        r.profile_update(q(fx), 1.5, score=1.0, cost=0.1)
    with pytest.raises(OverflowError, match="top_p"):
        r.profile_update(q(fx), 0, score=1.0, cost=0.1, top_p=BIG32 + 1)
    with pytest.raises(OverflowError, match="weighting"):
        r.profile_update(q(fx), 0, score=1.0, cost=0.1, top_p=2, weighting=BIG32 + 1)
    with pytest.raises(ValueError, match="weighting"):
        r.profile_update(q(fx), 0, score=1.0, cost=0.1, top_p=2, weighting="sofmax")
    # a negative index that fits int32_t is the library's to refuse, as before
    with pytest.raises(avengers.ModelError):
        r.profile_update(q(fx), -1, score=1.0, cost=0.1)
    assert_unchanged(before, r)


@pytest.mark.parametrize("cluster,model", [(BIG64, 0), (0, BIG64), (-1, 0), (0, -1), (BIG64 + 3, 1)])
def test_cluster_stats_out_of_size_t(r, cluster, model):
    with pytest.raises(OverflowError):
        r.cluster_stats(cluster, model)


def test_centroid_out_of_size_t(r):
    with pytest.raises(OverflowError, match="cluster"):
        r.centroid(BIG64)
    with pytest.raises(OverflowError, match="cluster"):
        r.centroid(-1)


@pytest.mark.parametrize("value", [BIG32 + 2, -1, BIG64])
def test_top_p_setter_out_of_uint32(r, value):
    before = snapshot(r)
    with pytest.raises(OverflowError, match="top_p"):
        r.top_p = value
    assert_unchanged(before, r)


def test_integers_only(avengers, r, fx):
    before = snapshot(r)
    with pytest.raises(TypeError, match="top_p"):
        r.top_p = 2.5  # 0.2.0: int(2.5), top_p 2
    assert_unchanged(before, r)
    # numpy integers of any width are integers
    with fit_fixture(avengers, fx, k=np.uint32(4), n_init=np.int64(1), seed=np.uint64(2 ** 63),
                     top_p=np.int32(2)) as r1:
        assert r1.n_clusters == 4 and r1.top_p == 2
        r1.top_p = np.uint8(3)
        assert r1.top_p == 3
        with pytest.raises(TypeError, match="top_p"):
            r1.top_p = np.float32(2)
        assert r1.top_p == 3


@pytest.fixture(scope="module")
def small_builder(avengers, fx):
    b = avengers.Builder(fx.emb.shape[1], fx.models)
    rows = np.flatnonzero(fx.train)[:200]
    b.add_many(fx.emb[rows], fx.scores[rows], fx.costs[rows])
    yield b
    b.close()


@pytest.mark.parametrize("option,value", [
    ("n_clusters", BIG32 + 2), ("top_p", BIG32 + 1), ("n_init", BIG32 + 1), ("max_iter", BIG32 + 5),
    ("members", BIG32 + 1), ("verbose", BIG32), ("seed", -1), ("seed", BIG64), ("n_clusters", -2),
    ("centroid_type", BIG32 + 1)])
def test_fit_options_out_of_range(small_builder, option, value):
    kw = dict(n_clusters=2, n_init=1, max_iter=5)
    kw[option] = value
    with pytest.raises(OverflowError, match=option):
        small_builder.fit(**kw)
    assert small_builder.inertia is None  # no fit ran


def test_fit_options_reject_floats_and_unknown_names(small_builder):
    with pytest.raises(TypeError, match="n_clusters"):
        small_builder.fit(n_clusters=2.7, n_init=1)
    with pytest.raises(ValueError, match="centroid_type"):
        small_builder.fit(n_clusters=2, n_init=1, centroid_type="f8")
    assert small_builder.inertia is None


@pytest.mark.parametrize("tune", [
    {"n_clusters": [2, BIG32 + 2]}, {"top_p": [-1]}, {"members": [BIG32 + 1]},
    {"n_clusters": [2], "n_folds": BIG32 + 3}, {"n_clusters": [2], "n_alphas": -1},
    {"n_clusters": [2], "n_init": BIG32 + 1}, {"n_clusters": [2], "guard": BIG32 + 1},
    {"n_clusters": [2], "global_normalisation": BIG32 + 1}])
def test_tune_options_out_of_range(small_builder, tune):
    with pytest.raises(OverflowError, match="tune"):
        small_builder.fit(n_clusters=2, n_init=1, max_iter=5, tune=tune)
    assert small_builder.inertia is None


def test_tune_lists_reject_floats(small_builder):
    with pytest.raises(TypeError, match="n_clusters"):
        small_builder.fit(n_clusters=2, n_init=1, tune={"n_clusters": [2.5, 3]})


@pytest.mark.parametrize("mask", [[-1], [0, -1], [9], [BIG32], ["gemma-2-9b-it", -9]])
def test_route_ex_mask_index_out_of_range(avengers, r, fx, mask):
    assert r.n_models == 9
    with pytest.raises(avengers.ModelError, match="model_mask"):
        r.route_ex(q(fx), 0.5, model_mask=mask).model


def test_route_ex_mask_forms(avengers, r, fx):
    # booleans must be one per model; they cannot be mixed with indices
    with pytest.raises(ValueError, match="9 models"):
        r.route_ex(q(fx), 0.5, model_mask=[True] * 8).model
    with pytest.raises(ValueError, match="9 models"):
        r.route_ex(q(fx), 0.5, model_mask=np.ones(10, dtype=bool)).model
    with pytest.raises(TypeError, match="mixes"):
        r.route_ex(q(fx), 0.5, model_mask=[True, 3]).model
    with pytest.raises(TypeError):
        r.route_ex(q(fx), 0.5, model_mask=[1.0]).model
    # the valid forms still work and agree
    only = [False] * 9
    only[6] = True
    assert r.route_ex(q(fx), 0.5, model_mask=only).model == 6
    assert r.route_ex(q(fx), 0.5, model_mask=np.array(only)).model == 6
    assert r.route_ex(q(fx), 0.5, model_mask=[6]).model == 6
    assert r.route_ex(q(fx), 0.5, model_mask=[r.models[6]]).model == 6
    assert r.route_ex(q(fx), 0.5, model_mask=r.models[6]).model == 6


@pytest.mark.parametrize("option,value,exc", [
    ("top_p", BIG32 + 1, OverflowError), ("top_p", -1, OverflowError),
    ("weighting", BIG32 + 1, OverflowError), ("weighting", "hardest", ValueError),
    ("normalisation", BIG32 + 2, OverflowError), ("normalisation", "local", ValueError),
    ("explore_seed", -1, OverflowError), ("explore_seed", BIG64, OverflowError)])
def test_route_ex_options_out_of_range(r, fx, option, value, exc):
    with pytest.raises(exc, match=option):
        r.route_ex(q(fx), 0.5, **{option: value}).model


@pytest.mark.parametrize("option,value", [("weighting", BIG32 + 1), ("normalisation", BIG32 + 1)])
def test_set_estimator_out_of_range(r, option, value):
    before = snapshot(r)
    with pytest.raises(OverflowError, match=option):
        r.set_estimator(**{option: value})
    assert_unchanged(before, r)


def test_budget_n_grid_out_of_range(r):
    with pytest.raises(OverflowError, match="n_grid"):
        r.alpha_for_budget(1.0, n_grid=BIG32 + 11)
    with pytest.raises(OverflowError, match="n_grid"):
        r.alpha_for_accuracy(0.1, n_grid=-1)


def test_evaluate_rows_and_top_p(r, fx):
    e, s, c = fx.emb[fx.test], fx.scores[fx.test], fx.costs[fx.test]
    with pytest.raises(OverflowError, match="top_p"):
        r.evaluate(e, s, c, top_p=BIG32 + 1)
    with pytest.raises(OverflowError, match="rows"):
        r.evaluate(e, s, c, rows=[0, -1])
    with pytest.raises(OverflowError, match="rows"):
        r.evaluate(e, s, c, rows=np.array([-3], dtype=np.int64))
    with pytest.raises(TypeError, match="rows"):
        r.evaluate(e, s, c, rows=np.ones(len(e), dtype=bool))  # not indices 0 and 1
    with pytest.raises(TypeError, match="rows"):
        r.evaluate(e, s, c, rows=[0.5, 1.5])
    with pytest.raises(OverflowError, match="rows"):
        r.subset_auc(e, s, c, rows=[-1])
    with pytest.raises(OverflowError, match="rows"):
        r.subset_auc(e, s, c, rows=[BIG64])
    # valid rows still work, from lists and from unsigned arrays
    a = r.evaluate(e, s, c, rows=[0, 1, 2], alphas=[0.5])
    b = r.evaluate(e, s, c, rows=np.array([0, 1, 2], dtype=np.uint32), alphas=[0.5])
    assert a.n_rows == b.n_rows == 3 and a.points == b.points


def test_convert_and_strerror_out_of_range(avengers, r):
    with pytest.raises(OverflowError, match="centroid_type"):
        r.convert(BIG32 + 1)
    with pytest.raises(ValueError, match="centroid_type"):
        r.convert("f8")
    with pytest.raises(OverflowError, match="code"):
        avengers.strerror(BIG32 - 1)  # would be -1, "invalid argument"


def test_builder_dim_and_from_parts_top_p(avengers, fx):
    with pytest.raises(OverflowError, match="dim"):
        avengers.Builder(BIG64 + fx.emb.shape[1], fx.models)
    with pytest.raises(OverflowError, match="dim"):
        avengers.Builder(-1, fx.models)
    C = np.eye(2, dtype=np.float32)
    cnt = np.ones((2, 2))
    with pytest.raises(OverflowError, match="top_p"):
        avengers.Router.from_parts(C, cnt, cnt, cnt, ["a", "b"], top_p=BIG32 + 1)


# ---- strings -----------------------------------------------------------------------------------
def test_save_and_load_path_with_nul(avengers, r, tmp_path):
    target = str(tmp_path / "a.avr\0.bak")
    with pytest.raises(ValueError, match="NUL"):
        r.save(target)
    assert os.listdir(tmp_path) == []  # no a.avr (nor its temporary file)
    r.save(tmp_path / "a.avr")
    with pytest.raises(ValueError, match="NUL"):
        avengers.Router.load(str(tmp_path / "a.avr") + "\0junk")
    with pytest.raises(ValueError, match="NUL"):
        avengers.Router.load(os.fsencode(tmp_path / "a.avr") + b"\0junk")


def test_metadata_with_nul(r):
    before = snapshot(r)
    with pytest.raises(ValueError, match="key"):
        r.set_meta("note\0hidden", "v")
    with pytest.raises(ValueError, match="value"):
        r.set_meta("note", "visible\0hidden")
    with pytest.raises(ValueError, match="key"):
        r.set_meta(b"note\0", b"v")
    assert_unchanged(before, r)
    assert "note" not in r.metadata


def test_model_names_with_nul(avengers, r, fx):
    before = snapshot(r)
    name = r.models[1]
    with pytest.raises(ValueError, match="NUL"):
        r.model_index(name + "\0junk")  # 0.2.0: found model 1
    with pytest.raises(ValueError, match="NUL"):
        r.profile_update(q(fx), name + "\0junk", score=1.0, cost=0.1)
    with pytest.raises(ValueError, match="NUL"):
        r.cluster_stats(0, name + "\0")
    with pytest.raises(ValueError, match="NUL"):
        r.route_ex(q(fx), 0.5, model_mask=[name + "\0"]).model
    with pytest.raises(ValueError, match="NUL"):
        r.add_model("newcomer\0junk", 0.5, 0.01)
    with pytest.raises(ValueError, match="NUL"):
        r.route_ex(q(fx), 0.5, embedder_id="tfidf\0junk").model
    with pytest.raises(ValueError, match="NUL"):
        r.evaluate(fx.emb[:5], fx.scores[:5], fx.costs[:5],
                   models=[m + "\0x" if i == 0 else m for i, m in enumerate(r.models)])
    assert_unchanged(before, r)


def test_builder_and_parts_names_with_nul(avengers, fx, small_builder):
    with pytest.raises(ValueError, match="model name 1"):
        avengers.Builder(4, ["a", "b\0c"])
    with pytest.raises(ValueError, match="model name"):
        avengers.Builder(4, [b"a\0", b"b"])
    C = np.eye(2, dtype=np.float32)
    cnt = np.ones((2, 2))
    with pytest.raises(ValueError, match="model name 0"):
        avengers.Router.from_parts(C, cnt, cnt, cnt, ["a\0x", "b"], top_p=1)
    with pytest.raises(ValueError, match="embedder_id"):
        small_builder.fit(n_clusters=2, n_init=1, embedder_id="tfidf\0svd")
    assert small_builder.inertia is None


def test_types_are_checked(avengers, r):
    with pytest.raises(TypeError):
        r.set_meta(1, "v")
    with pytest.raises(TypeError):
        r.add_model(None, 0.5, 0.01)


# ---- names that are not valid UTF-8, or hold control characters --------------------------------
def _library_refuses_bad_names():
    """True once libavengers refuses a model name that is not UTF-8 (the library change this
    binding relies on); probed with a raw C call so that the binding plays no part."""
    from avengers import _native

    h = ctypes.c_void_p()
    names = (ctypes.c_char_p * 1)(b"caf\xe9")
    rc = _native.lib.av_builder_new(ctypes.byref(h), 4, 1, names)
    if rc == 0:
        _native.lib.av_builder_free(h)
    return rc < 0


needs_name_checks = pytest.mark.skipif(not _library_refuses_bad_names(),
                                       reason="this libavengers still accepts names that are not "
                                              "UTF-8 (library change pending)")

BAD_NAMES = [b"caf\xe9", "caf\udce9", "tab\there", "bell\x07", b"\xff\xfe", "\ud800x"]


@needs_name_checks
@pytest.mark.parametrize("bad", BAD_NAMES)
def test_bad_model_name_is_the_library_error(avengers, bad):
    with pytest.raises(avengers.InvalidArgument):
        avengers.Builder(4, ["ok", bad])


@needs_name_checks
@pytest.mark.parametrize("bad", BAD_NAMES)
def test_bad_metadata_and_added_name_are_the_library_error(avengers, r, bad):
    before = snapshot(r)
    with pytest.raises(avengers.InvalidArgument):
        r.set_meta(bad, "v")
    if bad != "tab\there":  # values may hold tab, line feed and carriage return
        with pytest.raises(avengers.InvalidArgument):
            r.set_meta("note", bad)
    with pytest.raises(avengers.InvalidArgument):
        r.add_model(bad, 0.5, 0.01)
    assert_unchanged(before, r)


def test_names_never_raise_unicode_errors(avengers, r, fx, tmp_path):
    """Whatever the library decides about a name that is not UTF-8, the binding raises no
    UnicodeError: either the library's InvalidArgument, or the name decodes (surrogateescape)
    and maps back to the same model."""
    bad = b"caf\xe9"
    try:
        b = avengers.Builder(4, ["ok", bad])
    except avengers.InvalidArgument:
        pass
    else:
        with b:
            assert b.models == ("ok", "caf\udce9")
    try:
        i = r.add_model(bad, 0.5, 0.01)
    except avengers.InvalidArgument:
        pass
    else:
        assert r.models[i] == "caf\udce9" and r.model_index(r.models[i]) == i
    try:
        r.set_meta(bad, b"\xff")
    except avengers.InvalidArgument:
        pass
    else:
        assert r.metadata["caf\udce9"] == "\udcff"
    assert isinstance(repr(r), str)
    # valid non-ASCII names pass through unchanged, also through a file
    names = ["gpt-ü", "模型", "emoji-🙂"]
    rows = np.flatnonzero(fx.train)[:60]
    with avengers.Builder(fx.emb.shape[1], names) as b:
        b.add_many(fx.emb[rows], fx.scores[rows][:, :3], fx.costs[rows][:, :3])
        with b.fit(n_clusters=2, top_p=1, n_init=1, max_iter=5) as r1:
            assert r1.models == tuple(names)
            assert r1.model_index("模型") == 1
            r1.set_meta("note", "ünïcode ✓")
            r1.save(tmp_path / "u.avr")
    with avengers.Router.load(tmp_path / "u.avr") as r2:
        assert r2.models == tuple(names) and r2.metadata["note"] == "ünïcode ✓"
