"""`avengers merge`, `avengers train --tune` and `avengers eval --budget` end to end on the real
fixture tests/data/llm9 (run by `make check-cli-merge-tune-budget`)."""
import os
import re
import subprocess
import sys
import tempfile

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
AVENGERS = os.path.abspath(os.environ.get("AVENGERS", os.path.join(ROOT, "build", "bin", "avengers")))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
os.environ.setdefault("AVENGERS_LIB", os.path.join(ROOT, "lib", "libavengers.so"))
import avengers  # noqa: E402

FIX = os.path.join(ROOT, "tests", "data", "llm9")
DATA = ["--data", os.path.join(FIX, "data.jsonl.gz"), "--embeddings", os.path.join(FIX, "emb.npy")]
SMALL = ["-k", "8", "--top-p", "2", "--n-init", "1"]


def run(*args):
    return subprocess.run([AVENGERS, *args], capture_output=True, text=True, cwd=ROOT)


@pytest.fixture(scope="module")
def tmp():
    with tempfile.TemporaryDirectory(prefix="avengers-cli-") as d:
        yield d


@pytest.fixture(scope="module")
def base(tmp):
    path = os.path.join(tmp, "a.avr")
    p = run("train", *DATA, *SMALL, "--seed", "1", "-o", path)
    assert p.returncode == 0, p.stderr
    return path


def stats(path):
    r = avengers.Router.load(path)
    return [[r.cluster_stats(j, i) for i in range(r.n_models)] for j in range(r.n_clusters)]


def test_merge_adds(tmp, base):
    out = os.path.join(tmp, "m.avr")
    p = run("merge", base, base, base, "-o", out)
    assert p.returncode == 0, p.stderr
    assert "3 routers merged" in p.stdout
    a, m = stats(base), stats(out)
    for ra, rm in zip(a, m):
        for (n, s, c), (n3, s3, c3) in zip(ra, rm):
            assert (n3, s3, c3) == (3 * n, 3 * s, 3 * c)  # exact: integers and float32 sums
    assert avengers.Router.load(out).centroid_hash == avengers.Router.load(base).centroid_hash


def test_merge_refuses_other_centroids(tmp, base):
    other = os.path.join(tmp, "b.avr")
    assert run("train", *DATA, *SMALL, "--seed", "2", "-o", other).returncode == 0
    p = run("merge", base, other, "-o", os.path.join(tmp, "x.avr"))
    assert p.returncode == 3
    assert "centroids differ" in p.stderr
    assert not os.path.exists(os.path.join(tmp, "x.avr"))


def test_merge_usage(tmp, base):
    assert run("merge", base, "-o", os.path.join(tmp, "y.avr")).returncode == 1
    assert run("merge", base, base).returncode == 1
    assert run("merge", base, os.path.join(tmp, "missing.avr"), "-o",
               os.path.join(tmp, "y.avr")).returncode == 3


def test_train_tune_and_budget(tmp):
    out = os.path.join(tmp, "t.avr")
    p = run("train", *DATA, "--n-init", "1", "--tune", "-o", out)
    assert p.returncode == 0, p.stderr
    m = re.search(r"tuned by 5-fold cross-validation over (\d+) candidates: k (\d+), members (\d+), "
                  r"top_p (\d+)", p.stdout)
    assert m, p.stdout
    r = avengers.Router.load(out)
    k, members, top_p = int(m.group(2)), int(m.group(3)), int(m.group(4))
    assert r.n_clusters == k * members and r.members == members and r.top_p == top_p
    meta = r.metadata
    assert meta["tuned_n_clusters"] == m.group(2) and meta["tuned_members"] == m.group(3)
    assert float(meta["tuned_cv_auc"]) > 0
    # --budget: a huge budget buys the best expected score, a zero budget nothing
    p = run("eval", "--router", out, *DATA, "-q", "--budget", "1")
    assert p.returncode == 0, p.stderr
    assert re.search(r"budget 1 per query: alpha [0-9.]+ ", p.stdout), p.stdout
    p = run("eval", "--router", out, *DATA, "-q", "--budget", "0")
    assert p.returncode == 0 and "no alpha keeps the expected mean cost" in p.stdout
    assert run("eval", "--router", out, *DATA, "-q", "--budget", "-1").returncode == 1


# ---- avengers reprice ----------------------------------------------------------------------------
def model_cells(path, model):
    r = avengers.Router.load(path)
    i = r.model_index(model)
    return [r.cluster_stats(j, i) for j in range(r.n_clusters)]


def test_reprice_per_query_rescales_and_persists(tmp, base):
    import math
    out = os.path.join(tmp, "rp.avr")
    before = model_cells(base, "gemma-2-9b-it")
    mean = sum(c for _, _, c in before) / sum(n for n, _, _ in before)
    p = run("reprice", base, "--model", "gemma-2-9b-it", "--cost-per-query", "1e-4", "-o", out)
    assert p.returncode == 0, p.stderr
    factor = float(re.search(r"multiplied by (\S+)", p.stdout).group(1))
    assert math.isclose(factor, 1e-4 / mean, rel_tol=1e-12)
    assert "old price: none set" in p.stdout and "new price: 0.0001 per query" in p.stdout
    after = model_cells(out, "gemma-2-9b-it")
    for (n0, s0, c0), (n1, s1, c1) in zip(before, after):
        assert (n1, s1) == (n0, s0) and math.isclose(c1, c0 * factor, rel_tol=1e-12, abs_tol=0)
    # the other models are untouched, the input file too, and the price is in the file
    assert model_cells(out, "codegemma-7b") == model_cells(base, "codegemma-7b")
    assert model_cells(base, "gemma-2-9b-it") == before
    r = avengers.Router.load(out)
    assert r.get_price("gemma-2-9b-it") == {"unit": "per_query", "cost_per_query": 1e-4}
    assert r.get_price("codegemma-7b")["unit"] is None
    assert "price           gemma-2-9b-it: 0.0001 per query" in run("info", out).stdout
    # a second change starts from the stored price; in place without -o
    p = run("reprice", out, "--model", "gemma-2-9b-it", "--cost-per-query", "1e-5")
    assert p.returncode == 0, p.stderr
    assert "multiplied by 0.1" in p.stdout
    for (_, _, c0), (_, _, c2) in zip(after, model_cells(out, "gemma-2-9b-it")):
        assert math.isclose(c2, c0 * 0.1, rel_tol=1e-12)


def test_reprice_per_token_reads_the_token_counts(tmp, base):
    import gzip
    import json
    import math
    lines = [json.loads(l) for l in gzip.open(os.path.join(FIX, "data.jsonl.gz"), "rt")]
    mean_in = sum(l["approx_input_tokens"] for l in lines) / len(lines)
    out = os.path.join(tmp, "rt.avr")
    p = run("reprice", base, "--model", "codegemma-7b", "--input-price", "2e-7", "--data",
            os.path.join(FIX, "data.jsonl.gz"), "-o", out)
    assert p.returncode == 0, p.stderr
    got = avengers.Router.load(out).get_price("codegemma-7b")
    assert got["unit"] == "per_token" and math.isclose(got["input_tokens"], mean_in, rel_tol=1e-12)
    assert math.isclose(got["cost_per_query"], 2e-7 * mean_in, rel_tol=1e-12)
    # output tokens: the bundled data has none, so a price per output token needs them given
    p = run("reprice", base, "--model", "codegemma-7b", "--input-price", "2e-7", "--output-price",
            "1e-6", "--data", os.path.join(FIX, "data.jsonl.gz"), "-o", out)
    assert p.returncode == 2 and "no output token counts" in p.stderr
    # a file with per-model output counts
    tok = os.path.join(tmp, "tok.jsonl")
    with open(tok, "w") as f:
        f.write('{"input_tokens": 100, "output_tokens": {"codegemma-7b": 10, "x": 1}}\n\n'
                '{"input_tokens": 300, "output_tokens": {"codegemma-7b": 30}}\n')
    p = run("reprice", base, "--model", "codegemma-7b", "--input-price", "1e-6", "--output-price",
            "2e-6", "--data", tok, "-o", out)
    assert p.returncode == 0, p.stderr
    got = avengers.Router.load(out).get_price("codegemma-7b")
    assert (got["input_tokens"], got["output_tokens"]) == (200.0, 20.0)
    assert math.isclose(got["cost_per_query"], 1e-6 * 200 + 2e-6 * 20, rel_tol=1e-12)
    p = run("reprice", base, "--model", "codegemma-7b", "--input-price", "1e-6",
            "--input-tokens", "50", "--output-tokens", "5", "-o", out)
    assert p.returncode == 0, p.stderr
    assert avengers.Router.load(out).get_price("codegemma-7b")["input_tokens"] == 50.0


def test_reprice_usage_and_errors(tmp, base):
    out = os.path.join(tmp, "bad.avr")
    cases = [
        (["--model", "nope", "--cost-per-query", "1"], 1, "no model 'nope'"),
        (["--model", "codegemma-7b"], 1, "either --cost-per-query"),
        (["--model", "codegemma-7b", "--cost-per-query", "1", "--input-price", "1"], 1, "either"),
        (["--model", "codegemma-7b", "--cost-per-query", "-1"], 1, "finite number >= 0"),
        (["--model", "codegemma-7b", "--cost-per-query", "nan"], 1, "finite number >= 0"),
        (["--model", "codegemma-7b", "--input-price", "1"], 1, "needs token counts"),
        (["--model", "codegemma-7b", "--input-price", "1", "--data", os.path.join(FIX, "emb.npy")],
         2, "emb.npy"),
    ]
    for args, code, msg in cases:
        p = run("reprice", base, *args, "-o", out)
        assert p.returncode == code and msg in p.stderr, (args, p.returncode, p.stderr)
    assert not os.path.exists(out)
    p = run("reprice", os.path.join(tmp, "missing.avr"), "--model", "a", "--cost-per-query", "1")
    assert p.returncode == 3


def test_python_set_price_matches_the_command(tmp, base):
    import math
    r = avengers.Router.load(base)
    f = r.set_price("llama-3.1-8b-instruct", 3e-5)
    out = os.path.join(tmp, "cmd.avr")
    p = run("reprice", base, "--model", "llama-3.1-8b-instruct", "--cost-per-query", "3e-5", "-o", out)
    assert p.returncode == 0, p.stderr
    assert math.isclose(f, float(re.search(r"multiplied by (\S+)", p.stdout).group(1)), rel_tol=1e-15)
    assert r.to_bytes() == avengers.Router.load(out).to_bytes()
    assert r.reprice("llama-3.1-8b-instruct", input_price=1e-7, input_tokens=300) > 0
    with pytest.raises(ValueError):
        r.set_price(0)
    with pytest.raises(avengers.BadValue):
        r.set_price(0, -1.0)
    with pytest.raises(avengers.ModelError):
        r.set_price("nope", 1.0)
