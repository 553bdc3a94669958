#!/usr/bin/python3
"""Seed corpora for the CLI reader fuzz targets (tests/fuzz/fuzz_jsonl.c, fuzz_npy.c), from the
bundled llmrouter9 fixture. Run from the repository root by `make fuzz-seeds`; the output under
tests/fuzz/corpus/{jsonl,npy}/ is committed. Deterministic."""
import gzip
import io
import json
import os

import numpy as np

ROOT = "tests/fuzz/corpus"
DATA = "tests/data/llm9"


def write(target, name, data):
    with open(os.path.join(ROOT, target, name), "wb") as f:
        f.write(data)


def jsonl_seeds():
    with gzip.open(os.path.join(DATA, "data.jsonl.gz"), "rt", encoding="utf-8") as f:
        lines = [json.loads(next(f)) for _ in range(3)]
    # short queries keep the seeds small; the fields and model names are the real ones
    for r in lines:
        r["query"] = r["query"][:40]
    ours = [json.dumps(r, separators=(",", ":")) for r in lines]
    write("jsonl", "avengers_3.jsonl", ("\n".join(ours) + "\n").encode())
    write("jsonl", "avengers_1_crlf.jsonl", (ours[0] + "\r\n\r\n").encode())
    split = []
    for i, r in enumerate(lines):
        r = dict(r, split="train" if i % 2 == 0 else "test")
        split.append(json.dumps(r))
    write("jsonl", "avengers_split.jsonl", ("\n".join(split) + "\n").encode())
    r = dict(lines[0])
    first = sorted(r["scores"])[0]
    r["scores"] = dict(r["scores"], **{first: None})
    r["costs"] = dict(r["costs"], **{first: None})
    write("jsonl", "avengers_null.jsonl", (json.dumps(r) + "\n").encode())
    pro = []
    for i, r in enumerate(lines):
        pro.append(json.dumps({
            "query": r["query"], "dataset": r.get("benchmark", "x"), "index": i,
            "records": r["scores"],
            "usages": {m: {"cost": c, "prompt_tokens": 1, "completion_tokens": 0}
                       for m, c in r["costs"].items()}}))
    write("jsonl", "avengerspro_3.jsonl", ("\n".join(pro) + "\n").encode())
    write("jsonl", "truncated.jsonl", ("\n".join(ours)).encode()[:300])


def npy_bytes(a, version=None):
    buf = io.BytesIO()
    if version is None:
        np.save(buf, a)
    else:
        np.lib.format.write_array(buf, a, version=version)
    return buf.getvalue()


def npy_seeds():
    emb = np.load(os.path.join(DATA, "glove.npy"))[:3, :8].astype("<f4")
    write("npy", "f4_3x8.npy", npy_bytes(emb))
    write("npy", "f8_3x8.npy", npy_bytes(emb.astype("<f8")))
    write("npy", "f4_v2.npy", npy_bytes(emb, version=(2, 0)))
    write("npy", "f4_fortran.npy", npy_bytes(np.asfortranarray(emb)))
    write("npy", "f4_1d.npy", npy_bytes(emb[0]))
    write("npy", "u1.npy", npy_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3)))
    write("npy", "f4_truncated.npy", npy_bytes(emb)[:-5])
    # for the raw reader: first byte picks dim = 1 + b % 16 -> 8
    write("npy", "raw_dim8.f32", bytes([7]) + emb.tobytes())


if __name__ == "__main__":
    jsonl_seeds()
    npy_seeds()
