#!/usr/bin/python3
"""Cut the small real fixture under tests/data/llm9/ from the bundled llmrouter9 data.

A deterministic sample (numpy seed 0) of 1,200 queries keeps the tests fast and independent of
../shared. Models are in sorted name order. Outputs: data.jsonl.gz (the original lines), emb.npy
(TF-IDF-SVD 384-d float32), glove.npy (100-d float32), scores.npy and costs.npy (n x m float32),
split.npy (uint8, 1 = train), models.txt (one name per line).
"""
import gzip, json, os, sys
import numpy as np

SRC = os.path.join(os.path.dirname(__file__), "..", "examples", "data", "llmrouter9")
DST = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "llm9")
N = 1200

def main():
    os.makedirs(DST, exist_ok=True)
    with gzip.open(os.path.join(SRC, "data.jsonl.gz"), "rt", encoding="utf-8") as f:
        lines = [l for l in f.read().split("\n") if l]
    rows = [json.loads(l) for l in lines]
    models = sorted(rows[0]["scores"])
    idx = np.sort(np.random.default_rng(0).choice(len(rows), size=N, replace=False))
    emb = np.load(os.path.join(SRC, "emb_tfidf_svd384.npy"))[idx]
    glove = np.load(os.path.join(SRC, "emb_glove100.npy"))[idx]
    scores = np.array([[rows[i]["scores"][m] for m in models] for i in idx], dtype=np.float32)
    costs = np.array([[rows[i]["costs"][m] for m in models] for i in idx], dtype=np.float32)
    split = np.array([1 if rows[i]["split"] == "train" else 0 for i in idx], dtype=np.uint8)
    np.save(os.path.join(DST, "emb.npy"), np.ascontiguousarray(emb, dtype=np.float32))
    np.save(os.path.join(DST, "glove.npy"), np.ascontiguousarray(glove, dtype=np.float32))
    np.save(os.path.join(DST, "scores.npy"), scores)
    np.save(os.path.join(DST, "costs.npy"), costs)
    np.save(os.path.join(DST, "split.npy"), split)
    with open(os.path.join(DST, "models.txt"), "w") as f:
        f.write("\n".join(models) + "\n")
    with gzip.GzipFile(os.path.join(DST, "data.jsonl.gz"), "wb", mtime=0) as f:
        f.write(("\n".join(lines[i] for i in idx) + "\n").encode("utf-8"))
    print(f"{N} rows, {len(models)} models, {split.sum()} train -> {DST}")

if __name__ == "__main__":
    sys.exit(main())
