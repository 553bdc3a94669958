#!/usr/bin/python3
"""Route new text end to end: question -> embedding -> route (with the explanation) -> the model
call (SIMULATED) -> graded outcome -> feedback -> save.

    /usr/bin/python3 examples/python/route_text.py [--alpha 0.5] [--json] "How many primes ..." ...
    echo "a question per line" | /usr/bin/python3 examples/python/route_text.py

Reads the demo built by examples/python/make_text_router.py (`make demo-text`): the embedder
(demo/embedder-text.npz, TF-IDF + SVD, loaded with NumPy only), the router trained on those
embeddings (demo/router-text.avr) and the bundled queries embedded alike. libavengers does no
embedding: the example embeds, the library routes and learns.

No model is called. The simulated answer is graded with what the routed model actually scored
(and cost) on the bundled query most similar to the question (cosine of the embeddings), as the
bundled data recorded it; that outcome goes back to the router as feedback (av_profile_update),
and the updated router is written to --out (demo/router-text-updated.avr), never over the input.
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


def load_bundled(data):
    """The bundled queries' ids and texts, in line order."""
    with gzip.open(data, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [r.get("id", str(i)) for i, r in enumerate(rows)], [r["query"] for r in rows]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("questions", nargs="*", help="questions (default: one per line on stdin)")
    ap.add_argument("--demo", default=os.path.join(ROOT, "demo"),
                    help="directory of make_text_router.py's files (default demo/)")
    ap.add_argument("--data", default=DATA, help="the bundled data (the simulation's outcomes)")
    ap.add_argument("--alpha", type=float, default=0.5, help="performance weight (0..1)")
    ap.add_argument("--out", help="updated router (default DEMO/router-text-updated.avr)")
    ap.add_argument("--json", action="store_true", help="one JSON object per question")
    args = ap.parse_args()

    questions = args.questions or [l.strip() for l in sys.stdin if l.strip()]
    if not questions:
        ap.error("no question given")
    emb = TextEmbedder.load(os.path.join(args.demo, "embedder-text.npz"))
    router = avengers.Router.load(os.path.join(args.demo, "router-text.avr"))
    if router.metadata.get("embedder_id") != emb.id:
        sys.exit("route_text: the router expects embedder %r, the file is %r"
                 % (router.metadata.get("embedder_id"), emb.id))
    bundled = np.load(os.path.join(args.demo, "text-queries-emb.npy"))
    replay = avengers.load_replay(args.data)  # scores and costs, models in the command's order
    ids, texts = load_bundled(args.data)
    col = [replay.models.index(m) for m in router.models]  # router model -> data column

    E = emb.transform(questions)
    for q, e in zip(questions, E):
        if not np.any(e):
            print("skipped (no known word): %s" % q, file=sys.stderr)
            continue
        # 1. route, with the explanation
        res = router.route_ex(e, args.alpha, embedder_id=emb.id)
        m = res.model
        # 2. the SIMULATED call: the routed model's recorded outcome on the nearest bundled query
        near = int(np.argmax(bundled @ e))
        score = float(replay.scores[near, col[m]])
        cost = float(replay.costs[near, col[m]])
        # 3. feedback: the graded outcome goes back into the router's statistics
        router.profile_update(e, m, score, cost)
        if args.json:
            print(json.dumps({"question": q, "alpha": args.alpha, "model": m,
                              "model_name": res.model_name,
                              "ranked": [router.models[i] for i in res.ranked],
                              "expected_score": float(res.expected_score[m]),
                              "expected_cost": float(res.expected_cost[m]),
                              "clusters": [int(c) for c in res.clusters],
                              "nearest_id": ids[near],
                              "similarity": float(bundled[near] @ e),
                              "score": score, "cost": cost}))
            continue
        print("question: %s" % q)
        print("  routed to %s at alpha %g (expected score %.3f, cost %.3g; then %s)" % (
            res.model_name, args.alpha, res.expected_score[m], res.expected_cost[m],
            ", ".join(router.models[i] for i in res.ranked[1:4])))
        print("  clusters %s, similarity to the nearest centroid %.3f" % (
            ", ".join(str(c) for c in res.clusters), res.best_similarity))
        print("  SIMULATED call: graded by %s's recorded outcome on the most similar bundled "
              "query %s (cosine %.3f): %r" % (res.model_name, ids[near], bundled[near] @ e,
                                              texts[near][:70]))
        print("  outcome score %g, cost %.3g -> av_profile_update" % (score, cost))
    out = args.out or os.path.join(args.demo, "router-text-updated.avr")
    router.save(out)
    if not args.json:
        print("wrote %s (the router with this feedback)" % out)


if __name__ == "__main__":
    main()
