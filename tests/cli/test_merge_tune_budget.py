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
