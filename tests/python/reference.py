"""An independent numpy implementation of the paper's routing rule (ARCHITECTURE.md, "Routing
semantics"), computed from a router's centroids and statistics as exposed by the API. Used to
check the library's decisions rather than comparing the library with itself."""
import numpy as np


def tables(router):
    k, m = router.n_clusters, router.n_models
    C = router.centroids().astype(np.float64)
    n = np.zeros((k, m))
    s = np.zeros((k, m))
    c = np.zeros((k, m))
    for j in range(k):
        for i in range(m):
            n[j, i], s[j, i], c[j, i] = router.cluster_stats(j, i)
    g_n = n.sum(0)
    g_score, g_cost = s.sum(0) / g_n, c.sum(0) / g_n
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n > 0, s / np.where(n > 0, n, 1), g_score)
        q = np.where(n > 0, c / np.where(n > 0, n, 1), g_cost)

    def minmax(x):
        lo, hi = x.min(1, keepdims=True), x.max(1, keepdims=True)
        span = hi - lo
        return np.where(span > 0, (x - lo) / np.where(span > 0, span, 1), 0.0)

    return C, minmax(p), 1.0 - minmax(q), g_cost


def route(router, emb, alpha, tabs=None):
    """(decisions, ambiguous): ambiguous[r] is True when the row sits within float noise of a
    top-p boundary or a score tie, where float32 kernels may legitimately decide differently."""
    C, pn, qn, g_cost = tabs or tables(router)
    P = router.top_p
    X = emb.astype(np.float64)
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    sims = X @ C.T
    out = np.empty(len(X), dtype=np.int64)
    amb = np.zeros(len(X), dtype=bool)
    x = alpha * pn + (1 - alpha) * qn
    for r in range(len(X)):
        order = sorted(range(C.shape[0]), key=lambda j: (-sims[r, j], j))
        top = order[:P]
        if len(order) > P and sims[r, order[P - 1]] - sims[r, order[P]] < 1e-5:
            amb[r] = True
        tot = x[top].sum(0)
        best = max(range(len(tot)), key=lambda i: (tot[i], -g_cost[i], -i))
        srt = np.sort(tot)
        if len(srt) > 1 and abs(tot[best] - np.partition(tot, -2)[-2]) < 1e-9 and \
                (tot == tot[best]).sum() == 1:
            amb[r] = True
        out[r] = best
    return out, amb
