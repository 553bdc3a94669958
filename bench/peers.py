#!/usr/bin/python3
"""Peers of libavengers measured the way their users would run them, one JSON object per line.

  peers.py --prep OUTDIR   write llm9_emb.npy / llm9_scores.npy / llm9_costs.npy (all 5,989
                           llmrouter9 queries, TF-IDF-SVD 384-d, models in sorted name order)
  peers.py OUTDIR          numpy single and batch routing as the reference implementation does it
                           (q @ C.T, top-p, score sum, argmax), faiss IndexFlatIP search + the same
                           scoring, scikit-learn KMeans and faiss Kmeans on llmrouter9.

Shapes and statistics mirror bench/bench.c (random unit centroids, m=8, p=4, alpha=0.5); numpy's
BLAS is whatever /usr/bin/python3's numpy loads (reported in the env line).
"""
import gzip, json, os, sys, time
import numpy as np

REPEATS = 15
M, P = 8, 4
N_QUERIES = 64
BATCH_N = 4096
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "examples", "data", "llmrouter9")


def emit(**kw):
    kw["src"] = "peer"
    print(json.dumps(kw), flush=True)


def stats(v):
    v = np.sort(np.asarray(v))
    n = len(v)
    return float(v[n // 2]), float(v[n // 4]), float(v[(3 * n) // 4])


def time_loop(fn, target=0.003):
    iters = 1
    while True:
        t0 = time.perf_counter()
        for i in range(iters):
            fn(i)
        if time.perf_counter() - t0 > target / 4 or iters > 1 << 20:
            break
        iters *= 2
    iters *= 4
    out = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        for i in range(iters):
            fn(i)
        out.append((time.perf_counter() - t0) / iters * 1e9)
    return stats(out)


def unit_rows(rng, n, d):
    a = rng.standard_normal((n, d)).astype(np.float32)
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def table(rng, k):
    """The paper's normalised table: per cluster min-max normalised mean score and 1 - cost."""
    p = rng.random((k, M))
    q = rng.random((k, M))
    pn = (p - p.min(1, keepdims=True)) / (p.max(1, keepdims=True) - p.min(1, keepdims=True))
    qn = (q - q.min(1, keepdims=True)) / (q.max(1, keepdims=True) - q.min(1, keepdims=True))
    return pn, 1.0 - qn


def np_route(q, C, pn, cn, alpha):
    q = q / np.linalg.norm(q)
    sims = q @ C.T
    top = np.argpartition(-sims, P - 1)[:P]
    top = top[np.argsort(-sims[top], kind="stable")]
    x = alpha * pn[top] + (1.0 - alpha) * cn[top]
    return int(np.argmax(x.sum(0)))


def np_route_batch(Q, C, pn, cn, alpha):
    Qn = Q / np.linalg.norm(Q, axis=1, keepdims=True)
    S = Qn @ C.T
    top = np.argpartition(-S, P - 1, axis=1)[:, :P]
    x = alpha * pn + (1.0 - alpha) * cn
    return np.argmax(x[top].sum(1), axis=1)


def single_and_batch():
    import faiss
    rng = np.random.default_rng(7)
    for d in (384, 1024, 4096):
        for k in (64, 256):
            C = unit_rows(rng, k, d)
            Q = unit_rows(rng, N_QUERIES, d)
            pn, cn = table(rng, k)
            med, q1, q3 = time_loop(lambda i: np_route(Q[i % N_QUERIES], C, pn, cn, 0.5))
            emit(bench="route", backend="numpy", type="f32", d=d, k=k, m=M, p=P, median=med,
                 q1=q1, q3=q3, unit="ns")
            index = faiss.IndexFlatIP(d)
            index.add(C)
            x = 0.5 * pn + 0.5 * cn

            def fr(i):
                q = Q[i % N_QUERIES:i % N_QUERIES + 1]
                q = q / np.linalg.norm(q)
                _, I = index.search(q, P)
                return int(np.argmax(x[I[0]].sum(0)))
            med, q1, q3 = time_loop(fr)
            emit(bench="route", backend="faiss", type="f32", d=d, k=k, m=M, p=P, median=med,
                 q1=q1, q3=q3, unit="ns")
    d, k = 4096, 64
    C = unit_rows(rng, k, d)
    Q = unit_rows(rng, BATCH_N, d)
    pn, cn = table(rng, k)
    v = []
    for _ in range(5):
        t0 = time.perf_counter()
        np_route_batch(Q, C, pn, cn, 0.5)
        v.append((time.perf_counter() - t0) / BATCH_N * 1e9)
    med, q1, q3 = stats(v)
    emit(bench="batch", backend="numpy", type="f32", d=d, k=k, m=M, p=P, median=med, q1=q1,
         q3=q3, unit="ns/query")


def kmeans_peers(outdir):
    from sklearn.cluster import KMeans
    import faiss
    X = np.load(os.path.join(outdir, "llm9_emb.npy"))
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    v, inertia = [], None
    for rep in range(2):
        t0 = time.perf_counter()
        km = KMeans(n_clusters=60, n_init=10, max_iter=300, tol=1e-4, random_state=42,
                    algorithm="lloyd").fit(X)
        v.append((time.perf_counter() - t0) * 1e3)
        inertia = float(km.inertia_)
    med, q1, q3 = stats(v)
    emit(bench="train", backend="sklearn", type="f32", d=X.shape[1], k=60, median=med, q1=q1,
         q3=q3, unit="ms", inertia=inertia, n_init=10)
    # faiss runs every iteration it is given (no tolerance test): 25 iterations, about what
    # scikit-learn needs on this data, with the same 10 restarts.
    t0 = time.perf_counter()
    fk = faiss.Kmeans(X.shape[1], 60, niter=25, nredo=10, seed=42)
    fk.train(X)
    t = (time.perf_counter() - t0) * 1e3
    D, _ = fk.index.search(X, 1)
    emit(bench="train", backend="faiss", type="f32", d=X.shape[1], k=60, median=t, q1=t, q3=t,
         unit="ms", inertia=float(D.sum()), n_init=10, niter=25)


def prep(outdir):
    os.makedirs(outdir, exist_ok=True)
    with gzip.open(os.path.join(DATA, "data.jsonl.gz"), "rt", encoding="utf-8") as f:
        rows = [json.loads(l) for l in f if l.strip()]
    models = sorted(rows[0]["scores"])
    S = np.array([[r["scores"][m] for m in models] for r in rows], dtype=np.float32)
    Cc = np.array([[r["costs"][m] for m in models] for r in rows], dtype=np.float32)
    E = np.load(os.path.join(DATA, "emb_tfidf_svd384.npy")).astype(np.float32)
    np.save(os.path.join(outdir, "llm9_emb.npy"), np.ascontiguousarray(E))
    np.save(os.path.join(outdir, "llm9_scores.npy"), S)
    np.save(os.path.join(outdir, "llm9_costs.npy"), Cc)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--prep":
        return prep(sys.argv[2])
    outdir = sys.argv[1]
    try:
        from threadpoolctl import threadpool_info
        blas = [(i.get("internal_api"), i.get("architecture"), i.get("num_threads"))
                for i in threadpool_info()]
    except Exception:  # threadpoolctl is optional
        blas = []
    emit(bench="env", numpy=np.__version__, blas=str(blas))
    only = sys.argv[2] if len(sys.argv) > 2 else ""
    if not only or "single" in only or "batch" in only:
        single_and_batch()
    if not only or "llm9" in only:
        kmeans_peers(outdir)


if __name__ == "__main__":
    sys.exit(main())
