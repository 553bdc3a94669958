#!/usr/bin/python3
"""Build the text demo: an embedder a user can run (TF-IDF + SVD, scikit-learn, fixed seed) fitted
on the training split of the bundled llmrouter9 queries, and a router trained with libavengers on
those embeddings, so that examples/python/route_text.py can route a question typed by the user.

    /usr/bin/python3 examples/python/make_text_router.py [--out-dir demo] [--dim 128]
                                                         [--clusters 60] [--n-init 10]

Writes into OUT-DIR:
  embedder-text.npz        the embedder: vocabulary, idf and SVD components as plain arrays (no
                           pickle; text_embedder.TextEmbedder.load reads it with NumPy only)
  router-text.avr          the router (the paper's rule), trained on the training split, its
                           embedder_id naming the embedder
  text-queries-emb.npy     every bundled query embedded (float32), for the example's simulated
                           model calls (the nearest bundled query's recorded outcome)
The bundled embeddings (emb_tfidf_svd384.npy) come from a pipeline whose fitted state was not
kept, so a new question cannot be embedded into their space: the text demo has its own.
"""
import argparse
import gzip
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))  # the in-tree binding, if not installed
sys.path.insert(0, HERE)
import avengers  # noqa: E402
from text_embedder import TextEmbedder  # noqa: E402

DATA = os.path.join(ROOT, "examples", "data", "llmrouter9", "data.jsonl.gz")


def load_texts(path):
    """The query of every line, in line order (the rows of avengers.load_replay)."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line)["query"] for line in f if line.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "demo"))
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--clusters", type=int, default=60)
    ap.add_argument("--top-p", type=int, default=4)
    ap.add_argument("--n-init", type=int, default=10)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()

    replay = avengers.load_replay(args.data)  # models in the command's order, scores, costs
    texts = load_texts(args.data)
    train = replay.rows("train")
    emb = TextEmbedder.fit([texts[i] for i in train], dim=args.dim, seed=0)
    E = emb.transform(texts)
    os.makedirs(args.out_dir, exist_ok=True)
    emb.save(os.path.join(args.out_dir, "embedder-text.npz"))
    np.save(os.path.join(args.out_dir, "text-queries-emb.npy"), E)
    with avengers.Builder(E.shape[1], replay.models) as b:
        b.add_many(E[train], replay.scores[train], replay.costs[train])
        r = b.fit(n_clusters=args.clusters, top_p=args.top_p, n_init=args.n_init, seed=args.seed,
                  embedder_id=emb.id)
    r.set_meta("embedder_file", "embedder-text.npz")
    path = os.path.join(args.out_dir, "router-text.avr")
    r.save(path)
    print("wrote %s (%d terms -> %d dimensions), %s (%d clusters, %d models, %d training "
          "queries) and text-queries-emb.npy" % (
              os.path.join(args.out_dir, "embedder-text.npz"), len(emb.vocabulary), emb.dim,
              path, r.n_clusters, r.n_models, len(train)))


if __name__ == "__main__":
    main()
