"""load_replay reads the files the `avengers` command reads, with its model order and rules:
checked against the command itself (a router trained by `avengers train` equals one trained from
the loader's arrays), against an independent reading of the lines with json, and on small
hand-written files (both formats, unsorted keys, nulls, errors)."""
import gzip
import json
import math
import os
import subprocess

import numpy as np
import pytest

from conftest import DATA, ROOT

CLI = os.path.join(ROOT, "build", "bin", "avengers")
JSONL = os.path.join(DATA, "data.jsonl.gz")
EMB = os.path.join(DATA, "emb.npy")


def _lines():
    with gzip.open(JSONL, "rt", encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def test_arrays_equal_an_independent_reading(avengers):
    rp = avengers.load_replay(JSONL, EMB)
    lines = _lines()
    models = sorted(lines[0]["scores"])
    assert rp.models == tuple(models) and rp.format == "avengers" and len(rp) == len(lines)
    for i in range(0, len(lines), 37):
        for j, m in enumerate(models):
            s, c = lines[i]["scores"][m], lines[i]["costs"][m]
            if s is None or c is None:
                assert math.isnan(rp.scores[i, j]) and math.isnan(rp.costs[i, j])
            else:
                assert rp.scores[i, j] == float(s) and rp.costs[i, j] == c
    assert rp.split == [l["split"] for l in lines]
    assert np.array_equal(rp.embeddings, np.load(EMB).astype(np.float32))
    assert list(rp.rows("train")) == [i for i, l in enumerate(lines) if l["split"] == "train"]


@pytest.mark.skipif(not os.path.exists(CLI), reason="the avengers command is not built")
def test_same_router_as_the_command(avengers, tmp_path):
    out = tmp_path / "cli.avr"
    p = subprocess.run([CLI, "train", "--data", JSONL, "--embeddings", EMB, "-k", "12",
                        "--n-init", "1", "--seed", "5", "-o", str(out)],
                       capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    rp = avengers.load_replay(JSONL, EMB)
    emb, sc, co = rp.select("train")
    with avengers.Builder(emb.shape[1], rp.models) as b:
        b.add_many(emb, sc, co)
        mine = b.fit(n_clusters=12, n_init=1, seed=5)
    with avengers.Router.load(str(out)) as theirs:
        assert theirs.models == mine.models == rp.models
        assert np.array_equal(theirs.centroids(), mine.centroids())
        for j in range(12):
            for i in range(len(rp.models)):
                assert theirs.cluster_stats(j, i) == mine.cluster_stats(j, i)
        assert np.array_equal(theirs.route_batch(rp.embeddings, 0.7),
                              mine.route_batch(rp.embeddings, 0.7))
    mine.close()


def test_avengerspro_format_reads_the_same(avengers, tmp_path):
    lines = _lines()[:50]
    pro = tmp_path / "pro.jsonl"
    with open(pro, "w") as f:
        for l in lines:
            f.write(json.dumps({"query": l["query"], "records": l["scores"],
                                "usages": {m: {"cost": c, "prompt_tokens": 3} for m, c in l["costs"].items()},
                                "dataset": l["benchmark"], "index": 1}) + "\n")
    a = avengers.load_replay(pro)
    b = avengers.load_replay(JSONL)
    assert a.format == "avengerspro" and a.models == b.models and a.split is None
    assert np.array_equal(a.scores, b.scores[:50], equal_nan=True)
    assert np.array_equal(a.costs, b.costs[:50], equal_nan=True)


def _write(tmp_path, rows, name="d.jsonl"):
    p = tmp_path / name
    p.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return str(p)


def test_model_order_is_sorted_not_the_line_order(avengers, tmp_path):
    p = _write(tmp_path, [{"scores": {"zeta": 1, "Alpha": 0.25, "beta": True},
                           "costs": {"zeta": 3, "Alpha": 1, "beta": 2}},
                          "",
                          {"scores": {"beta": None, "zeta": 0.5, "Alpha": False},
                           "costs": {"beta": 4, "zeta": None, "Alpha": 0}}])
    rp = avengers.load_replay(p)
    assert rp.models == ("Alpha", "beta", "zeta")  # byte order: uppercase first
    assert rp.scores[0].tolist() == [0.25, 1.0, 1.0] and rp.costs[0].tolist() == [1, 2, 3]
    # a null score or cost makes the outcome missing (both NaN), as in the command
    assert rp.scores[1, 0] == 0.0 and np.isnan(rp.scores[1, 1]) and np.isnan(rp.costs[1, 1])
    assert np.isnan(rp.scores[1, 2]) and np.isnan(rp.costs[1, 2])
    assert rp.lines.tolist() == [1, 3]


@pytest.mark.parametrize("rows, message", [
    ([{"scores": {"a": 1}, "costs": {"a": 1}}, {"scores": {"a": 1, "b": 1}, "costs": {"a": 1}}],
     ":2: unknown model 'b'"),
    ([{"scores": {"a": 1, "b": 0}, "costs": {"a": 1, "b": 1}}, {"scores": {"a": 1}, "costs": {"a": 1, "b": 1}}],
     ":2: model 'b' is missing"),
    ([{"scores": {"a": 1}, "costs": {"a": -1}}], "cost of model 'a' is negative"),
    ([{"scores": {"a": "x"}, "costs": {"a": 1}}], "score of model 'a' is not a number"),
    (['{"scores": {"a": 1}, "costs": {"a": 1e999}}'], "not a finite number"),
    (['{"scores": {"a": 1, "a": 2}, "costs": {"a": 1}}'], "appears twice"),
    (['{"scores": {"a": 1},', '"costs": {"a": 1}}'], "each line must hold one whole JSON object"),
    ([{"query": "q", "score": {"a": 1}}], "keys found: query, score"),
    ([{"scores": {"a": 1}, "costs": {"a": 1}, "split": "train"}, {"scores": {"a": 1}, "costs": {"a": 1}}],
     ":2: no \"split\""),
])
def test_refused_like_the_command(avengers, tmp_path, rows, message):
    with pytest.raises(avengers.DataError, match=message.replace("(", r"\(")):
        avengers.load_replay(_write(tmp_path, rows))


def test_any_split_name_and_selection(avengers, tmp_path):
    rows = [{"scores": {"a": 1}, "costs": {"a": 1}, "split": s} for s in ("train", "ood", "test", "ood")]
    rp = avengers.load_replay(_write(tmp_path, rows))
    assert rp.rows("ood").tolist() == [1, 3] and rp.rows("all").tolist() == [0, 1, 2, 3]


def test_embeddings_npy_gzip_raw_and_mismatch(avengers, tmp_path):
    emb = np.load(EMB)
    gz = tmp_path / "e.npy.gz"
    with open(EMB, "rb") as f, gzip.open(gz, "wb") as g:
        g.write(f.read())
    assert np.array_equal(avengers.load_embeddings(str(gz)), emb.astype(np.float32))
    raw = tmp_path / "e.f32"
    emb.astype("<f4").tofile(raw)
    assert np.array_equal(avengers.load_embeddings(str(raw), dim=emb.shape[1]), emb)
    with pytest.raises(avengers.DataError, match="check dim"):
        avengers.load_embeddings(str(raw), dim=emb.shape[1] + 1)
    with pytest.raises(avengers.DataError, match="leave out dim"):
        avengers.load_embeddings(EMB, dim=emb.shape[1])
    with pytest.raises(avengers.DataError, match="raw float32 needs dim"):
        avengers.load_embeddings(str(raw))
    np.save(tmp_path / "f.npy", np.asfortranarray(emb[:5]))
    with pytest.raises(avengers.DataError, match="Fortran"):
        avengers.load_embeddings(str(tmp_path / "f.npy"))
    np.save(tmp_path / "few.npy", emb[:5])
    with pytest.raises(avengers.DataError, match="must match row for row"):
        avengers.load_replay(JSONL, str(tmp_path / "few.npy"))
