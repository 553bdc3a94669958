"""The text example (examples/python/route_text.py, `make demo-text`): the saved embedder embeds as
scikit-learn's pipeline does, the routed model is what the library decides on the same embedding
(after the same feedback), and the updated router it saves loads and holds that feedback."""
import gzip
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

EX = os.path.join(ROOT, "examples", "python")
sys.path.insert(0, EX)
from text_embedder import TextEmbedder  # noqa: E402

QUESTIONS = ["How many prime numbers are there below 100?",
             "Write a Python function that reverses a linked list.",
             "What is the capital of France?",
             "Solve for x: 3x + 7 = 22"]


def test_embedder_matches_sklearn(tmp_path):
    sklearn = pytest.importorskip("sklearn")  # noqa: F841
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = ["the cat sat on the mat", "a dog sat on the log", "the cat and the dog",
             "prime numbers below one hundred", "how many prime numbers", "the log of a number",
             "reverse a linked list in python", "python list of numbers", "a cat, a dog, a log"]
    emb = TextEmbedder.fit(texts, dim=4, seed=0)
    path = str(tmp_path / "e.npz")
    emb.save(path)
    with np.load(path, allow_pickle=False) as z:  # plain arrays only
        assert all(z[k].dtype != object for k in z.files)
    loaded = TextEmbedder.load(path)
    tf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_features=20000)
    X = tf.fit_transform(texts)
    svd = TruncatedSVD(n_components=4, n_iter=7, random_state=0).fit(X)
    queries = ["the cat sat with a dog", "how many numbers", "Python, the list!", "zzz unknown"]
    want = svd.transform(tf.transform(queries))
    norms = np.linalg.norm(want, axis=1, keepdims=True)
    want = want / np.where(norms > 0, norms, 1)
    got = loaded.transform(queries)
    # components are kept as float32 (as saved); the SVD's sign and basis are the same fit's
    assert np.allclose(got, want, atol=1e-5), (got, want)
    assert not got[3].any()  # no known term: a zero row, which the library refuses


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    pytest.importorskip("sklearn")
    d = str(tmp_path_factory.mktemp("demo-text"))
    p = subprocess.run([sys.executable, os.path.join(EX, "make_text_router.py"), "--out-dir", d,
                        "--dim", "48", "--clusters", "16", "--n-init", "1"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return d


def test_route_text_decides_as_the_library(avengers, demo):
    out = os.path.join(demo, "updated.avr")
    p = subprocess.run([sys.executable, os.path.join(EX, "route_text.py"), "--demo", demo,
                        "--alpha", "0.6", "--json", "--out", out, *QUESTIONS],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    lines = [json.loads(l) for l in p.stdout.splitlines()]
    assert [l["question"] for l in lines] == QUESTIONS
    # replay: the same embedding routed by the library, then the same feedback, question by
    # question (each decision sees the feedback of the ones before)
    emb = TextEmbedder.load(os.path.join(demo, "embedder-text.npz"))
    r = avengers.Router.load(os.path.join(demo, "router-text.avr"))
    assert r.metadata["embedder_id"] == emb.id == "tfidf-svd48-text"
    replay = avengers.load_replay(os.path.join(ROOT, "examples", "data", "llmrouter9",
                                               "data.jsonl.gz"))
    bundled = np.load(os.path.join(demo, "text-queries-emb.npy"))
    with gzip.open(os.path.join(ROOT, "examples", "data", "llmrouter9", "data.jsonl.gz"), "rt") as f:
        ids = [json.loads(l)["id"] for l in f]
    for line, e in zip(lines, emb.transform(QUESTIONS)):
        m = r.route(e, 0.6)
        assert line["model"] == m and line["model_name"] == r.models[m]
        # the simulation's outcome: the routed model's on the nearest bundled query
        near = int(np.argmax(bundled @ e))
        assert line["nearest_id"] == ids[near]
        c = replay.models.index(r.models[m])
        assert line["score"] == float(replay.scores[near, c])
        assert line["cost"] == float(replay.costs[near, c])
        r.profile_update(e, m, line["score"], line["cost"])
    # the saved router loads and is the router with that feedback
    saved = avengers.Router.load(out)
    assert saved.to_bytes() == r.to_bytes()
    total = lambda x: sum(x.cluster_stats(j, i)[0] for j in range(x.n_clusters)
                          for i in range(x.n_models))
    assert total(saved) == total(avengers.Router.load(os.path.join(demo, "router-text.avr"))) + 4


def test_route_text_reads_stdin(demo):
    p = subprocess.run([sys.executable, os.path.join(EX, "route_text.py"), "--demo", demo,
                        "--out", os.path.join(demo, "stdin.avr")],
                       input="What is 2 + 2?\n\n", capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "routed to" in p.stdout and "SIMULATED call" in p.stdout
    assert os.path.exists(os.path.join(demo, "stdin.avr"))
