#!/usr/bin/python3
"""Make a larger routing data set from a small one, for scaling measurements (docs/SCALING.md).

Every training row is a training row of the source, drawn uniformly with replacement (seeded),
with its embedding plus Gaussian noise (standard deviation --noise per dimension, then
L2-normalised as the source embeddings are) and the source row's scores and costs unchanged. The
source's test rows are copied once, without noise, as the test split: no test query and no noisy
copy of one is ever trained on, so the held-out figures of `avengers eval` stay honest.

    /usr/bin/python3 bench/make_rows.py --rows 100000 --out /tmp/rows100k
    avengers train --data /tmp/rows100k/data.jsonl.gz --embeddings /tmp/rows100k/emb.npy \\
        --tune -o tuned.avr

Sources: tests/data/llm9 (the default: emb.npy, scores.npy, costs.npy, split.npy and
models.txt; split 1 = train), any directory holding the same arrays, or a directory with
data.jsonl.gz (lines with "scores", "costs" and "split") and the embeddings named by
--source-emb (e.g. examples/data/llmrouter9 with emb_tfidf_svd384.npy). With --test-share S the
test rows are instead a seeded random share S of all the source's rows (the source's own test
splits are small: 77 of 1,200 rows in llm9, 381 of 5,989 in llmrouter9); with --split-seed S
they are the test part of the numpy 70/30 split of all the source's rows that bench/scaling.py's
quality mode uses with split seed S (split_70_30), and the training rows are drawn from its
training part only.
"""
import argparse
import gzip
import json
import os
import sys

import numpy as np


def load_jsonl(src, emb_name):
    models, scores, costs, split = None, [], [], []
    with gzip.open(os.path.join(src, "data.jsonl.gz"), "rt") as f:
        for line in f:
            d = json.loads(line)
            if models is None:
                models = list(d["scores"])
            scores.append([d["scores"][m] for m in models])
            costs.append([d["costs"][m] for m in models])
            split.append(1 if d.get("split", "train") == "train" else 0)
    emb = np.load(os.path.join(src, emb_name)).astype(np.float32)
    return (models, emb, np.array(scores, np.float32), np.array(costs, np.float32),
            np.array(split, np.uint8))


def load(src, emb_name):
    if not os.path.exists(os.path.join(src, "emb.npy")):
        return load_jsonl(src, emb_name)
    models = [m.strip() for m in open(os.path.join(src, "models.txt")) if m.strip()]
    emb = np.load(os.path.join(src, "emb.npy")).astype(np.float32)
    scores = np.load(os.path.join(src, "scores.npy")).astype(np.float32)
    costs = np.load(os.path.join(src, "costs.npy")).astype(np.float32)
    split = np.load(os.path.join(src, "split.npy"))
    if not (emb.shape[0] == scores.shape[0] == costs.shape[0] == split.shape[0]):
        sys.exit("%s: arrays of different lengths" % src)
    if scores.shape[1] != len(models) or costs.shape[1] != len(models):
        sys.exit("%s: models.txt names %d models, the arrays hold %d" %
                 (src, len(models), scores.shape[1]))
    return models, emb, scores, costs, split


def split_70_30(n, seed):
    """The numpy 70/30 split of n rows with this seed (tools/split_study.py's `numpy` family, as
    bench/scaling.py's quality mode uses it): (training rows, test rows), each sorted."""
    perm = np.random.default_rng(seed).permutation(n)
    cut = int(0.7 * n)
    return np.sort(perm[:cut]), np.sort(perm[cut:])


def draw(emb, train, rows, noise, seed):
    """rows noisy copies of the rows `train` of emb: (source row of each, float32 rows, each
    emb[source] plus Gaussian noise of standard deviation `noise` per dimension, L2-normalised)."""
    rng = np.random.default_rng(seed)
    src = train[rng.integers(0, train.size, rows)]
    X = emb[src] + rng.normal(0.0, noise, (rows, emb.shape[1])).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return src, X


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, required=True, help="training rows to make")
    ap.add_argument("--out", required=True, help="directory for data.jsonl.gz and emb.npy")
    ap.add_argument("--source", default="tests/data/llm9")
    ap.add_argument("--noise", type=float, default=0.01,
                    help="standard deviation of the noise per dimension (default 0.01)")
    ap.add_argument("--source-emb", default="emb_tfidf_svd384.npy",
                    help="embeddings of a data.jsonl.gz source (default emb_tfidf_svd384.npy)")
    ap.add_argument("--test-share", type=float, default=0.0,
                    help="test rows: this random share of the source rows (default: its split)")
    ap.add_argument("--split-seed", type=int,
                    help="test rows: the 30%% of the numpy 70/30 split with this seed "
                         "(bench/scaling.py --quality-rows); training rows from its 70%% only")
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    if a.rows < 1 or not 0.0 <= a.test_share < 1.0:
        sys.exit("--rows must be positive and --test-share in [0, 1)")
    if a.split_seed is not None and a.test_share > 0.0:
        sys.exit("--split-seed and --test-share both choose the test rows: give one")
    models, emb, scores, costs, split = load(a.source, a.source_emb)
    if a.split_seed is not None:
        split = np.zeros(split.size, np.uint8)
        split[split_70_30(split.size, a.split_seed)[0]] = 1
    elif a.test_share > 0.0:
        pick = np.random.default_rng(a.seed + 1).permutation(split.size)
        split = np.ones(split.size, np.uint8)
        split[pick[:int(round(a.test_share * split.size))]] = 0
    train = np.flatnonzero(split == 1)
    test = np.flatnonzero(split != 1)
    src, X = draw(emb, train, a.rows, a.noise, a.seed)
    rows = np.concatenate([src, test])
    X = np.concatenate([X, emb[test]]).astype(np.float32)
    os.makedirs(a.out, exist_ok=True)
    np.save(os.path.join(a.out, "emb.npy"), X)
    with gzip.open(os.path.join(a.out, "data.jsonl.gz"), "wt", compresslevel=1) as f:
        for i, r in enumerate(rows):
            line = {"id": "row-%d-of-%d" % (i, int(r)),
                    "scores": {m: float(scores[r, j]) for j, m in enumerate(models)},
                    "costs": {m: float(costs[r, j]) for j, m in enumerate(models)},
                    "split": "train" if i < a.rows else "test"}
            f.write(json.dumps(line) + "\n")
    print("%s: %d training rows from %d source rows (noise %g), %d test rows, dimension %d" %
          (a.out, a.rows, train.size, a.noise, test.size, X.shape[1]))


if __name__ == "__main__":
    main()
