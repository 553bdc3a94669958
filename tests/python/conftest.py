"""Shared fixtures: the binding from the build tree, the llm9 fixture, a router trained on it."""
import os
import sys

import numpy as np
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
sys.path.insert(0, os.path.dirname(__file__))

DATA = os.path.join(ROOT, "tests", "data", "llm9")


class Fixture:
    def __init__(self):
        self.emb = np.load(os.path.join(DATA, "emb.npy"))
        self.scores = np.load(os.path.join(DATA, "scores.npy"))
        self.costs = np.load(os.path.join(DATA, "costs.npy"))
        self.split = np.load(os.path.join(DATA, "split.npy"))
        with open(os.path.join(DATA, "models.txt")) as f:
            self.models = [line.strip() for line in f if line.strip()]
        self.train = self.split == 1
        self.test = ~self.train


@pytest.fixture(scope="session")
def fx():
    return Fixture()


@pytest.fixture(scope="session")
def avengers():
    import avengers as av

    return av


def fit_fixture(av, fx, k=20, n_init=2, seed=7, **kw):
    with av.Builder(fx.emb.shape[1], fx.models) as b:
        b.add_many(fx.emb[fx.train], fx.scores[fx.train], fx.costs[fx.train])
        return b.fit(n_clusters=k, n_init=n_init, seed=seed, **kw)


@pytest.fixture(scope="session")
def router(avengers, fx):
    r = fit_fixture(avengers, fx)
    yield r
    r.close()
